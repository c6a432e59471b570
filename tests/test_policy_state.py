"""Trust zones for the policy, indexed once per graph read."""

from __future__ import annotations

from ccm.policy.state import Topology, zones_of
from graph_schema import EdgeFact, NodeFact

T = 1_000_000


def graph(embedded):
    embedded.write([
        NodeFact("zone", "dmz", {"trust": "public"}, T),
        NodeFact("zone", "core", {"trust": "restricted"}, T),
        NodeFact("service", "web", {}, T),
        NodeFact("service", "db", {"zone": "core"}, T),
        NodeFact("service", "cache", {}, T),
        EdgeFact("IN_ZONE", "service:web", "zone:dmz", {}, T),
        EdgeFact("IN_ZONE", "service:db", "zone:dmz", {}, T),
    ])
    return embedded.graph(T)


def test_a_topology_indexes_each_nodes_zone_edge_and_each_zones_trust(embedded):
    topo = Topology.of(graph(embedded))
    assert dict(topo.in_zone) == {"service:web": "dmz", "service:db": "dmz"}
    assert dict(topo.zone_trust) == {"dmz": "public", "core": "restricted"}


def test_a_nodes_zone_attribute_wins_over_its_edge_and_unzoned_nodes_are_left_out(embedded):
    g = graph(embedded)
    refs = ["service:web", "service:db", "service:cache"]
    assert zones_of(g, refs) == {"service:web": "dmz", "service:db": "core"}
    assert zones_of(g, refs, Topology.of(g)) == zones_of(g, refs)
