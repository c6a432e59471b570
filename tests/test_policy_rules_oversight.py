"""Kill switches, quorum gates, drift detection, earned autonomy."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ccm.policy import Switch
from ccm.policy.rules import DriftDetection, EarnedAutonomy, KillSwitch, QuorumGate
from tests.controlkit import NOW, at, context, identities, proposal

CLOCK = at(NOW)
MIN = 60 * 1_000_000


# -- kill switch -------------------------------------------------------------------------------
@pytest.mark.parametrize("scope", ["global", "service:cart", "agent:deploy-bot",
                                   "action:restart"])
def test_a_pause_at_any_matching_scope_refuses(scope):
    sw = {scope: Switch(scope, paused=True, by="alice", reason="incident", at=NOW)}
    r = KillSwitch().evaluate(context(switches=sw))
    assert r.decision == "refuse" and f"paused ({scope}) by alice" in r.reason


@pytest.mark.parametrize("scope", ["service:frontend", "agent:other-bot", "action:deploy"])
def test_a_pause_elsewhere_does_not_apply(scope):
    r = KillSwitch().evaluate(context(switches={scope: Switch(scope, paused=True)}))
    assert r.decision == "proceed" and "no kill switch" in r.reason


def test_dry_run_mode_proceeds_without_executing_for_real():
    r = KillSwitch().evaluate(context(switches={"global": Switch("global", dry_run=True)}))
    assert r.decision == "proceed" and r.data["dry_run"] is True


# -- quorum ------------------------------------------------------------------------------------
def test_high_risk_needs_a_quorum_and_low_risk_does_not():
    assert QuorumGate().evaluate(context()).decision == "proceed"
    p = proposal(CLOCK, "infra_change", "service:cart", {"resource": "r", "change": "c"})
    r = QuorumGate().evaluate(context(p))
    assert r.decision == "review" and r.needs.approvals == 2
    r = QuorumGate(approvals={"high": 3}, human=True).evaluate(context(p))
    assert r.needs.approvals == 3 and r.needs.human


# -- drift detection -----------------------------------------------------------------------------
def activity(actions: list[str], spacing: int = MIN) -> list[dict]:
    return [{"t": NOW - (len(actions) - i) * spacing, "action": a, "id": f"act-{i}"}
            for i, a in enumerate(actions)]


def test_behaviour_within_the_declaration_proceeds():
    mix = ["config_change"] * 5 + ["restart"] * 3 + ["deploy"] * 2
    r = DriftDetection().evaluate(context(activity=activity(mix)))
    assert r.decision == "proceed" and "matches declared behaviour" in r.reason


@pytest.mark.parametrize("p, acts, message", [
    (proposal(CLOCK, "scale", "service:cart", {"replicas": 2, "previous_replicas": 1}), [],
     "scale is not in its declared action mix"),
    (proposal(CLOCK, plan_length=9, step=1), [], "plan of 9 steps, declared at most 5"),
    (proposal(CLOCK), activity(["restart"] * 20, spacing=2_000_000),
     "calls in the last minute, declared 10/min"),
    (proposal(CLOCK), activity(["restart"] * 12, spacing=3 * MIN),
     "action mix differs from the declared one"),
])
def test_a_deviation_needs_review_and_raises_an_alarm(p, acts, message):
    r = DriftDetection().evaluate(context(p, activity=acts))
    assert r.decision == "review" and message in r.reason
    assert r.data["alarm"] is True


def test_an_agent_that_declared_nothing_is_not_compared():
    ident = replace(identities()[0], declared={})
    assert DriftDetection().evaluate(context(identity=ident)).decision == "proceed"


# -- earned autonomy -------------------------------------------------------------------------------
def test_the_initial_level_follows_the_risk_class():
    rule = EarnedAutonomy()
    assert rule.evaluate(context()).decision == "proceed"  # restart: low -> autonomous
    cfg = proposal(CLOCK, "config_change", "service:cart",
                   {"key": "K", "value": "1", "previous_value": "2"})
    r = rule.evaluate(context(cfg))
    assert r.decision == "review" and "0/50 clean outcomes to autonomous" in r.reason


def test_advisory_needs_a_human_and_autonomous_needs_nobody():
    rule = EarnedAutonomy()
    r = rule.evaluate(context(autonomy={"level": "advisory", "clean": 7}))
    assert r.decision == "review" and r.needs.human and "7/50" in r.reason
    assert rule.evaluate(context(autonomy={"level": "autonomous"})).decision == "proceed"
