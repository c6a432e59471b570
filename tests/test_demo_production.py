"""The bundled demo production, loaded into a fresh store."""

from __future__ import annotations

from ccm.demo.production import demo_data_dir, load_demo
from graph_schema import NodeFact, parse_time


def test_the_demo_holds_online_boutique_with_its_planted_config_change(tmp_path):
    store = load_demo(tmp_path / "demo.sqlite")
    try:
        g = store.graph(parse_time("2026-03-05T10:00:00Z"))
        assert "service:frontend" in g.nodes and "cache:redis-cart" in g.nodes
        assert "syncTimeout=50" in g.nodes["config:cartservice/REDIS_ADDR"].attrs["value"]
        assert len(list(g.nodes_of("alert"))) == 3
    finally:
        store.close()


def test_loading_again_replaces_the_store_instead_of_adding_to_it(tmp_path):
    first = load_demo(tmp_path / "demo.sqlite")
    stats = first.stats()
    first.write([NodeFact("service", "extra", {}, parse_time("2026-03-01T00:00:00Z"))])
    assert "service:extra" in first.refs("service")
    first.close()
    again = load_demo(tmp_path / "demo.sqlite")
    try:
        assert "service:extra" not in again.refs("service") and again.stats() == stats
    finally:
        again.close()


def test_the_data_ships_inside_the_package():
    names = sorted(p.name for p in demo_data_dir().glob("*.jsonl"))
    assert names == ["alerts.jsonl", "changes.jsonl", "scale.jsonl", "topology.jsonl"]
