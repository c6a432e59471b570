"""The propagation kernels agree with their networkx twins on random graphs."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ccm.engine import oracle
from ccm.engine.kernels import _noisy_or_dense, _noisy_or_sparse, _reach
from ccm.engine.model import EdgeTable
from ccm.engine.snapshot import NodeTable, build_snapshot
from tests.engine_graphs import LEARNED, combined, seeds_for, snapshots

SETTINGS = settings(max_examples=150, deadline=None)


def dense(snap, seeds, probs, tol=1e-13):
    m = snap.model(LEARNED)
    r, converged = _noisy_or_dense(snap.n, snap.in_ptr, snap.in_idx, m.in_p, snap.out_ptr,
                                   snap.out_idx, m.out_p, snap.order, snap.pos, snap.comp,
                                   snap.cyclic, seeds, probs, tol, 100_000)
    assert converged
    return r


@st.composite
def graph_and_seeds(draw):
    snap = draw(snapshots().filter(lambda s: s.n > 0))
    seeds, probs = seeds_for(draw, snap.n)
    return snap, seeds, probs


@SETTINGS
@given(graph_and_seeds())
def test_reachability_matches_networkx_ancestors(case):
    snap, seeds, _ = case
    m = snap.model(LEARNED)
    got = _reach(snap.n, snap.in_ptr, snap.in_idx, m.in_p, seeds)
    assert len(set(got.tolist())) == len(got)
    assert set(got.tolist()) == oracle.reachable(oracle.to_networkx(snap, LEARNED), seeds)


@SETTINGS
@given(snapshots())
def test_the_snapshot_order_is_topological_between_components(snap):
    g = oracle.to_networkx(snap, LEARNED)
    assert sorted(snap.order.tolist()) == list(range(snap.n))
    assert (snap.pos[snap.order] == np.arange(snap.n)).all()
    assert oracle.is_topological(g, snap.order.tolist(), snap.comp)


@SETTINGS
@given(graph_and_seeds())
def test_dense_noisy_or_equals_the_jacobi_fixpoint(case):
    snap, seeds, probs = case
    r = dense(snap, seeds, probs)
    want, _ = oracle.noisy_or(oracle.to_networkx(snap, LEARNED), combined(seeds, probs))
    expected = np.zeros(snap.n)
    for v, x in want.items():
        expected[v] = x
    np.testing.assert_allclose(r, expected, atol=1e-9, rtol=0)


@SETTINGS
@given(graph_and_seeds())
def test_dense_noisy_or_equals_the_condensation_algorithm_in_networkx(case):
    snap, seeds, probs = case
    r = dense(snap, seeds, probs)
    want = oracle.noisy_or_condensed(oracle.to_networkx(snap, LEARNED), combined(seeds, probs))
    for v, x in want.items():
        assert r[v] == pytest.approx(x, abs=1e-9)
    assert np.count_nonzero(r) <= len(want)


@SETTINGS
@given(graph_and_seeds(), st.sampled_from([0.0, 1e-4, 0.05, 0.3]), st.booleans())
def test_sparse_noisy_or_with_a_floor_equals_the_oracle_both_ways(case, floor, reverse):
    snap, seeds, probs = case
    m = snap.model(LEARNED)
    if reverse:
        args = (snap.out_ptr, snap.out_idx, m.out_ptd, snap.in_ptr, snap.in_idx, m.in_ptd,
                snap.comp, snap.cyclic, -1)
    else:
        args = (snap.in_ptr, snap.in_idx, m.in_p, snap.out_ptr, snap.out_idx, m.out_p,
                snap.comp, snap.cyclic, 1)
    nodes, val, others = _noisy_or_sparse(snap.n, *args, seeds, probs, floor, 1e-14, 100_000)
    want, want_others = oracle.noisy_or(oracle.to_networkx(snap, LEARNED),
                                        combined(seeds, probs), reverse=reverse, floor=floor)
    got = dict(zip(nodes.tolist(), val.tolist(), strict=True))
    got_others = dict(zip(nodes.tolist(), others.tolist(), strict=True))
    for v in set(want) | set(got):
        assert got.get(v, 0.0) == pytest.approx(want.get(v, 0.0), abs=1e-9)
        assert got_others.get(v, 0.0) == pytest.approx(want_others.get(v, 0.0), abs=1e-9)


def named(snap, r):
    return {ref: float(r[i]) for i, ref in enumerate(snap.refs)}


def seeds_of(snap, *refs):
    return np.array([snap.index[r] for r in refs], np.int32), np.ones(len(refs))


def test_a_chain_of_two_hard_edges_multiplies_probabilities():
    nodes = NodeTable.build(["service:a", "service:b", "service:c"], ["service"] * 3)
    edges = EdgeTable.build([1, 2], [0, 1], learned=[0.5, 0.4])
    snap = build_snapshot(nodes, edges)
    r = named(snap, dense(snap, *seeds_of(snap, "service:a")))
    assert r == pytest.approx({"service:a": 1.0, "service:b": 0.5, "service:c": 0.2})


def test_two_paths_combine_by_noisy_or():
    # d depends on b and c, both depend on a
    nodes = NodeTable.build([f"service:{x}" for x in "abcd"], ["service"] * 4)
    edges = EdgeTable.build([1, 2, 3, 3], [0, 0, 1, 2], learned=[1.0, 1.0, 0.5, 0.5])
    snap = build_snapshot(nodes, edges)
    r = named(snap, dense(snap, *seeds_of(snap, "service:a")))
    assert r["service:d"] == pytest.approx(1 - (1 - 0.5 * 0.99) ** 2)


def test_a_two_cycle_converges_to_its_closed_form():
    # a <-> b, c seeds a with 0.5: r(a) = 1 - 0.5 (1 - p r(b)), r(b) = p r(a)
    nodes = NodeTable.build([f"service:{x}" for x in "abc"], ["service"] * 3)
    edges = EdgeTable.build([0, 1, 0], [1, 0, 2], learned=[0.9, 0.9, 0.5])
    snap = build_snapshot(nodes, edges)
    r = named(snap, dense(snap, *seeds_of(snap, "service:c")))
    p = 0.9
    ra = 0.5 / (1 - 0.5 * p * p)
    assert r["service:a"] == pytest.approx(ra) and r["service:b"] == pytest.approx(p * ra)


def test_nodes_are_renumbered_in_topological_order():
    nodes = NodeTable.build([f"service:{x}" for x in "abc"], ["service"] * 3)
    snap = build_snapshot(nodes, EdgeTable.build([0, 1], [1, 2]))
    assert snap.refs == ["service:c", "service:b", "service:a"]
    assert snap.order.tolist() == [0, 1, 2] and snap.index["service:a"] == 2
