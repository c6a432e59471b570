"""What only the Neo4j store promises (the contract suite covers the rest)."""

from __future__ import annotations

import pytest

from ccm.errors import ConfigError, StoreUnavailable
from ccm.store import open_store
from ccm.store.neo4j import Neo4jStore
from graph_schema import EdgeFact, NodeFact

pytestmark = pytest.mark.neo4j


def test_a_neo4j_uri_with_routing_works_against_one_server(neo4j_uri, clock):
    routed = neo4j_uri.replace("bolt://", "neo4j://")
    store = open_store(routed, clock=clock)
    try:
        assert isinstance(store, Neo4jStore) and store.uri == routed
        store.ping()
    finally:
        store.close()


def test_edges_are_real_relationships_between_unique_entities(neo4j_uri, clock):
    store = Neo4jStore(neo4j_uri, clock=clock)
    try:
        store.wipe()
        store.write([NodeFact("service", "a"), NodeFact("cache", "b"),
                     EdgeFact("DEPENDS_ON", "service:a", "cache:b", {"hard": True})])
        rows = store._read("MATCH (a:Entity:Service)-[r:DEPENDS_ON]->(b:Entity:Cache) "
                           "RETURN a.ref, b.ref, r.valid_from")
        assert rows == [["service:a", "cache:b", 0]]
        constraints = store._read("SHOW CONSTRAINTS YIELD labelsOrTypes, properties, type "
                                  "RETURN labelsOrTypes, properties, type")
        assert [["Entity"], ["ref"], "UNIQUENESS"] in constraints
    finally:
        store.close()


def test_a_missing_uri_says_which_settings_to_set(monkeypatch):
    monkeypatch.delenv("NEO4J_URI", raising=False)
    with pytest.raises(ConfigError, match="set NEO4J_URI"):
        Neo4jStore()


def test_an_unreachable_server_is_a_clear_error():
    with pytest.raises(StoreUnavailable, match="cannot reach Neo4j at bolt://127.0.0.1:1"):
        Neo4jStore("bolt://127.0.0.1:1")
