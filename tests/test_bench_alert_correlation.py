"""Baseline alert_correlation: hand-computed kernel sums on the standard case."""

from __future__ import annotations

import math

import pytest

from ccm.bench.methods.alert_correlation import AlertCorrelation, correlation
from tests.benchcases import ask_case, write_case


def test_scores_sum_an_hourly_decay_over_later_onsets(tmp_path):
    scores = dict(correlation(ask_case(write_case(tmp_path))))
    # chg-42 at 10:00, onsets 10:08 and 10:10; chg-7 at 10:05: 3 and 5 minutes later
    assert scores["change:chg-42"] == pytest.approx(math.exp(-8 / 60) + math.exp(-10 / 60))
    assert scores["change:chg-7"] == pytest.approx(math.exp(-3 / 60) + math.exp(-5 / 60))
    assert scores["change:chg-3"] < 1e-20


def test_the_change_closest_before_the_onsets_ranks_first(tmp_path):
    ranked = AlertCorrelation().rank(ask_case(write_case(tmp_path)), 10)
    assert [r.root for r in ranked] == ["change:chg-7", "change:chg-42", "change:chg-3"]
