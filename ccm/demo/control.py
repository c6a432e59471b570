"""A control plane ready to use on a demo store: an audit key, an agent registered with a
grant on every node, and a human approver, on a clock the caller moves.

For walkthroughs and notebooks (``notebooks/``): every step goes through the real
controller, policy, audit log and memory. The keys are made for the session
(``Signer.ephemeral``) unless given.

>>> ctl = demo_control(store, now=parse_time("2026-03-05T10:00:00Z"))        # doctest: +SKIP
>>> rec = ctl.propose("deploy", "service:productcatalogservice", {"version": "v2"})  # doctest: +SKIP
>>> rec.verdict.decision                                                        # doctest: +SKIP
'proceed'
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ccm.actions.executors import CommandExecutor
from ccm.actions.impact import engine_action
from ccm.actions.lifecycle import Controller
from ccm.actions.records import ActionRecord
from ccm.audit.keys import Signer
from ccm.audit.log import Actor
from ccm.engine import action_prior
from ccm.errors import ConfigError
from ccm.policy.config import Policy
from ccm.policy.controls import grant, register_identities
from ccm.policy.identities import IdentityRecord
from ccm.policy.proposal import Proposal, approval_payload
from ccm.store import Store
from graph_schema.timeutil import ManualClock

__all__ = ["AGENT", "APPROVER", "DemoControl", "demo_control"]

AGENT = "demo-bot"
APPROVER = "sre-on-call"
MODEL, MODEL_VERSION = "demo-model", "1"
DAY = 24 * 3600 * 1_000_000
#: the demo's executor: a local command that reads the request and changes nothing
NO_OP = [sys.executable, "-c", "import sys; sys.stdin.read()"]


@dataclass
class DemoControl:
    """The controller with the demo's agent and approver (see the module docstring)."""

    controller: Controller
    clock: ManualClock
    agent_key: Signer
    approver_key: Signer
    tenant: str = "default"

    def proposal(self, action: str, target: str, inputs: Mapping[str, Any] | None = None, *,
                 nonce: str = "", reason: str = "") -> Proposal:
        """A proposal by the demo agent, made now and signed with its key."""
        return Proposal(action, target, dict(inputs or {}), AGENT, MODEL, MODEL_VERSION,
                        tenant=self.tenant, created_at=self.clock(), nonce=nonce,
                        reason=reason).signed(self.agent_key)

    def propose(self, action: str, target: str, inputs: Mapping[str, Any] | None = None, *,
                nonce: str = "", reason: str = "") -> ActionRecord:
        """Propose as the demo agent: the record with its verdict and predicted impact."""
        return self.controller.propose(self.proposal(action, target, inputs, nonce=nonce,
                                                     reason=reason))

    def approve(self, action_id: str, note: str = "") -> ActionRecord:
        """Approve as the human approver, with a signed approval."""
        rec = self.controller.get(action_id)
        payload = approval_payload(action_id, rec.doc["digest"], APPROVER)
        return self.controller.approve(action_id, APPROVER, note=note,
                                       signature=self.approver_key.sign(payload))

    def p_fail(self, action: str, target: str, inputs: Mapping[str, Any] | None = None
               ) -> float:
        """The engine's p(fail) for this action now, with the tenant's memory as priors
        (what the next proposal of it would be told)."""
        spec = self.controller.registry.get(action)
        if spec is None:
            raise ConfigError(f"action {action!r} is not in the registry")
        proposal = Proposal(action, target, dict(inputs or {}), AGENT)
        priors = self.controller.memory(self.tenant).priors(self.clock())
        return action_prior(engine_action(proposal, spec), priors=priors)


def demo_control(store: Store, *, now: int, policy: Policy | None = None,
                 audit_key: Signer | None = None, agent_key: Signer | None = None,
                 approver_key: Signer | None = None, tenant: str = "default") -> DemoControl:
    """Set up the demo's control plane on ``store`` at time ``now``: register the agent
    (``demo-bot``, trusted in the internal and public zones) and the human approver
    (``sre-on-call``), grant the agent every action on every node for 30 days, and
    return the controller (real policy, audit log, memory; a no-op executor)."""
    clock = ManualClock(now)
    keys = (audit_key or Signer.ephemeral(), agent_key or Signer.ephemeral(),
            approver_key or Signer.ephemeral())
    ctl = Controller(store, policy=policy, signer=keys[0], clock=clock,
                     executor=CommandExecutor(NO_OP))
    admin = Actor(APPROVER, "human")
    register_identities(store, ctl.audit, [
        IdentityRecord(AGENT, "agent", keys[1].public_b64, MODEL, MODEL_VERSION,
                       ("internal", "public")),
        IdentityRecord(APPROVER, "human", keys[2].public_b64)], by=admin, now=now)
    grant(store, ctl.audit, agent=AGENT, actions=["*"], targets=["*"],
          expires_at=now + 30 * DAY, by=admin, now=now, reason="demo walkthrough")
    return DemoControl(ctl, clock, keys[1], keys[2], tenant)
