"""The scripted scenario: memory changes the next verdict and the next root-cause analysis
(the real engine, on the demo production, on both backends)."""

from __future__ import annotations

import pytest

from ccm.audit import verify_store
from ccm.cli.demo import demo_data_dir
from ccm.demo.memory_story import TARGET, run_memory_story
from ingest import ingest_paths
from tests.controlkit import AGENT_KEY, AUDIT_KEY


@pytest.fixture
def story(store):
    assert ingest_paths(store, sorted(demo_data_dir().glob("*.jsonl"))).ok
    return store, run_memory_story(store, audit_key=AUDIT_KEY, agent_key=AGENT_KEY)


def test_the_same_change_proceeds_before_its_first_bad_outcome_and_not_after(story):
    _, s = story
    assert s.first.verdict.decision == "proceed" and s.first.state == "approved"
    assert s.second.verdict.decision in ("review", "refuse")
    before, after = s.first.verdict.impact, s.second.verdict.impact
    assert after.p_fail > before.p_fail
    blast = {r.rule: r for r in s.second.verdict.results}["blast_radius"]
    assert blast.decision in ("review", "refuse")


def test_the_bad_outcome_was_reverted_and_remembered(story):
    store, s = story
    assert s.first_closed.state == "closed" and s.first_closed.doc["revert"]["ok"]
    assert s.failures_after == (1.0, 0.0)
    assert s.propagation_after is not None and s.propagation_after > 0.3
    change = store.graph(s.second.doc["proposed_at"]).nodes[f"change:{s.first.id}"]
    assert change.attrs["outcome"] == "unhealthy"


def test_the_rca_of_the_recurring_incident_cites_the_earlier_one(story):
    _, s = story
    top = s.rca.chains[0]
    assert top.root == "change:chg-201" and top.nodes[-1] in (TARGET, "service:frontend")
    assert [m.ref for m in s.seen_before] == ["incident:inc-demo-1"]
    assert s.seen_before[0].describe().startswith(
        "seen before: incident:inc-demo-1 on 2026-03-06 (same root: config_change on "
        "service:recommendationservice")


def test_every_step_of_the_story_is_in_the_signed_audit_log(story):
    store, s = story
    report = verify_store(store, [AUDIT_KEY.public_b64])
    assert report.ok and report.entries >= 15
    kinds = [e["kind"] for _, e in store.read_log("audit") if e["subject"] == s.first.id]
    assert kinds == ["proposal", "verdict", "execution", "executed", "outcome", "revert",
                     "close"]
