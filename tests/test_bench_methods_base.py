"""The chain builder the baselines share, and distinct roots."""

from __future__ import annotations

import pytest

from ccm.bench.methods.base import Ranked, chain_to_symptom, distinct_roots
from tests.benchcases import ALERTS, ask_case, write_case


@pytest.fixture
def question(tmp_path):  # type: ignore[no-untyped-def]
    return ask_case(write_case(tmp_path))


def test_a_config_change_chain_goes_through_the_key_then_up_to_the_alerting_entrypoint(question):
    assert chain_to_symptom(question, "change:chg-42") == (
        "change:chg-42", "config:checkout/REDIS_TIMEOUT_MS", "service:checkout",
        "service:frontend")


def test_a_deploy_chain_climbs_callers_to_the_alerting_entrypoint(question):
    assert chain_to_symptom(question, "change:chg-3") == (
        "change:chg-3", "service:ads", "service:frontend")


def test_a_component_root_is_its_own_chain_start(question):
    assert chain_to_symptom(question, "cache:redis") == (
        "cache:redis", "service:cart", "service:checkout", "service:frontend")


def test_a_traffic_drop_alert_is_reached_from_caller_to_callee(tmp_path):
    alerts = [{"id": "td", "time": "2026-03-04T10:09:00Z", "service": "service:cart",
               "signal": "traffic_drop"}]
    q = ask_case(write_case(tmp_path, alerts=alerts))
    assert chain_to_symptom(q, "change:chg-7") == (
        "change:chg-7", "service:frontend", "service:checkout", "service:cart")


def test_without_a_reachable_alert_the_chain_is_the_change_and_its_target(tmp_path):
    alerts = [a for a in ALERTS if a["id"] == "a1"]  # checkout only; ads cannot reach it
    q = ask_case(write_case(tmp_path, alerts=alerts))
    assert chain_to_symptom(q, "change:chg-3") == ("change:chg-3", "service:ads")


def test_distinct_roots_keeps_the_first_of_each_root_in_order():
    ranked = [Ranked(r, (r,), 0.0) for r in ("a", "b", "a", "c", "b", "d")]
    assert [x.root for x in distinct_roots(ranked, 3)] == ["a", "b", "c"]
    assert [x.root for x in distinct_roots(ranked, 10)] == ["a", "b", "c", "d"]
