"""Shared setup for the control-plane tests: a small production graph, fixed keys,
registered identities, a grant, and a predictor that returns a given impact.

Keys are derived from fixed seeds (no randomness in fixtures).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from typing import Any

from ccm.actions.lifecycle import Controller
from ccm.audit.keys import Signer
from ccm.audit.log import Actor
from ccm.policy import ImpactSummary, load_policy
from ccm.policy.controls import grant
from ccm.policy.identities import IdentityRecord, put_identity
from ccm.policy.proposal import Proposal, approval_payload
from graph_schema import EdgeFact, NodeFact, parse_time
from graph_schema.timeutil import ManualClock

D0 = parse_time("2026-03-01T00:00:00Z")
HOUR = 3600 * 1_000_000
ADMIN = Actor("root", "human")


def key(seed: str) -> Signer:
    """A fixed Ed25519 key for ``seed``."""
    return Signer.from_b64(__import__("base64").b64encode(
        hashlib.sha256(seed.encode()).digest()).decode())


AUDIT_KEY = key("audit")
AGENT_KEY = key("agent:deploy-bot")
OTHER_AGENT_KEY = key("agent:other-bot")
ALICE_KEY = key("human:alice")
BOB_KEY = key("human:bob")
CAROL_KEY = key("human:carol")


def topology() -> list:
    """frontend (public, entrypoint) -> cart -> redis, orders-db; frontend -> catalog; and
    frontend -> reviews, a soft dependency with a fallback (all internal but frontend)."""
    return [
        NodeFact("zone", "public", {"trust": "public"}, D0),
        NodeFact("zone", "internal", {"trust": "internal"}, D0),
        NodeFact("service", "frontend", {"entrypoint": True, "rps": 100.0, "tier": "critical",
                                         "zone": "public"}, D0),
        NodeFact("service", "cart", {"tier": "high", "zone": "internal"}, D0),
        NodeFact("service", "catalog", {"zone": "internal"}, D0),
        NodeFact("cache", "redis", {}, D0),
        NodeFact("datastore", "orders-db", {"zone": "internal"}, D0),
        NodeFact("service", "reviews", {"zone": "internal"}, D0),
        EdgeFact("IN_ZONE", "cache:redis", "zone:internal", {}, D0),
        EdgeFact("DEPENDS_ON", "service:frontend", "service:cart", {"hard": True}, D0),
        EdgeFact("DEPENDS_ON", "service:frontend", "service:catalog", {"hard": True}, D0),
        EdgeFact("DEPENDS_ON", "service:cart", "cache:redis", {"timeout_ms": 50.0}, D0),
        EdgeFact("DEPENDS_ON", "service:cart", "datastore:orders-db", {}, D0),
        EdgeFact("DEPENDS_ON", "service:frontend", "service:reviews",
                 {"hard": False, "fallback": True}, D0),
    ]


def identities() -> list[IdentityRecord]:
    return [
        IdentityRecord("deploy-bot", "agent", AGENT_KEY.public_b64, "claude", "4.5",
                       ("internal",), {"action_mix": {"config_change": 0.5, "restart": 0.3,
                                                      "deploy": 0.2},
                                       "max_plan_length": 5, "calls_per_minute": 10}),
        IdentityRecord("other-bot", "agent", OTHER_AGENT_KEY.public_b64, "gpt", "5"),
        IdentityRecord("alice", "human", ALICE_KEY.public_b64),
        IdentityRecord("bob", "human", BOB_KEY.public_b64),
        IdentityRecord("carol", "human", CAROL_KEY.public_b64),
    ]


def quiet_impact(p_fail: float = 0.01) -> ImpactSummary:
    return ImpactSummary(p_fail=p_fail, node_probabilities={"service:cart": p_fail})


def wide_impact() -> ImpactSummary:
    return ImpactSummary(p_fail=0.3, services_p95=3, traffic_p95=0.6, traffic_mean=0.2,
                         node_probabilities={"service:cart": 0.3, "service:frontend": 0.25})


@dataclass
class FixedPredictor:
    """Returns ``impact`` for every action (and remembers the priors it was given)."""

    impact: ImpactSummary | None = field(default_factory=quiet_impact)
    calls: list[Any] = field(default_factory=list)

    def __call__(self, store, proposal, spec, priors, at):  # type: ignore[no-untyped-def]
        self.calls.append((proposal.action, proposal.target, priors))
        return self.impact


def setup_store(store: Any, clock: Any, *, grant_all: bool = True) -> None:
    clock.now = D0 + HOUR
    store.write(topology())
    for ident in identities():
        put_identity(store, ident)
    if grant_all:
        from ccm.audit.log import AuditLog
        grant(store, AuditLog(store, AUDIT_KEY, clock), agent="deploy-bot", actions=["*"],
              targets=["*"], expires_at=clock() + 240 * HOUR, by=ADMIN, now=clock())


def controller(store: Any, clock: Any, *, policy: Any = None, predictor: Any = None,
               signer: Signer | None = AUDIT_KEY, **kw: Any) -> Controller:
    return Controller(store, policy=policy or load_policy(), signer=signer, clock=clock,
                      predictor=predictor if predictor is not None else FixedPredictor(),
                      **kw)


def proposal(clock: Any, action: str = "restart", target: str = "service:cart",
             inputs: dict | None = None, signer: Signer | None = AGENT_KEY,
             **kw: Any) -> Proposal:
    fields = {"agent": "deploy-bot", "model": "claude", "model_version": "4.5",
              "created_at": clock(), **kw}
    p = Proposal(action, target, inputs or {}, **fields)
    return p.signed(signer) if signer else p


def config_change(clock: Any, target: str = "service:cart", value: str = "50",
                  **kw: Any) -> Proposal:
    return proposal(clock, "config_change", target,
                    {"key": "REDIS_TIMEOUT_MS", "value": value, "previous_value": "500"}, **kw)


def signed_approval(ctl: Controller, action_id: str, who: str, signer: Signer) -> str:
    rec = ctl.get(action_id)
    return signer.sign(approval_payload(action_id, rec.doc["digest"], who))


def with_rules(policy: Any, *types: str) -> Any:
    """The policy with only rules of the given types."""
    return replace(policy, rules=tuple(r for r in policy.rules if r.type in types))


# -- pure evaluation contexts for rule tests ---------------------------------------------------
NOW = D0 + HOUR


def context(p: Proposal | None = None, *, impact: ImpactSummary | None = None,
            phase: str = "propose", now: int = NOW, proposed_at: int | None = None,
            action_id: str | None = None, **state: Any) -> Any:
    """An EvalContext for ``p`` (default: deploy-bot restarts service:cart) with the
    default registry's spec and a PolicyState built from ``state``."""
    from ccm.policy import EvalContext, PolicyState
    from ccm.policy.registry import load_registry

    p = p or proposal(ManualClock(now))
    state.setdefault("identity", identities()[0])
    state.setdefault("audit_ready", True)
    return EvalContext(p, action_id or p.action_id, load_registry().get(p.action), impact,
                       PolicyState(**state), now, now if proposed_at is None else proposed_at,
                       phase)


def at(t: int) -> ManualClock:
    return ManualClock(t)


# -- a real executor that records what it was asked to do -------------------------------------
_RECORDER = """
import json, sys
req = json.load(sys.stdin)
with open(sys.argv[1], "a") as fh:
    fh.write(json.dumps(req) + "\\n")
if req["inputs"].get("value") == "explode":
    sys.exit(4)
"""

_PROBE = """
import json, sys
print(json.dumps({"healthy": sys.argv[1] == "ok", "observed_impacted": sys.argv[2:]}))
"""


def recorder(path: Any) -> Any:
    """A CommandExecutor (a real process) appending each request to ``path``; a
    config_change to the value "explode" exits 4 (a failed execution)."""
    import sys

    from ccm.actions.executors import CommandExecutor

    return CommandExecutor([sys.executable, "-c", _RECORDER, str(path)])


def runs(path: Any) -> list[dict]:
    import json
    from pathlib import Path

    p = Path(path)
    return [json.loads(line) for line in p.read_text().splitlines()] if p.exists() else []


def probe(healthy: bool, *impacted: str) -> Any:
    """A health probe (a real process) reporting ``healthy`` and impacted nodes."""
    import sys

    from ccm.actions.executors import CommandExecutor, ProbeHealthCheck

    return ProbeHealthCheck(CommandExecutor([sys.executable, "-c", _PROBE,
                                             "ok" if healthy else "bad", *impacted]))
