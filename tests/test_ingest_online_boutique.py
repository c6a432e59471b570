"""The Online Boutique's real Kubernetes manifests yield its true dependency graph.

The manifests are GoogleCloudPlatform/microservices-demo's ``kubernetes-manifests/``
(see ``tests/fixtures/k8s/online-boutique/README.md`` for the commits); the truth
is the shared topology ``online_boutique.json``, whose edges were read from the same
repository.
"""

from __future__ import annotations

import json
from pathlib import Path

from ingest import ingest_paths
from tests.helpers import AT1, FIXTURES

TRUTH = json.loads(Path("/work/shared/data/topologies/online_boutique.json").read_text()) \
    if Path("/work/shared/data/topologies/online_boutique.json").exists() else None
MANIFESTS = sorted((FIXTURES / "k8s" / "online-boutique").glob("*.yaml"))

#: the edges of online_boutique.json (caller, callee, protocol), written out so that the
#: test reads on its own; the test checks they are the shared file's when it is there
EXPECTED_EDGES = {
    ("frontend", "productcatalogservice", "grpc"), ("frontend", "currencyservice", "grpc"),
    ("frontend", "cartservice", "grpc"), ("frontend", "recommendationservice", "grpc"),
    ("frontend", "shippingservice", "grpc"), ("frontend", "checkoutservice", "grpc"),
    ("frontend", "adservice", "grpc"), ("checkoutservice", "productcatalogservice", "grpc"),
    ("checkoutservice", "shippingservice", "grpc"), ("checkoutservice", "paymentservice", "grpc"),
    ("checkoutservice", "emailservice", "grpc"), ("checkoutservice", "currencyservice", "grpc"),
    ("checkoutservice", "cartservice", "grpc"),
    ("recommendationservice", "productcatalogservice", "grpc"),
    ("cartservice", "redis-cart", "redis"), ("loadgenerator", "frontend", "http"),
}


def test_the_expected_edges_are_the_shared_topology_s():
    if TRUTH is not None:
        assert {(e["caller"], e["callee"], e["protocol"]) for e in TRUTH["edges"]} == \
            EXPECTED_EDGES


def test_the_online_boutique_manifests_give_its_true_dependency_graph(store):
    report = ingest_paths(store, MANIFESTS, at=AT1)
    assert report.ok and {f.format for f in report.files} == {"k8s"}, report.to_dict()
    g = store.graph(AT1 + 1)
    got = {(e.src.split(":", 1)[1], e.dst.split(":", 1)[1], e.attrs.get("protocol"))
           for e in g.edges_of("DEPENDS_ON")}
    assert got == EXPECTED_EDGES
    components = {n.name: n.kind for n in g.nodes.values() if n.kind != "config"}
    assert components == {
        **{s: "service" for s in ("frontend", "productcatalogservice", "currencyservice",
                                  "cartservice", "recommendationservice", "shippingservice",
                                  "checkoutservice", "adservice", "paymentservice",
                                  "emailservice", "loadgenerator")},
        "redis-cart": "cache"}
    if TRUTH is not None:
        assert components == {s["name"]: s["kind"] for s in TRUTH["services"]}
    entrypoints = {n.name for n in g.nodes.values() if n.attrs.get("entrypoint")}
    assert entrypoints == {"frontend"} == set(TRUTH["entrypoints"] if TRUTH else ["frontend"])
    assert g.nodes["config:cartservice/REDIS_ADDR"].attrs["value"] == "redis-cart:6379"
    again = ingest_paths(store, MANIFESTS, at=AT1)
    assert again.totals()["added"] == 0
