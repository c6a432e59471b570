"""Drawing the dependency graph: the subgraph drawn, the layout, chains and blast radius."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pytest
from matplotlib.colors import to_hex

from ccm.viz import chain_roles, dependency_graph, draw_chain, draw_impact, layered_layout
from graph_schema import EdgeFact, NodeFact, parse_time

D0 = parse_time("2026-03-01T00:00:00Z")
CHAIN = ["change:c1", "config:cart/TIMEOUT", "service:cart", "service:web"]


@pytest.fixture
def graph(embedded):
    """web -> cart -> redis, web -> search <-> index (a cycle), cart's TIMEOUT key, a change
    to it and an alert on web."""
    embedded.write([
        NodeFact("service", "web", {"entrypoint": True}, D0), NodeFact("service", "cart", {}, D0),
        NodeFact("cache", "redis", {}, D0), NodeFact("service", "search", {}, D0),
        NodeFact("datastore", "index", {}, D0),
        NodeFact("config", "cart/TIMEOUT", {"owner": "cart", "key": "TIMEOUT"}, D0),
        NodeFact("change", "c1", {"change_kind": "config_change", "target": "service:cart"}, D0),
        NodeFact("alert", "a1", {"signal": "errors"}, D0),
        EdgeFact("DEPENDS_ON", "service:web", "service:cart", {}, D0),
        EdgeFact("DEPENDS_ON", "service:cart", "cache:redis", {}, D0),
        EdgeFact("DEPENDS_ON", "service:web", "service:search", {}, D0),
        EdgeFact("DEPENDS_ON", "service:search", "datastore:index", {}, D0),
        EdgeFact("DEPENDS_ON", "datastore:index", "service:search", {}, D0),
        EdgeFact("HAS_CONFIG", "service:cart", "config:cart/TIMEOUT", {}, D0),
        EdgeFact("CHANGED", "change:c1", "config:cart/TIMEOUT", {}, D0),
        EdgeFact("SYMPTOM_OF", "alert:a1", "service:web", {"signal": "errors"}, D0),
    ])
    return embedded.graph(D0)


def test_the_drawn_graph_is_the_components_and_their_dependencies(graph):
    g = dependency_graph(graph)
    assert set(g) == {"service:web", "service:cart", "cache:redis", "service:search",
                      "datastore:index"}
    assert all(d["kind"] == "DEPENDS_ON" for _, _, d in g.edges(data=True))
    assert g.number_of_edges() == 5


def test_extra_nodes_come_with_the_edges_that_join_them(graph):
    g = dependency_graph(graph, ["change:c1", "config:cart/TIMEOUT", "alert:a1"])
    assert g.has_edge("change:c1", "config:cart/TIMEOUT")
    assert g.has_edge("service:cart", "config:cart/TIMEOUT")
    assert g.has_edge("alert:a1", "service:web")
    assert g.nodes["change:c1"]["extra"] and "extra" not in g.nodes["service:cart"]


def test_callers_are_drawn_above_what_they_call_and_a_cycle_shares_a_layer(graph):
    g = dependency_graph(graph)
    pos = layered_layout(g)
    assert pos["service:web"][1] > pos["service:cart"][1] > pos["cache:redis"][1]
    assert pos["service:search"][1] == pos["datastore:index"][1]
    assert pos == layered_layout(dependency_graph(graph))  # deterministic


def test_extra_nodes_sit_clear_of_every_other_node_and_label(graph):
    g = dependency_graph(graph, CHAIN + ["alert:a1"])
    pos = layered_layout(g)
    refs = list(pos)
    for i, a in enumerate(refs):
        for b in refs[i + 1:]:
            if g.nodes[a].get("extra") or g.nodes[b].get("extra"):
                dx, dy = abs(pos[a][0] - pos[b][0]), abs(pos[a][1] - pos[b][1])
                assert dx >= 0.9 or dy >= 0.45, (a, b)
    assert pos["alert:a1"][1] > pos["service:web"][1]  # alerts above what they are about
    assert pos["config:cart/TIMEOUT"][1] < pos["service:cart"][1]


def test_chain_roles_tell_the_predicted_the_confirmed_and_both():
    roles = chain_roles(["change:c2", "service:cart", "service:web"], CHAIN)
    assert roles == {"change:c2": "chain", "service:cart": "both", "service:web": "both",
                     "change:c1": "truth", "config:cart/TIMEOUT": "truth"}


def _outline(ax, g_nodes):
    nodes = ax.collections[0]
    return dict(zip(g_nodes, (to_hex(c) for c in nodes.get_edgecolors()), strict=True))


def test_a_drawn_chain_outlines_its_nodes_and_has_a_legend(graph):
    fig, ax = plt.subplots()
    draw_chain(graph, ["change:c2", "service:cart", "service:web"], ax, truth=CHAIN)
    g = dependency_graph(graph, ["change:c2", *CHAIN])
    outline = _outline(ax, list(g))
    assert outline["service:cart"] == "#000000"      # in both chains
    assert outline["change:c2"] == "#d62728"         # predicted only (not in the graph: bare)
    assert outline["config:cart/TIMEOUT"] == "#2ca02c"
    assert outline["cache:redis"] == "#555555"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "predicted chain", "postmortem chain"]
    plt.close(fig)


def test_the_blast_radius_fills_nodes_by_probability_and_prints_it(graph):
    fig, ax = plt.subplots()
    draw_impact(graph, {"service:cart": 1.0, "service:web": 0.42}, ax, seeds=["service:cart"])
    g = dependency_graph(graph)
    fills = dict(zip(list(g), (to_hex(c) for c in ax.collections[0].get_facecolors()),
                     strict=True))
    assert fills["cache:redis"] == "#eeeeee" and fills["service:web"] != "#eeeeee"
    assert fills["service:cart"] != fills["service:web"]
    texts = {t.get_text() for t in ax.texts}
    assert {"42%", "100%", "redis"} <= texts
    plt.close(fig)
