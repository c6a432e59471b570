"""A scripted scenario on the demo production that shows memory at work.

An agent changes a configuration key of ``recommendationservice`` (a dependency the
frontend is built to tolerate). CCM lets it proceed; the change turns out badly
(recommendations fail and the frontend is hit), is reverted automatically, and an
SRE resolves the incident. The next day the agent proposes the same change: memory
has raised the change's failure probability and the learned reach of a
recommendation failure into the frontend, and CCM refuses it. Later a person makes
the same change by hand; the root-cause analysis of the alerts that follow finds it
and cites the earlier incident.

:func:`run_memory_story` runs it against a store holding the demo production (the
test suite and ``ccm demo`` share it); every step goes through the library (the
controller, memory, the engine), on an injected clock.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any

from ccm.actions.executors import CommandExecutor
from ccm.actions.lifecycle import Controller
from ccm.actions.records import ActionRecord
from ccm.audit.keys import Signer
from ccm.audit.log import Actor
from ccm.engine import RootCauses, Symptom, root_causes
from ccm.memory.recall import PastIncident
from ccm.policy.controls import grant, register_identities, set_autonomy
from ccm.policy.identities import IdentityRecord
from ccm.policy.proposal import Proposal
from ccm.store import Store
from graph_schema import parse_time
from graph_schema.timeutil import ManualClock
from ingest.alerts import alert_facts
from ingest.changes import change_facts
from ingest.core import Context

TARGET = "service:recommendationservice"
KEY, NEW, OLD = "RECOMMENDER_MODEL", "two-tower-v2", "two-tower-v1"
T1 = parse_time("2026-03-06T10:00:00Z")
T2 = parse_time("2026-03-07T10:00:00Z")
T3 = parse_time("2026-03-09T14:00:00Z")
MINUTE = 60 * 1_000_000
SRE = Actor("sre-on-call", "human")
#: the demo's executor: a local command that reads the request and changes nothing
NO_OP = [sys.executable, "-c", "import sys; sys.stdin.read()"]


@dataclass
class MemoryStory:
    """What happened, step by step (for the demo to print and the tests to check)."""

    first: ActionRecord | None = None
    first_closed: ActionRecord | None = None
    second: ActionRecord | None = None
    failures_after: tuple[float, float] = (0.0, 0.0)
    propagation_after: float | None = None
    rca: RootCauses | None = None
    seen_before: list[PastIncident] = field(default_factory=list)


def _proposal(agent: Signer, at: int, nonce: str) -> Proposal:
    return Proposal("config_change", TARGET, {"key": KEY, "value": NEW, "previous_value": OLD},
                    "shop-bot", "demo-model", "1", created_at=at, nonce=nonce,
                    reason="try the new recommender model").signed(agent)


def _set_up(ctl: Controller, agent: Signer, clock: ManualClock) -> None:
    bot = IdentityRecord("shop-bot", "agent", agent.public_b64, "demo-model", "1",
                         ("internal", "public"))
    register_identities(ctl.store, ctl.audit, [bot], by=SRE, now=clock())
    grant(ctl.store, ctl.audit, agent="shop-bot", actions=["config_change"],
          targets=[TARGET], expires_at=T3 + 24 * 60 * MINUTE, by=SRE, now=clock(),
          reason="demo: the bot tunes recommendations")
    set_autonomy(ctl.store, ctl.audit, tenant="default", action="config_change",
                 target=TARGET, level="autonomous", by=SRE, now=clock())


def _by_hand_then_alerts(store: Store) -> list[Symptom]:
    """A person makes the same change at T3 without CCM; alerts fire 12 minutes later."""
    ctx = Context(store, T3)
    facts: list[Any] = change_facts(
        ctx, change_id="chg-201", time=T3, change_kind="config_change", target=TARGET,
        where="memory story", source="demo-story",
        diff=[{"key": KEY, "old": OLD, "new": NEW}],
        attrs={"author": "a person", "description": "switch the recommender model again"})
    store.write(facts)
    onset = T3 + 12 * MINUTE
    alerts = []
    for i, (svc, signal) in enumerate(((TARGET, "errors"), ("service:frontend", "errors"))):
        alerts += alert_facts(ctx, alert_id=f"story-{i}", starts_at=onset + i * MINUTE,
                              service=svc, signal=signal, where="memory story",
                              source="demo-story", ends_at=onset + 50 * MINUTE,
                              attrs={"alertname": "HighErrorRate", "severity": "page"})
    store.write(alerts)
    return [Symptom(TARGET, "errors", onset), Symptom("service:frontend", "errors",
                                                      onset + MINUTE)]


def run_memory_story(store: Store, *, audit_key: Signer, agent_key: Signer) -> MemoryStory:
    """Run the scenario on ``store`` (the demo production, see the module docstring)."""
    clock = ManualClock(T1 - 60 * MINUTE)
    ctl = Controller(store, signer=audit_key, clock=clock, executor=CommandExecutor(NO_OP))
    _set_up(ctl, agent_key, clock)
    story = MemoryStory()
    clock.now = T1
    story.first = ctl.propose(_proposal(agent_key, T1, "1"))
    if story.first.state == "approved":
        ctl.execute(story.first.id)
        clock.now = T1 + 10 * MINUTE
        story.first_closed = ctl.record_outcome(
            story.first.id, False, observed_impacted=["service:frontend"], by=SRE,
            note="recommendations fail; frontend errors up")
        mem = ctl.memory("default")
        mem.record_incident("inc-demo-1", [f"change:{story.first.id}", TARGET,
                                           "service:frontend"],
                            title="Recommendations down after a model switch",
                            started_at=T1 + 2 * MINUTE, resolved_at=T1 + 40 * MINUTE)
    clock.now = T2
    mem = ctl.memory("default")
    seen = mem.priors(T2).lookup("config_change", TARGET)
    story.failures_after = (seen.alpha, seen.beta) if seen else (0.0, 0.0)
    edge = store.graph(T2).edges.get(f"service:frontend|DEPENDS_ON|{TARGET}")
    story.propagation_after = edge.attrs.get("propagation") if edge else None
    story.second = ctl.propose(_proposal(agent_key, T2, "2"))
    symptoms = _by_hand_then_alerts(store)
    clock.now = T3 + 20 * MINUTE
    story.rca = root_causes(store.snapshot(clock.now), symptoms, k=3,
                            priors=mem.priors(clock.now))
    if story.rca.chains:
        story.seen_before = mem.seen_before(story.rca.chains[0].nodes, at=clock.now)
    return story
