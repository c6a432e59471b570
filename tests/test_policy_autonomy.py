"""Earned autonomy: promoted by clean outcomes, demoted by failures."""

from __future__ import annotations

from ccm.policy.autonomy import AUTONOMY, record_outcome, set_level
from ccm.policy.rules import EarnedAutonomy

KEY = "default|config_change|service:cart"


def test_clean_outcomes_promote_one_level_after_the_configured_count(embedded):
    rule = EarnedAutonomy(promote_after=3)
    for i in range(2):
        doc = record_outcome(embedded, rule, "medium", KEY, f"act-{i}", True, i)
    assert (doc["level"], doc["clean"]) == ("review", 2)
    doc = record_outcome(embedded, rule, "medium", KEY, "act-2", True, 3)
    assert (doc["level"], doc["clean"]) == ("autonomous", 0)


def test_a_failure_demotes_one_level_or_to_advisory(embedded):
    rule = EarnedAutonomy()
    set_level(embedded, KEY, "autonomous", 0, "alice")
    doc = record_outcome(embedded, rule, "medium", KEY, "act-1", False, 1)
    assert (doc["level"], doc["failures"], doc["clean"]) == ("review", 1, 0)
    harsh = EarnedAutonomy(demote_to="advisory")
    set_level(embedded, KEY, "autonomous", 2, "alice")
    doc = record_outcome(embedded, harsh, "medium", KEY, "act-2", False, 3)
    assert doc["level"] == "advisory"


def test_the_same_action_counts_once(embedded):
    rule = EarnedAutonomy(promote_after=2)
    record_outcome(embedded, rule, "medium", KEY, "act-1", True, 0)
    doc = record_outcome(embedded, rule, "medium", KEY, "act-1", True, 1)
    assert doc["clean"] == 1
    assert embedded.get_record(AUTONOMY, KEY).rev == 1
