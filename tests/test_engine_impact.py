"""Blast radius: probabilities, Monte Carlo summaries, paths, p_fail, errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ccm.engine import oracle
from ccm.engine.impact import (
    ROUND,
    action_prior,
    action_seeds,
    impact_samples,
    predict_impact,
    resolve,
    settled,
    sorted_percentile,
)
from ccm.engine.model import EdgeTable
from ccm.engine.params import DEFAULT_PARAMS as P
from ccm.engine.snapshot import NodeTable, build_snapshot
from ccm.engine.types import Action
from ccm.errors import InvalidRequest, NotFound
from graph_schema import parse_time
from tests.engine_graphs import LEARNED, snapshots

AT = parse_time("2026-03-05T10:00:00Z")


def star():
    """web (entry, 30 rps) and api (entry, 10 rps) both need db; web also needs cache."""
    refs = ["datastore:db", "cache:cache", "service:web", "service:api"]
    nodes = NodeTable.build(refs, ["datastore", "cache", "service", "service"],
                            entry=[False, False, True, True], rps=[np.nan, np.nan, 30.0, 10.0])
    return build_snapshot(nodes, EdgeTable.build([2, 3, 2], [0, 0, 1], learned=[1.0, 0.5, 1.0]))


def test_node_probabilities_are_the_noisy_or_fixpoint_and_only_nonzero():
    impact = predict_impact(star(), Action("infra_change", "datastore:db"), params=LEARNED)
    assert impact.nodes == pytest.approx({"datastore:db": 1.0, "service:web": 0.99,
                                          "service:api": 0.5})
    assert list(impact.nodes) == ["datastore:db", "service:web", "service:api"]


def test_monte_carlo_summaries_count_components_and_traffic_share():
    impact = predict_impact(star(), Action("infra_change", "datastore:db"), samples=4000,
                            seed=7, params=LEARNED)
    # db always; web 0.99; api 0.5
    assert impact.services.mean == pytest.approx(1 + 0.99 + 0.5, abs=0.05)
    assert impact.traffic.mean == pytest.approx((0.99 * 30 + 0.5 * 10) / 40, abs=0.02)
    assert impact.traffic.p95 == pytest.approx(1.0)
    assert impact.services.p50 in (2.0, 3.0) and impact.samples == 4000 and impact.seed == 7


def test_the_same_seed_gives_the_same_distribution():
    a = predict_impact(star(), Action("deploy", "cache:cache"), seed=3)
    b = predict_impact(star(), Action("deploy", "cache:cache"), seed=3)
    assert a.services == b.services and a.traffic == b.traffic


def test_small_and_large_cascades_give_the_same_prediction_on_one_thread_or_all(
        demo_store, monkeypatch):
    import ccm.engine.impact as impact_module

    snap = demo_store.snapshot(AT)
    action = Action("deploy", "service:productcatalogservice")
    monkeypatch.setattr(impact_module, "PARALLEL_WORK", 0)
    parallel = predict_impact(snap, action, samples=1000, seed=5)
    monkeypatch.setattr(impact_module, "PARALLEL_WORK", 10**18)
    serial = predict_impact(snap, action, samples=1000, seed=5)
    assert (serial.services, serial.traffic, serial.nodes) == \
        (parallel.services, parallel.traffic, parallel.nodes)


def test_the_samples_behind_a_prediction_have_its_percentiles(demo_store):
    snap = demo_store.snapshot(AT)
    action = Action("config_change", "service:cartservice", keys=("REDIS_ADDR",))
    impact = predict_impact(snap, action, samples=500, seed=11)
    drawn = impact_samples(snap, action, samples=500, seed=11)
    assert len(drawn.traffic) == len(drawn.services) == 500
    assert drawn.summary() == (impact.services, impact.traffic)
    assert drawn.traffic.min() >= 0 and drawn.traffic.max() <= 1
    assert drawn.traffic.max() > 0  # cartservice's failure reaches the frontend


def test_samples_of_another_seed_differ_and_zero_samples_is_refused():
    action = Action("infra_change", "datastore:db")
    a = impact_samples(star(), action, samples=256, seed=1, params=LEARNED)
    b = impact_samples(star(), action, samples=256, seed=2, params=LEARNED)
    assert not np.array_equal(a.services, b.services)
    with pytest.raises(InvalidRequest, match="samples"):
        impact_samples(star(), action, samples=0)


def test_paths_lead_from_the_failing_node_to_each_impacted_entrypoint():
    impact = predict_impact(star(), Action("infra_change", "datastore:db"))
    assert impact.paths == {"service:web": ["datastore:db", "service:web"],
                            "service:api": ["datastore:db", "service:api"]}


def test_a_config_change_starts_at_its_key_or_at_the_owner_for_an_unknown_key(demo_store):
    snap = demo_store.snapshot(AT)
    known = Action("config_change", "service:cartservice", keys=("REDIS_ADDR", "NEW_KEY"))
    seeds, probs = action_seeds(snap, known)
    assert [snap.refs[v] for v in seeds] == ["config:cartservice/REDIS_ADDR",
                                             "service:cartservice"]
    assert probs.tolist() == [1.0, 0.9]
    impact = predict_impact(snap, Action("config_change", "service:cartservice",
                                         keys=("REDIS_ADDR",)))
    assert impact.paths["service:frontend"] == ["config:cartservice/REDIS_ADDR",
                                                "service:cartservice", "service:frontend"]


def test_p_fail_comes_from_the_change_prior_model():
    assert action_prior(Action("deploy", "service:a")) == pytest.approx(0.10)
    risky = Action("config_change", "service:a", keys=("CLIENT_TIMEOUT_MS",))
    assert action_prior(risky) == pytest.approx(0.10 * P.risky_key_factor)
    drop = Action("schema_migration", "datastore:db", destructive=True, reversible=False)
    assert action_prior(drop) == pytest.approx(
        0.10 * P.destructive_factor * P.irreversible_factor)
    assert action_prior(drop) > 3 * action_prior(Action("schema_migration", "datastore:db"))


def test_a_rollback_fails_less_often_than_a_deploy_and_spreads_the_same_way():
    deploy = predict_impact(star(), Action("deploy", "datastore:db"), samples=500, seed=1)
    rollback = predict_impact(star(), Action("rollback", "datastore:db"), samples=500, seed=1)
    assert rollback.p_fail == pytest.approx(0.04) and rollback.p_fail < deploy.p_fail
    assert rollback.nodes == deploy.nodes and rollback.paths == deploy.paths


def test_a_target_missing_at_that_time_is_not_found():
    with pytest.raises(NotFound, match="service:nope"):
        predict_impact(star(), Action("deploy", "service:nope"))


def test_bare_names_resolve_to_a_unique_component(demo_store):
    snap = demo_store.snapshot(AT)
    assert resolve(snap, "cartservice") == "service:cartservice"
    assert resolve(snap, "redis-cart") == "cache:redis-cart"
    with pytest.raises(NotFound):
        resolve(snap, "nothing-like-it")


def test_zero_samples_is_refused():
    with pytest.raises(InvalidRequest, match="samples"):
        predict_impact(star(), Action("deploy", "service:web"), samples=0)


def test_the_impact_serialises_to_json_with_timings():
    impact = predict_impact(star(), Action("deploy", "service:web"), samples=10)
    data = json.loads(json.dumps(impact.to_dict()))
    assert data["action"]["kind"] == "deploy" and data["samples"] == 10
    assert set(data["timings"]) == {"compile_s", "run_s"} and data["timings"]["run_s"] >= 0
    assert data["expected_traffic"] == pytest.approx(impact.p_fail * impact.traffic.mean)


@settings(max_examples=60, deadline=None)
@given(snapshots().filter(lambda s: s.n > 0))
def test_node_probabilities_agree_with_the_oracle_on_random_graphs(snap):
    target = snap.refs[0]
    impact = predict_impact(snap, Action("deploy", target), samples=20, params=LEARNED)
    want, _ = oracle.noisy_or(oracle.to_networkx(snap, LEARNED), {0: 1.0})
    want_refs = {snap.refs[v]: r for v, r in want.items()}
    # a node both put at ~1e-15 may be 0 in one and listed in the other: compare values
    for ref in set(impact.nodes) | {r for r, p in want_refs.items() if p > 0}:
        assert impact.nodes.get(ref, 0.0) == pytest.approx(want_refs.get(ref, 0.0), abs=1e-9)
    assert all(p > 0 for p in impact.nodes.values())
    assert 0 <= impact.traffic.p95 <= 1 + 1e-12
    assert impact.services.p95 <= snap.component.sum()


def test_a_constant_sample_is_settled_and_a_small_spread_one_is_not():
    assert settled(np.full(600, 40.0), 0.01, 0.5)
    spread = np.random.default_rng(0).choice([1.0, 100.0], 600)
    assert not settled(spread, 0.03, 0.5)
    assert settled(spread, 0.03, 100.0)  # within an absolute floor that wide
    assert not settled(np.ones(1), 0.5, 10.0)  # one sample says nothing of its spread


def test_a_prediction_to_a_precision_stops_early_on_the_first_cascades_of_its_seed(demo_store):
    snap = demo_store.snapshot(AT)
    action = Action("config_change", "service:cartservice", keys=("REDIS_ADDR",))
    loose = predict_impact(snap, action, samples=4000, seed=11, precision=0.5)
    assert loose.samples < 4000 and loose.samples % ROUND == 0
    same = predict_impact(snap, action, samples=loose.samples, seed=11)
    assert (loose.services, loose.traffic, loose.nodes) == \
        (same.services, same.traffic, same.nodes)
    # a precision no sample size reaches draws them all, and is the fixed-size prediction
    tight = predict_impact(snap, action, samples=1100, seed=11, precision=1e-9)
    assert tight.samples == 1100
    assert tight.services == predict_impact(snap, action, samples=1100, seed=11).services


def test_a_precision_outside_zero_to_one_is_refused():
    with pytest.raises(InvalidRequest, match="precision"):
        predict_impact(star(), Action("deploy", "cache:cache"), precision=1.0)
    with pytest.raises(InvalidRequest, match="precision"):
        predict_impact(star(), Action("deploy", "cache:cache"), precision=-0.1)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(0, 1e6, allow_nan=False), min_size=1, max_size=300),
       st.sampled_from([0.0, 0.05, 0.5, 0.95, 1.0]))
def test_the_sorted_percentile_is_numpys_to_the_last_bit(values, q):
    xs = np.sort(np.array(values))
    assert sorted_percentile(xs, q) == float(np.percentile(xs, 100 * q))


def test_paths_can_be_limited_to_the_likeliest_entrypoints_and_still_count_them_all():
    action = Action("infra_change", "datastore:db")
    full = predict_impact(star(), action, params=LEARNED)
    one = predict_impact(star(), action, params=LEARNED, max_paths=1)
    assert one.paths == {"service:web": ["datastore:db", "service:web"]}  # 0.99 before 0.5
    assert one.paths_total == full.paths_total == 2
    assert one.reach == full.reach == pytest.approx(1.0)
    none = predict_impact(star(), action, params=LEARNED, max_paths=0)
    assert none.paths == {} and none.paths_total == 2
    with pytest.raises(InvalidRequest, match="max_paths"):
        predict_impact(star(), action, max_paths=-1)


@settings(max_examples=60, deadline=None)
@given(snapshots().filter(lambda s: s.n > 0), st.data())
def test_a_limited_prediction_summarises_as_the_whole_one(snap, data):
    from ccm.policy.impact import ImpactSummary

    target = data.draw(st.sampled_from(snap.refs))
    k = data.draw(st.integers(0, 3))
    action = Action("deploy", target)
    whole = predict_impact(snap, action, samples=64, params=LEARNED)
    cut = predict_impact(snap, action, samples=64, params=LEARNED, max_paths=k)
    assert cut.paths_total == len(whole.paths)
    assert all(whole.paths[e] == path for e, path in cut.paths.items())
    likeliest = sorted(whole.paths, key=lambda e: -whole.nodes[e])[:k]
    assert all(whole.nodes[e] <= min((whole.nodes[x] for x in likeliest), default=1.0)
               for e in whole.paths if e not in cut.paths)
    a, b = ImpactSummary.from_impact(whole), ImpactSummary.from_impact(cut)
    assert a.entry_reach() == b.entry_reach() == min(1.0, sum(whole.nodes[e]
                                                              for e in whole.paths))
    assert a.risk_p95("traffic") == b.risk_p95("traffic")


def test_predictions_asked_again_use_a_coin_table_and_predict_the_same(demo_store):
    from ccm.engine.impact import coin_table

    snap = demo_store.snapshot(parse_time("2026-03-05T11:00:00Z"))
    action = Action("deploy", "service:productcatalogservice")
    first = predict_impact(snap, action, samples=700, seed=13)
    again = predict_impact(snap, action, samples=700, seed=13)  # builds the table
    table = coin_table(snap, P, 13, 700)
    assert table is not None and table.shape == (11, len(snap.in_eid))
    third = predict_impact(snap, action, samples=700, seed=13)
    assert first.services == again.services == third.services
    assert first.traffic == again.traffic == third.traffic
    assert coin_table(snap, P, 14, 700) is None  # another seed: not asked twice yet
