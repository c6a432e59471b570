"""The runner: every method on every case, truth read only to score, crashes recorded."""

from __future__ import annotations

import pytest

from ccm.bench.cases import load_cases
from ccm.bench.methods.base import Baseline, Ranked
from ccm.bench.methods.latest_change import LatestChange
from ccm.bench.question import Question
from ccm.bench.runner import run_cases
from ccm.errors import CaseInvalid
from tests.benchcases import write_case


class Crashes(Baseline):
    name = "crashes"
    description = "raises on every case"

    def rank(self, question: Question, k: int) -> list[Ranked]:
        raise RuntimeError("boom")


class SeesTruthFile(Baseline):
    """Records whether truth.yaml could have been read through the question."""

    name = "peek"
    description = "looks for the truth in what it is given"
    seen: list[str] = []

    def rank(self, question: Question, k: int) -> list[Ranked]:
        text = repr(question.graph.to_dict()) + repr(question.alerts) + repr(question.changes)
        self.seen.append(text)
        return []


def test_a_crashing_method_is_a_recorded_miss_and_the_others_still_run(tmp_path):
    write_case(tmp_path)
    result = run_cases(load_cases([tmp_path]), {"crashes": Crashes(),
                                                "latest_change": LatestChange()})
    r = result.cases[0]
    assert r.errors == {"crashes": "RuntimeError: boom"}
    assert r.scores["crashes"].root_at_3 == 0
    assert r.scores["latest_change"].rank == 2
    data = result.to_dict()
    assert data["methods"]["crashes"]["errors"] == 1
    assert [row.get("error") for row in data["per_case"]] == ["RuntimeError: boom", None]


def test_methods_are_given_nothing_of_the_truth(tmp_path):
    write_case(tmp_path, truth={"root_cause": "change:chg-42",
                                "chain": ["change:chg-42", "service:TRUTH-MARKER"],
                                "symptom": "service:TRUTH-MARKER"})
    peek = SeesTruthFile()
    run_cases(load_cases([tmp_path]), {"peek": peek})
    assert peek.seen and "TRUTH-MARKER" not in peek.seen[0]


def test_an_invalid_case_stops_the_run_unless_told_to_keep_going(tmp_path):
    write_case(tmp_path, "good")
    write_case(tmp_path, "bad", alerts=[{"id": "x", "time": "2026-13-45T10:00:00Z",
                                         "service": "service:cart", "signal": "errors"}])
    cases = load_cases([tmp_path])
    with pytest.raises(CaseInvalid, match="alerts/alerts.jsonl"):
        run_cases(cases, {"latest_change": LatestChange()})
    result = run_cases(cases, {"latest_change": LatestChange()}, keep_going=True)
    assert [r.case.id for r in result.cases] == ["good"]
    assert [e.case for e in result.invalid] == ["bad"]


def test_timings_count_cases_per_second_and_preparation_apart(tmp_path):
    write_case(tmp_path)
    timing = run_cases(load_cases([tmp_path]), {"latest_change": LatestChange()}).timing()
    assert timing["cases_per_s"] > 0 and set(timing["prepare_s"]) == {"latest_change"}


def test_the_calibration_bins_top_probabilities_and_weighs_their_errors():
    from ccm.bench.runner import calibration

    c = calibration([0.95, 0.95, 0.55, 0.15], [1, 0, 1, 0])
    assert [(b["lo"], b["cases"], b["accuracy"]) for b in c["bins"]] == [
        (0.1, 1, 0.0), (0.5, 1, 1.0), (0.9, 2, 0.5)]
    assert c["ece"] == pytest.approx((0.15 + 0.45 + 2 * 0.45) / 4)
