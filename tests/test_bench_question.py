"""The question as of the question time: later facts are invisible to every method."""

from __future__ import annotations

import pytest

from ccm.bench.cases import load_case
from ccm.bench.methods import all_methods
from ccm.bench.question import ask
from ccm.bench.replay import replayed
from graph_schema import parse_time
from tests.benchcases import ALERTS, CHANGES, TOPOLOGY, write_case

LATE_ALERTS = ALERTS + [
    {"id": "late-1", "time": "2026-03-04T10:30:00Z", "service": "service:ads",
     "signal": "errors", "severity": "critical"},
    {"id": "late-2", "time": "2026-03-04T10:21:00Z", "service": "service:newsvc",
     "signal": "latency", "severity": "critical"},
]
LATE_CHANGES = CHANGES + [
    {"id": "chg-99", "time": "2026-03-04T10:25:00Z", "kind": "deploy", "target": "service:ads",
     "version": "9.9.9"},
    {"id": "chg-98", "time": "2026-03-04T10:40:00Z", "kind": "config_change",
     "target": "service:checkout", "changes": [{"key": "REDIS_TIMEOUT_MS", "old": "50",
                                                "new": "500"}]},
]
LATE_TOPOLOGY = TOPOLOGY + [
    {"type": "node", "kind": "service", "name": "ads-proxy", "time": "2026-03-04T10:45:00Z"},
    {"type": "edge", "kind": "DEPENDS_ON", "from": "service:checkout", "to": "service:ads-proxy",
     "time": "2026-03-04T10:45:00Z"},
]


def _answers(folder, at=None):  # type: ignore[no-untyped-def]
    case = load_case(folder)
    with replayed(case) as store:
        q = ask(store, case.id, at or case.question_time, case.window)
        answers = {name: m.rank(q, 10) for name, m in all_methods().items()}
        return q, answers


@pytest.fixture
def plain(tmp_path):  # type: ignore[no-untyped-def]
    return write_case(tmp_path / "plain")


@pytest.fixture
def late(tmp_path):  # type: ignore[no-untyped-def]
    return write_case(tmp_path / "late", topology=LATE_TOPOLOGY, changes=LATE_CHANGES,
                      alerts=LATE_ALERTS)


def test_the_question_holds_the_alerts_and_changes_up_to_the_question_time(plain):
    q, _ = _answers(plain)
    assert [a.ref for a in q.alerts] == ["alert:a1", "alert:a2"]
    assert [(a.node, a.signal) for a in q.alerts] == [("service:checkout", "errors"),
                                                      ("service:frontend", "errors")]
    assert [c.ref for c in q.changes] == ["change:chg-3", "change:chg-42", "change:chg-7"]
    config_change = q.changes[1]
    assert config_change.config_nodes == ("config:checkout/REDIS_TIMEOUT_MS",)
    assert config_change.target == "service:checkout"


def test_facts_after_the_question_time_do_not_change_any_answer(plain, late):
    q_plain, plain_answers = _answers(plain)
    q_late, late_answers = _answers(late)
    assert [a.ref for a in q_late.alerts] == [a.ref for a in q_plain.alerts]
    assert [c.ref for c in q_late.changes] == [c.ref for c in q_plain.changes]
    assert set(q_late.graph.nodes) == set(q_plain.graph.nodes)
    assert late_answers == plain_answers
    assert late_answers  # every method answered something to compare


def test_the_same_late_facts_are_seen_when_asked_later(late):
    q, _ = _answers(late, at=parse_time("2026-03-04T11:00:00Z"))
    assert {"alert:late-1", "alert:late-2"} <= {a.ref for a in q.alerts}
    assert {"change:chg-99", "change:chg-98"} <= {c.ref for c in q.changes}
    assert "service:ads-proxy" in q.graph.nodes


def test_an_alert_resolved_before_the_question_is_not_a_symptom(tmp_path):
    alerts = ALERTS + [{"id": "old", "time": "2026-03-04T08:00:00Z", "service": "service:ads",
                        "signal": "latency", "ends_at": "2026-03-04T08:30:00Z"}]
    q, _ = _answers(write_case(tmp_path, alerts=alerts))
    assert "alert:old" not in {a.ref for a in q.alerts}


def test_an_alert_still_firing_at_the_question_is_a_symptom_even_if_it_resolves_later(tmp_path):
    alerts = ALERTS + [{"id": "long", "time": "2026-03-04T10:15:00Z", "service": "service:ads",
                        "signal": "latency", "ends_at": "2026-03-04T12:00:00Z"}]
    q, _ = _answers(write_case(tmp_path, alerts=alerts))
    assert "alert:long" in {a.ref for a in q.alerts}


def test_changes_before_the_window_are_left_out(tmp_path):
    q, _ = _answers(write_case(tmp_path, case={"window": "P1D"}))
    assert [c.ref for c in q.changes] == ["change:chg-42", "change:chg-7"]
