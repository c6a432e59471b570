"""Monte Carlo cascades agree with their networkx twin within sampling error."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from ccm.engine import oracle
from ccm.engine.kernels import _cascades
from ccm.engine.model import EdgeTable
from ccm.engine.snapshot import NodeTable, build_snapshot
from tests.engine_graphs import LEARNED, combined, seeds_for, snapshots

NO_COINS = np.empty((0, 0), np.uint64)


def run(snap, seeds, probs, samples, seed=0, chunks=8, params=LEARNED, b0=0, coins=NO_COINS):
    m = snap.model(params)
    return _cascades(snap.n, snap.in_ptr, snap.in_idx, snap.in_eid, m.in_p, snap.out_ptr,
                     snap.out_idx, snap.out_eid, m.out_p, snap.order, snap.pos, snap.comp,
                     snap.cyclic, seeds, probs, snap.component, snap.traffic, samples, seed,
                     b0, coins, chunks)


@st.composite
def case(draw, probabilities=None):
    snap = draw(snapshots().filter(lambda s: s.n > 0))
    seeds, probs = seeds_for(draw, snap.n)
    return snap, seeds, probs


@settings(max_examples=60, deadline=None)
@given(case())
def test_failure_frequencies_match_networkx_cascades_within_sampling_error(c):
    snap, seeds, probs = c
    samples = 4000
    _, _, hits = run(snap, seeds, probs, samples)
    g = oracle.to_networkx(snap, LEARNED)
    _, _, want = oracle.cascades(g, combined(seeds, probs), samples, 1, snap.component,
                                 snap.traffic)
    a, b = hits / samples, want / samples
    # two independent binomial estimates: 5 standard errors of their difference
    se = np.sqrt((a * (1 - a) + b * (1 - b)) / samples)
    assert (np.abs(a - b) <= 5 * se + 2e-3).all()


@settings(max_examples=60, deadline=None)
@given(case(), st.integers(0, 2**31))
def test_with_certain_edges_every_sample_is_exactly_the_reachable_set(c, seed):
    snap, seeds, _ = c
    certain = EdgeTable.build(snap.edges.src, snap.edges.dst,
                              learned=np.where(snap.model(LEARNED).p > 0.5, 1.0, 0.0))
    snap2 = build_snapshot(snap.nodes, certain)
    params = type(LEARNED)(memory_weight=1.0, p_max=1.0)
    ones = np.ones(len(seeds))
    counts, sums, hits = run(snap2, seeds, ones, 5, seed, params=params)
    reach = oracle.reachable(oracle.to_networkx(snap2, params), seeds)
    idx = np.array(sorted(reach), np.int64)
    assert (counts == int(snap2.component[idx].sum())).all()
    np.testing.assert_allclose(sums, snap2.traffic[idx].sum())
    assert set(np.flatnonzero(hits == 5).tolist()) == reach


@settings(max_examples=30, deadline=None)
@given(case(), st.integers(0, 2**31))
def test_results_depend_on_the_seed_only_not_on_the_thread_split(c, seed):
    snap, seeds, probs = c
    one = run(snap, seeds, probs, 300, seed, chunks=1)
    many = run(snap, seeds, probs, 300, seed, chunks=7)
    for x, y in zip(one, many, strict=True):
        np.testing.assert_array_equal(x, y)


def test_on_a_tree_frequencies_match_the_noisy_or_probabilities():
    # a star: b, c, d depend on a; e depends on b
    nodes = NodeTable.build([f"service:{x}" for x in "abcde"], ["service"] * 5)
    edges = EdgeTable.build([1, 2, 3, 4], [0, 0, 0, 1], learned=[0.8, 0.5, 0.2, 0.5])
    snap = build_snapshot(nodes, edges)
    samples = 20000
    a = np.array([snap.index["service:a"]], np.int32)
    _, _, hits = run(snap, a, np.array([1.0]), samples, seed=3)
    freq = {ref: hits[i] / samples for i, ref in enumerate(snap.refs)}
    want = {"service:a": 1.0, "service:b": 0.8, "service:c": 0.5, "service:d": 0.2,
            "service:e": 0.4}
    for ref, p in want.items():
        assert abs(freq[ref] - p) < 0.015


def test_different_seeds_give_different_samples():
    nodes = NodeTable.build(["service:a", "service:b"], ["service"] * 2)
    snap = build_snapshot(nodes, EdgeTable.build([1], [0], learned=[0.5]))
    a = np.array([snap.index["service:a"]], np.int32)
    x = run(snap, a, np.array([1.0]), 200, seed=1)[0]
    y = run(snap, a, np.array([1.0]), 200, seed=2)[0]
    assert not np.array_equal(x, y)


def test_a_seed_inside_a_cycle_reaches_the_whole_cycle():
    nodes = NodeTable.build(["service:a", "service:b"], ["service"] * 2)
    snap = build_snapshot(nodes, EdgeTable.build([0, 1], [1, 0], learned=[1.0, 1.0]))
    params = type(LEARNED)(memory_weight=1.0, p_max=1.0)
    for ref in snap.refs:
        counts, _, _ = run(snap, np.array([snap.index[ref]], np.int32), np.ones(1), 70,
                           params=params)
        assert (counts == 2).all()


@settings(max_examples=30, deadline=None)
@given(case(), st.integers(0, 2**31))
def test_the_serial_twin_gives_exactly_the_parallel_result(c, seed):
    from ccm.engine.kernels import _cascades_serial

    snap, seeds, probs = c
    m = snap.model(LEARNED)
    serial = _cascades_serial(snap.n, snap.in_ptr, snap.in_idx, snap.in_eid, m.in_p,
                              snap.out_ptr, snap.out_idx, snap.out_eid, m.out_p, snap.order,
                              snap.pos, snap.comp, snap.cyclic, seeds, probs, snap.component,
                              snap.traffic, 300, seed, 0, NO_COINS)
    for x, y in zip(serial, run(snap, seeds, probs, 300, seed, chunks=5), strict=True):
        np.testing.assert_array_equal(x, y)


@settings(max_examples=30, deadline=None)
@given(case(), st.integers(0, 2**31), st.integers(1, 5))
def test_runs_of_whole_batches_one_after_the_other_are_one_longer_run(c, seed, first):
    snap, seeds, probs = c
    whole = run(snap, seeds, probs, 64 * first + 100, seed, chunks=3)
    head = run(snap, seeds, probs, 64 * first, seed, chunks=2)
    tail = run(snap, seeds, probs, 100, seed, chunks=4, b0=first)
    np.testing.assert_array_equal(whole[0], np.concatenate([head[0], tail[0]]))
    np.testing.assert_array_equal(whole[1], np.concatenate([head[1], tail[1]]))
    np.testing.assert_array_equal(whole[2], head[2] + tail[2])


@settings(max_examples=30, deadline=None)
@given(case(), st.integers(0, 2**31), st.integers(1, 6))
def test_cascades_on_a_coin_table_are_the_cascades_that_draw_each_coin(c, seed, rows):
    from ccm.engine.kernels import _coin_table

    snap, seeds, probs = c
    table = _coin_table(snap.in_eid, snap.model(LEARNED).in_p, seed, rows)
    # more batches than the table has rows: those draw their coins as usual
    for x, y in zip(run(snap, seeds, probs, 300, seed, chunks=3, coins=table),
                    run(snap, seeds, probs, 300, seed, chunks=3), strict=True):
        np.testing.assert_array_equal(x, y)
    later = run(snap, seeds, probs, 100, seed, chunks=2, b0=1, coins=table)
    for x, y in zip(later, run(snap, seeds, probs, 100, seed, chunks=2, b0=1), strict=True):
        np.testing.assert_array_equal(x, y)
