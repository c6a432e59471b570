"""The engine's view of a proposal, and its prediction as the policy stores it."""

from __future__ import annotations

import pytest

from ccm.actions.impact import engine_action, engine_predictor
from ccm.memory import Beta, Priors
from ccm.policy import ImpactSummary
from ccm.policy.proposal import Proposal
from ccm.policy.registry import load_registry
from tests.controlkit import D0, HOUR, topology

REG = load_registry()


def prop(action: str, target: str, inputs: dict) -> Proposal:
    return Proposal(action, target, inputs, "bot")


def test_a_config_change_carries_its_key_and_values():
    a = engine_action(prop("config_change", "service:cart",
                           {"key": "REDIS_ADDR", "value": "r:6379,syncTimeout=50",
                            "previous_value": "r:6379"}), REG.get("config_change"))
    assert (a.kind, a.target, a.keys) == ("config_change", "service:cart", ("REDIS_ADDR",))
    assert a.attributes["diff"] == [{"key": "REDIS_ADDR", "old": "r:6379",
                                     "new": "r:6379,syncTimeout=50"}]


@pytest.mark.parametrize("action, inputs, kind, destructive, reversible", [
    ("rollback", {"to_version": "1", "from_version": "2"}, "rollback", False, True),
    ("cache_flush", {}, "restart", True, False),
    ("schema_migration", {"migration": "m", "statements": ["x"], "destructive": True},
     "schema_migration", True, False),
])
def test_registry_kinds_map_to_engine_kinds(action, inputs, kind, destructive, reversible):
    target = "datastore:db" if action == "schema_migration" else (
        "cache:redis" if action == "cache_flush" else "service:cart")
    a = engine_action(prop(action, target, inputs), REG.get(action))
    assert (a.kind, a.destructive, a.reversible) == (kind, destructive, reversible)


def test_the_prediction_is_summarised_for_the_policy(embedded, clock):
    clock.now = D0 + HOUR
    embedded.write(topology())
    p = prop("config_change", "service:cart", {"key": "REDIS_TIMEOUT_MS", "value": "50",
                                               "previous_value": "500"})
    impact = engine_predictor(embedded, p, REG.get("config_change"), Priors(), clock.now)
    s = ImpactSummary.from_impact(impact)
    assert s.p_fail == impact.p_fail and s.samples == 2000 and s.seed == 7
    assert s.traffic_p95 == impact.traffic.p95 and s.services_p50 == impact.services.p50
    assert s.node_probabilities == impact.nodes and "service:frontend" in s.paths
    remembered = Priors(outcomes={("config_change", "service:cart"): Beta(3, 0)})
    again = engine_predictor(embedded, p, REG.get("config_change"), remembered, clock.now)
    assert again.p_fail > impact.p_fail


def test_the_stored_summary_keeps_the_likeliest_paths_and_the_reach_of_them_all():
    entries = {f"gateway:e{i:03d}": 0.001 * (i + 1) for i in range(300)}
    paths = {e: ["service:hub", e] for e in entries}
    s = ImpactSummary(0.5, traffic_p95=0.2, node_probabilities=entries, paths=paths)
    stored = s.to_dict()
    assert len(stored["paths"]) == 100 and stored["paths_total"] == 300
    assert min(entries[e] for e in stored["paths"]) > max(
        p for e, p in entries.items() if e not in stored["paths"])
    back = ImpactSummary.from_dict(stored)
    assert back.entry_reach() == pytest.approx(s.entry_reach()) == 1.0
    assert back.to_dict()["paths_total"] == 300


def test_the_reach_of_a_small_summary_survives_storing():
    s = ImpactSummary(0.5, node_probabilities={"gateway:a": 0.1, "service:b": 0.9},
                      paths={"gateway:a": ["service:b", "gateway:a"]})
    back = ImpactSummary.from_dict(s.to_dict())
    assert back.entry_reach() == pytest.approx(0.1) and back.paths == s.paths


def test_impacted_nodes_are_the_same_when_asked_again_and_a_caller_cannot_change_them():
    s = ImpactSummary(0.5, node_probabilities={"service:b": 0.9, "service:a": 0.2,
                                               "service:c": 0.01})
    first = s.impacted(0.1)
    first.append("service:z")
    assert s.impacted(0.1) == ["service:a", "service:b"] and s.impacted(0.5) == ["service:b"]
