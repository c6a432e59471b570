"""The demo's control plane: a registered agent with a grant, a human approver, memory."""

from __future__ import annotations

import pytest

from ccm.demo.control import AGENT, APPROVER, demo_control
from ccm.demo.production import load_demo
from ccm.errors import ConfigError
from graph_schema import parse_time

AT = parse_time("2026-03-06T08:00:00Z")
DEPLOY = {"version": "v0.10.4", "previous_version": "v0.10.3"}


@pytest.fixture
def ctl(tmp_path):
    store = load_demo(tmp_path / "demo.sqlite")
    yield demo_control(store, now=AT)
    store.close()


def test_the_demo_agent_is_registered_and_granted_so_only_the_policy_decides(ctl):
    rec = ctl.propose("restart", "service:emailservice")
    assert rec.proposal.agent == AGENT and rec.proposal.signature
    assert rec.verdict.decision == "proceed" and rec.state == "approved"
    rules = {r.rule: r.decision for r in rec.verdict.results}
    assert rules["identity_binding"] == rules["sandbox_grants"] == "proceed"
    assert rules["signed_audit"] == "proceed"


def test_an_action_under_review_is_approved_by_the_human_with_a_signature(ctl):
    rec = ctl.propose("deploy", "service:emailservice", DEPLOY)
    assert (rec.verdict.decision, rec.state) == ("review", "evaluated")
    rec = ctl.approve(rec.id)
    assert rec.state == "approved"
    assert len(rec.approvals) == 1 and rec.approvals[0]["by"] == APPROVER
    assert rec.approvals[0]["signed"] is True


def test_p_fail_is_what_the_next_proposal_is_told_and_rises_after_a_failure(ctl):
    before = ctl.p_fail("deploy", "service:emailservice", DEPLOY)
    rec = ctl.approve(ctl.propose("deploy", "service:emailservice", DEPLOY).id)
    assert rec.verdict.impact.p_fail == pytest.approx(before)
    ctl.controller.execute(rec.id)
    ctl.clock.now += 60_000_000
    ctl.controller.record_outcome(rec.id, False)
    assert ctl.p_fail("deploy", "service:emailservice", DEPLOY) > before


def test_p_fail_of_an_unregistered_action_names_it(ctl):
    with pytest.raises(ConfigError, match="teleport"):
        ctl.p_fail("teleport", "service:emailservice")
