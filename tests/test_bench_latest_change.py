"""Baseline latest_change, on the standard case."""

from __future__ import annotations

from ccm.bench.methods.latest_change import LatestChange
from tests.benchcases import CHANGES, ask_case, write_case


def test_changes_before_the_first_alert_rank_newest_first(tmp_path):
    ranked = LatestChange().rank(ask_case(write_case(tmp_path)), 10)
    assert [r.root for r in ranked] == ["change:chg-7", "change:chg-42", "change:chg-3"]
    assert ranked[0].chain == ("change:chg-7", "service:frontend")


def test_a_change_after_the_first_alert_is_not_blamed(tmp_path):
    reaction = {"id": "chg-8", "time": "2026-03-04T10:09:00Z", "kind": "capacity",
                "target": "service:checkout"}
    ranked = LatestChange().rank(ask_case(write_case(tmp_path, changes=CHANGES + [reaction])),
                                 10)
    assert "change:chg-8" not in [r.root for r in ranked]


def test_k_cuts_the_ranking_and_no_alerts_means_no_answer(tmp_path):
    q = ask_case(write_case(tmp_path))
    assert len(LatestChange().rank(q, 1)) == 1
    q_quiet = ask_case(write_case(tmp_path / "quiet", alerts=[]))
    assert LatestChange().rank(q_quiet, 10) == []
