"""Baseline random_walk: the power iteration against networkx's PageRank, and the ranking."""

from __future__ import annotations

import networkx as nx
import pytest

from ccm.bench.methods import random_walk as rw
from tests.benchcases import ask_case, write_case


@pytest.fixture
def question(tmp_path):  # type: ignore[no-untyped-def]
    return ask_case(write_case(tmp_path))


def _networkx_oracle(q):  # type: ignore[no-untyped-def]
    anomalous = {a.node for a in q.alerts}
    nodes = rw._subgraph(q, anomalous)
    g = nx.DiGraph()
    g.add_nodes_from(nodes)

    def add(u, v, w):  # type: ignore[no-untyped-def]
        g.add_edge(u, v, weight=g.get_edge_data(u, v, {"weight": 0.0})["weight"] + w)

    for u in nodes:
        for v in q.callees.get(u, ()):
            if v in nodes:
                w = rw.ALPHA if v in anomalous else rw.BETA
                add(u, v, w)
                add(v, u, rw.RHO * w)
        if u in anomalous and not any(c in anomalous for c in q.callees.get(u, ())):
            add(u, u, rw.ALPHA)
    degree = {n: len(q.callees.get(n, ())) + len(q.callers.get(n, ())) for n in nodes}
    pers = {n: (1.0 / degree[n] if n in anomalous else 0.0) for n in nodes}
    return nx.pagerank(g, alpha=rw.DAMPING, personalization=pers, weight="weight", tol=1e-12)


def test_the_power_iteration_agrees_with_networkx_pagerank(question):
    ours = dict(rw.pagerank(question))
    oracle = _networkx_oracle(question)
    assert set(ours) == set(oracle) == {"service:frontend", "service:checkout", "service:cart",
                                        "service:ads"}
    for node, score in oracle.items():
        assert ours[node] == pytest.approx(score, abs=1e-6)


def test_the_anomalous_node_with_healthy_dependencies_ranks_first_and_maps_to_its_change(
        question):
    ranked = rw.RandomWalk().rank(question, 10)
    assert rw.pagerank(question)[0][0] == "service:checkout"
    assert ranked[0].root == "change:chg-42"
    assert len({r.root for r in ranked}) == len(ranked)


def test_a_node_without_changes_is_its_own_root(question):
    roots = [r.root for r in rw.RandomWalk().rank(question, 10)]
    assert "service:cart" in roots
