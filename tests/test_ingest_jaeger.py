"""Jaeger /api/dependencies -> DEPENDS_ON edges weighted by call counts."""

from __future__ import annotations

from ingest import ingest_bytes, ingest_paths
from tests.helpers import AT1, AT2, FIXTURES, deps, edges

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
