"""Jaeger /api/dependencies -> DEPENDS_ON edges weighted by call counts."""

from __future__ import annotations

import json

from ingest import ingest_bytes, ingest_paths
from tests.helpers import AT1, AT2, FIXTURES, LATER, attrs_of, deps, edges

BODY = (FIXTURES / "jaeger" / "dependencies.json").read_bytes()


def test_dependencies_become_edges_with_call_counts(store):
    report = ingest_paths(store, [FIXTURES / "jaeger" / "dependencies.json"], at=AT1)
    assert report.ok and report.files[0].format == "jaeger"
    g = store.graph(AT1 + 1)
    assert {(e.src, e.dst, e.attrs["call_count"]) for e in g.edges_of("DEPENDS_ON")} == {
        ("service:frontend", "service:cartservice", 5120),
        ("service:frontend", "service:productcatalogservice", 20480),
        ("service:frontend", "service:currencyservice", 9600),
        ("service:checkoutservice", "service:cartservice", 310),
        ("service:checkoutservice", "service:paymentservice", 300),
        ("service:cartservice", "service:redis-cart", 7700),
    }  # the frontend -> frontend self-call is not a dependency


def test_the_bare_list_form_is_read(embedded):
    report = ingest_paths(embedded, [FIXTURES / "jaeger" / "dependencies-bare.json"], at=AT1)
    assert report.files[0].format == "jaeger"
    assert deps(embedded.graph(AT1 + 1)) == {
        ("service:frontend", "service:adservice"),
        ("service:recommendationservice", "service:productcatalogservice")}


def test_names_resolve_to_existing_nodes_of_any_kind(embedded):
    embedded.write([__import__("graph_schema").NodeFact("cache", "redis-cart", {}, 0)])
    ingest_bytes(embedded, "jaeger", BODY, "deps.json", at=AT1)
    assert ("service:cartservice", "cache:redis-cart") in deps(embedded.graph(AT1 + 1))


def test_a_later_body_versions_call_counts_and_keeps_other_attributes(embedded):
    from graph_schema import EdgeFact, NodeFact

    embedded.write([NodeFact("service", "frontend", {}, 0), NodeFact("service", "cartservice",
                                                                      {}, 0),
                    EdgeFact("DEPENDS_ON", "service:frontend", "service:cartservice",
                             {"protocol": "grpc", "evidence": "manifest"}, 0)])
    ingest_bytes(embedded, None, BODY, "deps.json", at=AT1)
    later = BODY.replace(b'"callCount": 5120', b'"callCount": 6000')
    report = ingest_bytes(embedded, None, later, "deps.json", at=AT2)
    assert (report.added, report.closed) == (1, 1)
    fid = "service:frontend|DEPENDS_ON|service:cartservice"
    assert embedded.graph(AT2 - 1).edges[fid].attrs == {
        "protocol": "grpc", "evidence": "manifest", "call_count": 5120}
    assert embedded.graph(AT2 + 1).edges[fid].attrs["call_count"] == 6000
    assert ingest_bytes(embedded, None, later, "deps.json", at=AT2).added == 0


def test_a_bad_item_is_rejected_alone_naming_index_and_field(embedded):
    bad = b'{"data": [{"parent": "a", "child": "b", "callCount": 3}, {"parent": "a", "child": 7}]}'
    report = ingest_bytes(embedded, "jaeger", bad, "deps.json", at=AT1)
    error, = report.errors
    assert "deps.json: data[1]" in error and "field 'child'" in error
    assert report.rejected == 1
    assert edges(embedded.graph(AT1 + 1)) == {("service:a", "DEPENDS_ON", "service:b")}


REAL = FIXTURES / "real" / "traces"


def test_the_empty_answer_of_the_query_api_is_read_as_no_dependencies(embedded):
    report = ingest_paths(embedded, [REAL / "jaeger-empty.json"], at=AT1)
    assert report.ok and report.files[0].format == "jaeger"
    assert (report.files[0].added, report.files[0].rejected) == (0, 0)
    assert deps(embedded.graph(AT1 + 1)) == set()


def test_the_jaeger_ui_sample_dependencies_become_edges(embedded):
    report = ingest_paths(embedded, [REAL / "jaeger-ui-dependencies-small.json"], at=AT1)
    assert report.ok and report.files[0].format == "jaeger"
    g = embedded.graph(AT1 + 1)
    assert {(e.src, e.dst, e.attrs["call_count"]) for e in g.edges_of("DEPENDS_ON")} == {
        ("service:Service1", "service:Service2", 30489),
        ("service:Service1", "service:Service3", 30491),
        ("service:Service1", "service:Service5", 8560),
        ("service:Service8", "service:Service6", 30489),
        ("service:Service6", "service:Service1", 30489),
        ("service:Service2", "service:Service4", 129216),
        ("service:Service3", "service:Service7", 30491),
    }
    assert report.files[0].added == 8 + 7   # the nodes, then the edges


def test_a_jaeger_trace_gives_its_parent_to_child_service_edges(embedded):
    # Jaeger's converter fixture: spans 3 and 4 of service-y are children of span 2 of
    # service-x (4 through its CHILD_OF reference in the same trace, not the one to
    # another trace); span 5 is a child in its own service
    report = ingest_paths(embedded, [REAL / "jaeger-ui-01-trace.json"]).files[0]
    assert (report.format, report.errors, report.added) == ("jaeger", [], 3)
    g = embedded.graph(LATER)
    assert deps(g) == {("service:service-x", "service:service-y")}
    assert attrs_of(g, "service:service-x|DEPENDS_ON|service:service-y") == {
        "call_count": 2, "error_rate": 0.0, "evidence": "jaeger traces",
        "p50_ms": 0.005, "p95_ms": 0.005, "p99_ms": 0.005}
    # the spans' own time (2017-01-26), not --at
    assert embedded.history("service:service-x").edges[0].valid_from == 1485467191639875


def test_the_api_traces_answer_is_read_and_a_bad_trace_is_rejected_alone(embedded):
    trace = json.loads((REAL / "jaeger-ui-01-trace.json").read_text())
    body = {"data": [{"traceID": "9", "spans": [{"spanID": "1", "startTime": "soon"}]},
                     trace], "total": 2, "limit": 0, "offset": 0, "errors": None}
    report = ingest_bytes(embedded, None, json.dumps(body).encode(), "traces.json")
    assert report.format == "jaeger"
    error, = report.errors
    assert "traces.json: data[0].spans[0]" in error and "'startTime'" in error
    assert deps(embedded.graph(LATER)) == {("service:service-x", "service:service-y")}
