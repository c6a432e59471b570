"""Snapshots: CSR arrays both ways, order, traffic, windows, and caching in the store."""

from __future__ import annotations

import numpy as np
import pytest

from ccm.engine.model import EdgeTable
from ccm.engine.params import DEFAULT_PARAMS, Params
from ccm.engine.snapshot import ChangeTable, NodeTable, SnapshotCache, build_snapshot
from ccm.errors import NotFound
from graph_schema import EdgeFact, NodeFact, parse_time

D1 = parse_time("2026-03-01T00:00:00Z")
D2 = parse_time("2026-03-02T00:00:00Z")


def small():
    refs = ["service:a", "service:b", "service:c", "config:b/K"]
    nodes = NodeTable.build(refs, ["service", "service", "service", "config"],
                            entry=[True, False, False, False], rps=[50.0, np.nan, np.nan, np.nan])
    # a -> b, a -> c, b -> c, b -> config, c -> c (self-loop), a -> b again
    edges = EdgeTable.build([0, 0, 1, 1, 2, 0], [1, 2, 2, 3, 2, 1], kind=[0, 0, 0, 1, 0, 0])
    return build_snapshot(nodes, edges)


def test_csr_lists_dependencies_and_dependants_of_every_node():
    s = small()
    out = {s.refs[u]: sorted(s.refs[v] for v in s.out_idx[s.out_ptr[u]:s.out_ptr[u + 1]])
           for u in range(s.n)}
    assert out == {"service:a": ["service:b", "service:c"],
                   "service:b": ["config:b/K", "service:c"], "service:c": [], "config:b/K": []}
    c = s.index["service:c"]
    callers_of_c = sorted(s.refs[u] for u in s.in_idx[s.in_ptr[c]:s.in_ptr[c + 1]])
    assert callers_of_c == ["service:a", "service:b"]
    assert s.in_ptr.dtype == np.int64 and s.in_idx.dtype == np.int32
    assert all(a.flags.c_contiguous for a in (s.in_ptr, s.in_idx, s.out_ptr, s.out_idx))


def test_self_loops_and_repeated_edges_are_dropped():
    s = small()
    assert len(s.edges) == 4
    assert not (s.edges.src == s.edges.dst).any()


def test_csr_aligned_probabilities_match_the_edge_probabilities():
    s = small()
    m = s.model()
    np.testing.assert_array_equal(m.in_p, m.p[s.in_eid])
    np.testing.assert_array_equal(m.out_p, m.p[s.out_eid])
    assert s.model() is m and s.model(Params(p_hard=0.5)) is not m


def test_entrypoint_traffic_defaults_and_fallback_to_uncalled_components():
    s = small()
    assert dict(zip(s.refs, s.traffic.tolist(), strict=True)) == {
        "service:a": 50.0, "service:b": 0.0, "service:c": 0.0, "config:b/K": 0.0}
    nodes = NodeTable.build(["service:x", "service:y", "service:z"], ["service"] * 3)
    t = build_snapshot(nodes, EdgeTable.build([0], [1]))
    assert dict(zip(t.refs, t.traffic.tolist(), strict=True)) == {
        "service:x": 1.0, "service:y": 0.0, "service:z": 1.0}


def test_config_nodes_are_not_components():
    s = small()
    assert dict(zip(s.refs, s.component.tolist(), strict=True)) == {
        "service:a": True, "service:b": True, "service:c": True, "config:b/K": False}


def test_an_empty_graph_makes_an_empty_snapshot():
    s = build_snapshot(NodeTable.build([], []), EdgeTable.build([], []))
    assert s.n == 0 and len(s.edges) == 0 and s.in_ptr.tolist() == [0]


def test_edge_endpoints_out_of_range_are_refused():
    with pytest.raises(ValueError, match="node indices"):
        build_snapshot(NodeTable.build(["service:a"], ["service"]), EdgeTable.build([0], [3]))


def test_the_window_keeps_changes_between_its_start_and_the_snapshot_time():
    nodes = NodeTable.build(["service:a"], ["service"])
    times = np.array([D1, D2, D2 + 10], np.int64)
    changes = ChangeTable(["change:1", "change:2", "change:3"], times, ["deploy"] * 3,
                          np.zeros(3, np.int32), np.arange(4, dtype=np.int64),
                          np.zeros(3, np.int32), [{}] * 3)
    s = build_snapshot(nodes, EdgeTable.build([], []), changes=changes, valid_at=D2,
                       window=D2 - D1 - 1)
    assert s.changes.refs == ["change:2"]
    assert [s.refs[v] for v in s.changes.seeds(0)] == ["service:a"]


def test_unknown_references_raise_not_found_naming_the_time():
    with pytest.raises(NotFound, match="service:nope.*1970"):
        small().node("service:nope")


def facts(t):
    return [NodeFact("service", "a", {"entrypoint": True, "rps": 10.0}, t),
            NodeFact("service", "b", {}, t),
            EdgeFact("DEPENDS_ON", "service:a", "service:b", {"hard": True}, t)]


def test_the_store_caches_snapshots_until_its_revision_moves(store):
    store.write(facts(D1))
    first = store.snapshot(D2)
    assert store.snapshot(D2) is first
    assert store.snapshot(D2, window=3600) is not first
    store.write([NodeFact("service", "c", {}, D1)])
    second = store.snapshot(D2)
    assert second is not first and "service:c" in second.index


def test_the_store_snapshot_replays_a_past_time_and_knowledge(store, clock):
    store.write(facts(D1))
    known = clock.now
    clock.advance(10)
    store.write([EdgeFact("DEPENDS_ON", "service:a", "service:b", {"hard": False}, D2)])
    assert store.snapshot(D2).edges.hard.tolist() == [False]
    assert store.snapshot(D2, known_at=known).edges.hard.tolist() == [True]
    assert store.snapshot(D1 - 1).n == 0


def test_the_cache_evicts_the_oldest_entry():
    cache = SnapshotCache(size=2)
    snaps = [small() for _ in range(3)]
    for i, s in enumerate(snaps):
        cache.put(1, (i,), s)
    assert cache.get(1, (0,)) is None and cache.get(1, (2,)) is snaps[2]
    assert cache.get(2, (2,)) is None


def test_the_change_table_carries_node_indices_and_default_priors(demo_store):
    s = demo_store.snapshot(parse_time("2026-03-05T10:00:00Z"))
    i = s.changes.refs.index("change:chg-102")
    assert s.refs[s.change_node[i]] == "change:chg-102"
    assert s.change_q[i] == pytest.approx(0.10 * DEFAULT_PARAMS.risky_key_factor)
    np.testing.assert_allclose(s.change_q, s.change_priors())
