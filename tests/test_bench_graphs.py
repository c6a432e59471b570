"""The benchmark's generated graphs: exact size, heavy tails, local cycles, determinism."""

from __future__ import annotations

import numpy as np
import pytest

from ccm.bench.graphs import dependency_graph, hub, incident


@pytest.mark.parametrize("edges", [10, 1_000, 20_000])
def test_a_graph_has_exactly_the_edges_asked_for_without_self_loops_or_repeats(edges):
    g = dependency_graph(edges, seed=3)
    assert len(g.src) == edges
    assert not (g.src == g.dst).any()
    assert len(np.unique(g.src.astype(np.int64) * g.n + g.dst)) == edges


def test_the_same_seed_gives_the_same_graph_and_another_seed_another():
    a, b, c = dependency_graph(5_000, 1), dependency_graph(5_000, 1), dependency_graph(5_000, 2)
    assert np.array_equal(a.src, b.src) and np.array_equal(a.dst, b.dst)
    assert not np.array_equal(a.dst, c.dst)


def test_in_degrees_are_heavy_tailed_and_cycles_exist_but_stay_local():
    s = dependency_graph(50_000, 0).snapshot()
    indeg = np.diff(s.in_ptr)
    assert indeg.max() > 50 * max(np.median(indeg), 1)
    sizes = np.bincount(s.comp)
    assert (sizes > 1).any()
    assert sizes.max() < 0.05 * s.n
    assert hub(s) == int(np.argmax(indeg))


def test_the_incident_plants_a_change_whose_dependants_alert():
    snap, symptoms, planted = incident(services=2_000, changes=50, symptoms=5, seed=2)
    assert snap.n == 2_000 and len(snap.changes) == 50 and len(symptoms) == 5
    i = snap.changes.refs.index(planted)
    target = snap.changes.seeds(i)[0]
    from ccm.engine import oracle

    reach = oracle.reachable(oracle.to_networkx(snap), [int(target)])
    assert {snap.index[s.ref] for s in symptoms} <= reach
    assert all(s.time > snap.changes.time[i] for s in symptoms)
