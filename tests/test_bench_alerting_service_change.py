"""Baseline alerting_service_change, on the standard case."""

from __future__ import annotations

from ccm.bench.methods.alerting_service_change import AlertingServiceChange
from tests.benchcases import ALERTS, ask_case, write_case


def test_the_earliest_alerting_service_changes_come_first_then_the_service_itself(tmp_path):
    ranked = AlertingServiceChange().rank(ask_case(write_case(tmp_path)), 10)
    assert [r.root for r in ranked] == ["change:chg-42", "service:checkout", "change:chg-7",
                                        "service:frontend"]
    assert ranked[0].chain == ("change:chg-42", "config:checkout/REDIS_TIMEOUT_MS",
                               "service:checkout", "service:frontend")


def test_a_tie_on_onset_goes_to_the_service_with_more_alerts(tmp_path):
    same_time = [dict(a, time="2026-03-04T10:08:00Z") for a in ALERTS]
    extra = {"id": "a3", "time": "2026-03-04T10:09:00Z", "service": "service:frontend",
             "signal": "latency"}
    ranked = AlertingServiceChange().rank(ask_case(write_case(tmp_path,
                                                              alerts=[*same_time, extra])), 10)
    assert ranked[0].root == "change:chg-7"
