"""The oracles themselves, on cases small enough to check by hand."""

from __future__ import annotations

import networkx as nx
import pytest

from ccm.engine import oracle


def graph(edges):
    g = nx.DiGraph()
    for u, v, p in edges:
        g.add_edge(u, v, p=p, p_td=p / 2)
    return g


def test_the_jacobi_fixpoint_of_a_chain_is_the_product():
    r, others = oracle.noisy_or(graph([(1, 0, 0.5), (2, 1, 0.5)]), {0: 1.0})
    assert r == pytest.approx({0: 1.0, 1: 0.5, 2: 0.25})
    assert others[0] == 0.0


def test_the_floor_stops_weak_impact():
    r, _ = oracle.noisy_or(graph([(1, 0, 0.1), (2, 1, 0.9)]), {0: 1.0}, floor=0.2)
    assert r == pytest.approx({0: 1.0, 1: 0.1, 2: 0.0})


def test_the_condensation_algorithm_equals_the_definition_on_a_cycle():
    g = graph([(0, 1, 0.9), (1, 0, 0.9), (0, 2, 0.5)])
    r, _ = oracle.noisy_or(g, {2: 1.0})
    assert oracle.noisy_or_condensed(g, {2: 1.0}) == pytest.approx(r)


def test_best_paths_prefer_the_more_probable_route():
    g = graph([(1, 0, 0.9), (2, 1, 0.9), (2, 0, 0.5)])
    best = oracle.max_product(g, {0: 1.0})
    assert best[(2, 0)] == (pytest.approx(0.81), [0, 1, 2])


def test_latest_cause_time_covers_dependencies_of_errors_and_callers_dependencies_of_drops():
    g = graph([(1, 0, 0.5), (2, 1, 0.5), (2, 3, 0.5)])
    latest = oracle.latest_cause_time(g, [(1, 10, True)])
    assert latest.tolist()[:2] == [10, 10] and latest[2] == oracle.NO_TIME
    latest = oracle.latest_cause_time(g, [(0, 7, False)])
    assert latest.tolist() == [7, 7, 7, 7]
