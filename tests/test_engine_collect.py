"""Compiling a store's graph: edges, changes and their seeds, firing alerts."""

from __future__ import annotations

import numpy as np

from ccm.engine.collect import snapshot_from_graph
from ccm.engine.snapshot import NO_EXPIRY
from graph_schema import NodeFact, parse_time

AT = parse_time("2026-03-05T10:00:00Z")


def test_only_dependency_and_config_edges_enter_the_propagation_graph(demo_store):
    g = demo_store.graph(AT)
    s = snapshot_from_graph(g)
    kinds = {e.kind for e in g.edges.values()}
    assert {"CHANGED", "SYMPTOM_OF"} <= kinds
    expected = sum(1 for e in g.edges.values() if e.kind in ("DEPENDS_ON", "HAS_CONFIG"))
    assert len(s.edges) == expected
    assert all(r.split("|")[1] in ("DEPENDS_ON", "HAS_CONFIG") for r in s.edge_refs)


def test_edge_attributes_become_features(demo_store):
    s = snapshot_from_graph(demo_store.graph(AT))
    e = s.edge_refs.index("service:frontend|DEPENDS_ON|service:recommendationservice")
    assert not s.edges.hard[e] and s.edges.calls[e] == 35.0 and np.isnan(s.edges.learned[e])
    a = s.edge_refs.index("service:checkoutservice|DEPENDS_ON|service:emailservice")
    assert s.edges.is_async[a]


def test_a_config_change_seeds_at_its_config_keys_and_a_deploy_at_its_target(demo_store):
    s = snapshot_from_graph(demo_store.graph(AT))
    seeds = {r: [s.refs[v] for v in s.changes.seeds(i)] for i, r in enumerate(s.changes.refs)}
    assert seeds["change:chg-102"] == ["config:cartservice/REDIS_ADDR"]
    assert seeds["change:chg-106"] == ["service:currencyservice"]
    i = s.changes.refs.index("change:chg-102")
    assert s.changes.meta[i]["keys"] == ["REDIS_ADDR"]
    assert s.refs[s.changes.target[i]] == "service:cartservice"


def test_resolved_alerts_are_history_not_symptoms(embedded):
    from graph_schema import EdgeFact, NodeFact

    t = parse_time("2026-03-01T00:00:00Z")
    embedded.write([
        NodeFact("service", "a", {}, t),
        NodeFact("alert", "x", {"status": "resolved", "signal": "latency", "starts_at": t}, t),
        EdgeFact("SYMPTOM_OF", "alert:x", "service:a", {"signal": "latency"}, t),
        NodeFact("alert", "y", {"status": "firing", "starts_at": t + 5}, t + 5),
        EdgeFact("SYMPTOM_OF", "alert:y", "service:a", {"signal": "latency"}, t + 5),
    ])
    s = embedded.snapshot(t + 10)
    assert s.alerts.refs == ["alert:y"]
    assert s.alerts.signal == ["latency"] and s.alerts.time.tolist() == [t + 5]


def test_monitored_false_and_entrypoints_are_read_from_attributes(embedded):
    from graph_schema import NodeFact

    t = parse_time("2026-03-01T00:00:00Z")
    embedded.write([NodeFact("service", "a", {"entrypoint": True, "rps": 7.0}, t),
                    NodeFact("service", "b", {"monitored": False}, t)])
    s = embedded.snapshot(t)
    a, b = s.index["service:a"], s.index["service:b"]
    assert (s.nodes.monitored[a], s.nodes.monitored[b]) == (True, False)
    assert (s.traffic[a], s.traffic[b]) == (7.0, 0.0)


def test_a_config_value_expires_at_its_attribute_or_at_a_not_after_option_in_it(embedded):
    t = parse_time("2026-03-01T00:00:00Z")
    embedded.write([
        NodeFact("config", "a/TLS_CERT", {"owner": "a", "key": "TLS_CERT",
                                          "value": "CN=a.example, notAfter=2026-03-02T08:00:00Z"}, t),
        NodeFact("config", "a/TOKEN", {"owner": "a", "key": "TOKEN",
                                       "expires_at": parse_time("2026-04-01T00:00:00Z")}, t),
        NodeFact("config", "a/LOG_LEVEL", {"owner": "a", "key": "LOG_LEVEL", "value": "info"}, t),
        NodeFact("service", "a", {}, t)])
    s = embedded.snapshot(t)
    expires = {r: int(s.nodes.expires[i]) for r, i in s.index.items()}
    assert expires["config:a/TLS_CERT"] == parse_time("2026-03-02T08:00:00Z")
    assert expires["config:a/TOKEN"] == parse_time("2026-04-01T00:00:00Z")
    assert expires["config:a/LOG_LEVEL"] == expires["service:a"] == NO_EXPIRY
