"""Kubernetes manifests as their projects ship them and as clusters print them.

The files are in ``tests/fixtures/real/kubernetes/`` (provenance in
``tests/fixtures/real/README.md``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest
import yaml

from ccm.errors import NotFound
from graph_schema import parse_time
from ingest import ingest_bytes, ingest_paths
from ingest.resolver import Resolver
from tests.helpers import AT1, FIXTURES, attrs_of, edges
from tests.test_ingest_online_boutique import EXPECTED_EDGES

REAL = FIXTURES / "real" / "kubernetes"
MONTH = 30 * 24 * 3600 * 1_000_000

#: Online Boutique's dependencies (caller, callee, protocol): the same at v0.8.0 and v0.10.6
BOUTIQUE_EDGES = EXPECTED_EDGES
#: the services whose image tag v0.8.0 -> v0.10.6 changed (redis-cart stays redis:alpine)
BOUTIQUE_BUILT = ("adservice", "cartservice", "checkoutservice", "currencyservice",
                  "emailservice", "frontend", "loadgenerator", "paymentservice",
                  "productcatalogservice", "recommendationservice", "shippingservice")


def dependencies(g: Any) -> set[tuple[str, str, str | None]]:
    return {(e.src.split(":", 1)[1], e.dst.split(":", 1)[1], e.attrs.get("protocol"))
            for e in g.edges_of("DEPENDS_ON")}


def components(g: Any) -> set[str]:
    return {r for r, n in g.nodes.items() if n.kind not in ("config", "change")}


def test_both_online_boutique_releases_give_its_sixteen_dependencies(embedded):
    for i, name in enumerate(("online-boutique-v0.8.0.yaml", "online-boutique-v0.10.6.yaml")):
        at = AT1 + i * MONTH
        report = ingest_paths(embedded, [REAL / name], at=at)
        assert report.ok and report.files[0].format == "k8s", report.to_dict()
        assert dependencies(embedded.graph(at + 1)) == BOUTIQUE_EDGES
    # v0.10.6 adds a ServiceAccount per workload: skipped, counted
    assert report.files[0].skipped == {"k8s ServiceAccount": 11}


def test_v0_10_6_a_month_after_v0_8_0_is_a_deploy_of_each_rebuilt_service(embedded):
    assert ingest_paths(embedded, [REAL / "online-boutique-v0.8.0.yaml"], at=AT1).ok
    later = AT1 + MONTH
    assert ingest_paths(embedded, [REAL / "online-boutique-v0.10.6.yaml"], at=later).ok
    g = embedded.graph(later + 1)
    changes = {(r, n.attrs["change_kind"], n.attrs["target"], n.attrs["version"],
                n.attrs["previous_version"], n.attrs["time"])
               for r, n in g.nodes.items() if n.kind == "change"}
    assert changes == {(f"change:deploy-{s}-v0.10.6", "deploy", f"service:{s}", "v0.10.6",
                        "v0.8.0", later) for s in BOUTIQUE_BUILT}
    assert edges(g, "CHANGED") == {(f"change:deploy-{s}-v0.10.6", "CHANGED", f"service:{s}")
                                   for s in BOUTIQUE_BUILT}
    assert attrs_of(g, "service:cartservice")["version"] == "v0.10.6"
    assert "frontend-external" in attrs_of(g, "service:frontend")["aliases"]
    # the same release again is no new change
    again = ingest_paths(embedded, [REAL / "online-boutique-v0.10.6.yaml"], at=later + MONTH)
    assert again.ok and again.totals()["added"] == 0


def test_a_cdevents_deploy_of_the_same_version_is_the_same_change(embedded):
    assert ingest_paths(embedded, [REAL / "online-boutique-v0.8.0.yaml"], at=AT1).ok
    assert ingest_paths(embedded, [REAL / "online-boutique-v0.10.6.yaml"], at=AT1 + MONTH).ok
    event = json.loads((FIXTURES / "cdevents" / "service_deployed.json").read_text())
    event["subject"]["id"] = "service/cartservice"
    event["subject"]["content"]["artifactId"] = "pkg:oci/cartservice@v0.10.6"
    event["context"]["timestamp"] = "2026-03-03T00:05:00Z"
    report = ingest_bytes(embedded, None, json.dumps(event).encode(), "deployed.json")
    assert report.ok and report.format == "cdevents"
    g = embedded.graph(parse_time("2026-03-04T00:00:00Z"))
    assert [r for r, n in g.nodes.items() if n.kind == "change"
            and n.attrs["target"] == "service:cartservice"] == ["change:deploy-cartservice-v0.10.6"]


def _ccm(store: Any, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CCM_STORE": str(store), "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "ccm", *args], capture_output=True,
                          text=True, env=env, timeout=600)


def test_a_deploy_cdevents_reported_first_is_kept_as_the_event_said_it(embedded):
    assert ingest_paths(embedded, [REAL / "online-boutique-v0.8.0.yaml"], at=AT1).ok
    event = json.loads((FIXTURES / "cdevents" / "service_deployed.json").read_text())
    event["subject"]["id"] = "service/cartservice"
    event["subject"]["content"]["artifactId"] = "pkg:oci/cartservice@v0.10.6"
    event["context"]["timestamp"] = "2026-03-01T10:05:00Z"
    assert ingest_bytes(embedded, None, json.dumps(event).encode(), "deployed.json").ok
    assert ingest_paths(embedded, [REAL / "online-boutique-v0.10.6.yaml"], at=AT1 + MONTH).ok
    change = embedded.history(f"change:{event['context']['id']}").node
    assert [(v.valid_from, v.attrs["time"], v.attrs["event_type"]) for v in change] == [
        (parse_time("2026-03-01T10:05:00Z"), parse_time("2026-03-01T10:05:00Z"),
         "dev.cdevents.service.deployed.0.2.0")]
    with pytest.raises(NotFound):  # the manifest does not record it again
        embedded.history("change:deploy-cartservice-v0.10.6")


def test_a_deploy_the_manifest_recorded_first_is_the_same_change_as_a_later_event(embedded):
    assert ingest_paths(embedded, [REAL / "online-boutique-v0.8.0.yaml"], at=AT1).ok
    assert ingest_paths(embedded, [REAL / "online-boutique-v0.10.6.yaml"], at=AT1 + MONTH).ok
    event = json.loads((FIXTURES / "cdevents" / "service_deployed.json").read_text())
    event["subject"]["id"] = "service/cartservice"
    event["subject"]["content"]["artifactId"] = "pkg:oci/cartservice@v0.10.6"
    assert ingest_bytes(embedded, None, json.dumps(event).encode(), "deployed.json").ok
    g = embedded.graph()
    assert {s for s, _, d in edges(g, "CHANGED") if d == "service:cartservice"} == {
        "change:deploy-cartservice-v0.10.6"}


def test_rca_ranks_the_gitops_deploy_of_a_crashing_service_first(tmp_path):
    def ccm(*args: str) -> subprocess.CompletedProcess[str]:
        return _ccm(tmp_path / "ccm.sqlite", *args)

    for at, name in (("2026-11-01T00:00:00Z", "v0.8.0"), ("2026-12-01T00:00:00Z", "v0.10.6")):
        out = ccm("ingest", "--at", at, str(REAL / f"online-boutique-{name}.yaml"))
        assert out.returncode == 0, out.stderr
    out = ccm("rca", "--at", "2026-12-01T00:11:00Z", "--symptom", "service:cartservice:crash",
              "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["chains"][0]["chain"] == [
        "change:deploy-cartservice-v0.10.6", "service:cartservice"]


def test_bookinfo_is_one_node_per_service_with_reviews_running_three_versions(embedded):
    report = ingest_paths(embedded, [REAL / "bookinfo.yaml"], at=AT1)
    assert report.ok and report.files[0].skipped == {"k8s ServiceAccount": 4}
    g = embedded.graph(AT1 + 1)
    assert components(g) == {"service:productpage", "service:details", "service:ratings",
                             "service:reviews"}
    reviews = attrs_of(g, "service:reviews")
    assert reviews["image"] == ", ".join(
        f"registry.istio.io/release/examples-bookinfo-reviews-v{i}:1.20.3" for i in (1, 2, 3))
    assert (reviews["version"], reviews["replicas"], reviews["labels"]) == (
        "1.20.3", 3, {"app": "reviews"})
    assert reviews["aliases"] == ["reviews-v1", "reviews-v2", "reviews-v3", "reviews.default",
                                  "reviews.default.svc", "reviews.default.svc.cluster.local"]
    # bookinfo compiles its hosts into the images: no dependency to read
    assert dependencies(g) == set()


def test_a_release_of_every_bookinfo_version_is_one_deploy_per_service(embedded):
    release = (REAL / "bookinfo.yaml").read_bytes()
    assert ingest_bytes(embedded, None, release, "bookinfo.yaml", at=AT1).ok
    later = AT1 + MONTH
    next_release = release.replace(b":1.20.3", b":1.21.0")   # every image's next tag
    report = ingest_bytes(embedded, None, next_release, "bookinfo.yaml", at=later)
    assert report.ok and report.added == 12   # a version, a change, a CHANGED edge each
    g = embedded.graph(later + 1)
    changes = {r: n.attrs for r, n in g.nodes.items() if n.kind == "change"}
    assert set(changes) == {f"change:deploy-{s}-1.21.0"
                            for s in ("productpage", "details", "ratings", "reviews")}
    reviews = changes["change:deploy-reviews-1.21.0"]
    assert [part.split(":", 1)[0] for part in reviews["description"].split("; ")] == [
        f"Deployment default/reviews-v{i}" for i in (1, 2, 3)]
    assert attrs_of(g, "service:reviews")["version"] == "1.21.0"


def test_every_alias_finds_the_service_in_a_later_run(embedded):
    assert ingest_paths(embedded, [REAL / "bookinfo.yaml"], at=AT1).ok
    later = Resolver(embedded)  # a new run: the aliases come from the store
    found = {name: later.find(name) for name in (
        "reviews-v1", "reviews-v3", "reviews.default", "reviews.default.svc",
        "ratings.default.svc.cluster.local", "productpage-v1", "ratings", "nothing.default")}
    assert found == {
        "reviews-v1": "service:reviews", "reviews-v3": "service:reviews",
        "reviews.default": "service:reviews", "reviews.default.svc": "service:reviews",
        "ratings.default.svc.cluster.local": "service:ratings",
        "productpage-v1": "service:productpage", "ratings": "service:ratings",
        "nothing.default": None}


def test_a_change_event_naming_a_workload_lands_on_its_service(embedded):
    assert ingest_paths(embedded, [REAL / "bookinfo.yaml"], at=AT1).ok
    event = json.loads((FIXTURES / "cdevents" / "service_deployed.json").read_text())
    event["subject"]["id"] = "service/reviews-v2"
    event["subject"]["content"]["artifactId"] = "pkg:oci/examples-bookinfo-reviews-v2@1.21.0"
    assert ingest_bytes(embedded, None, json.dumps(event).encode(), "deployed.json").ok
    g = embedded.graph(parse_time("2026-03-02T00:00:00Z"))
    assert edges(g, "CHANGED") == {
        (f"change:{event['context']['id']}", "CHANGED", "service:reviews")}
    assert "service:reviews-v2" not in g.nodes


def test_a_jaeger_graph_in_istio_names_lands_on_the_manifests_nodes(tmp_path, embedded):
    tmp_path = tmp_path / "in"
    tmp_path.mkdir()
    (tmp_path / "bookinfo.yaml").write_bytes((REAL / "bookinfo.yaml").read_bytes())
    (tmp_path / "deps.json").write_text(json.dumps({"data": [
        {"parent": "productpage.default", "child": "reviews.default", "callCount": 10},
        {"parent": "productpage.default", "child": "details.default", "callCount": 10},
        {"parent": "reviews-v2", "child": "ratings.default.svc.cluster.local", "callCount": 7},
    ]}))
    report = ingest_paths(embedded, [tmp_path], at=AT1)  # one run: manifests, then traces
    assert report.ok, report.to_dict()
    g = embedded.graph(AT1 + 1)
    assert components(g) == {"service:productpage", "service:details", "service:ratings",
                             "service:reviews"}
    assert {(s, d) for s, d, _ in dependencies(g)} == {
        ("productpage", "reviews"), ("productpage", "details"), ("reviews", "ratings")}
    # as a user asks it: a failed deploy of ratings reaches productpage through reviews
    out = _ccm(embedded.path, "predict", "--at", "2026-02-02T00:00:00Z", "deploy", "ratings",
               "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["paths"]["service:productpage"] == [
        "service:ratings", "service:reviews", "service:productpage"]


def test_argo_cd_s_install_starting_with_crds_gives_its_workloads_and_counts_the_rest(
        embedded):
    report = ingest_paths(embedded, [REAL / "argocd-install.yaml"], at=AT1)
    assert report.ok and report.files[0].format == "k8s", report.to_dict()
    assert report.files[0].skipped == {
        "k8s CustomResourceDefinition": 3, "k8s ServiceAccount": 7, "k8s Role": 6,
        "k8s ClusterRole": 3, "k8s RoleBinding": 6, "k8s ClusterRoleBinding": 3,
        "k8s Secret": 2, "k8s NetworkPolicy": 7}
    g = embedded.graph(AT1 + 1)
    assert components(g) == {
        "cache:argocd-redis", "service:argocd-application-controller",
        "service:argocd-applicationset-controller", "service:argocd-dex-server",
        "service:argocd-notifications-controller", "service:argocd-repo-server",
        "service:argocd-server"}
    # Argo CD's addresses are compiled-in defaults (argocd-cmd-params-cm is empty)
    assert dependencies(g) == set()
    assert "config:argocd-cmd-params-cm/redis.server" in g.nodes  # a configMapKeyRef


def test_sock_shop_compiles_its_hosts_into_images_and_gives_one_dependency(embedded):
    report = ingest_paths(embedded, [REAL / "sock-shop-complete-demo.yaml"], at=AT1)
    assert report.ok and report.files[0].skipped == {"k8s Namespace": 1}
    g = embedded.graph(AT1 + 1)
    assert components(g) == {
        "service:carts", "datastore:carts-db", "service:catalogue", "service:catalogue-db",
        "service:front-end", "service:orders", "datastore:orders-db", "service:payment",
        "service:queue-master", "queue:rabbitmq", "cache:session-db", "service:shipping",
        "service:user", "service:user-db"}
    assert dependencies(g) == {("user", "user-db", "mongodb")}   # env MONGO_HOST
    alone = components(g) - {e.src for e in g.edges_of("DEPENDS_ON")} \
        - {e.dst for e in g.edges_of("DEPENDS_ON")}
    assert len(alone) == 12


def _kubectl_list() -> bytes:
    return (REAL / "kubectl-get-all-namespaces.yaml").read_bytes()


def test_a_kubectl_get_all_namespaces_list_is_read_whatever_comes_first(embedded):
    report = ingest_bytes(embedded, None, _kubectl_list(), "dump.yaml", at=AT1)
    assert report.ok and report.format == "k8s", report.errors
    assert report.skipped == {"k8s ServiceAccount": 1, "k8s ReplicaSet": 1, "k8s Pod": 1}
    g = embedded.graph(parse_time("2026-11-03T00:00:00Z"))
    # kube-root-ca.crt and istio-ca-root-cert are in every namespace: qualified by it
    assert {r for r in g.nodes if r.startswith("config:")} == {
        "config:kube-root-ca.crt.default/ca.crt", "config:kube-root-ca.crt.kube-system/ca.crt",
        "config:istio-ca-root-cert.default/root-cert.pem",
        "config:istio-ca-root-cert.kube-system/root-cert.pem"}
    assert components(g) == {"service:ratings"}
    # valid from the Deployment's newest write that is not a status write
    assert embedded.history("service:ratings").node[0].valid_from == \
        parse_time("2026-11-02T09:25:02Z")


def test_the_same_list_as_kubectl_get_o_json_prints_it_gives_the_same_graph(embedded, tmp_path):
    doc = yaml.safe_load(_kubectl_list())
    as_json = json.dumps(doc, indent=4).encode()
    first = ingest_bytes(embedded, None, _kubectl_list(), "dump.yaml", at=AT1)
    again = ingest_bytes(embedded, None, as_json, "dump.json", at=AT1)
    assert first.ok and again.ok and again.format == "k8s"
    assert again.added == 0


def test_istio_routes_and_service_entries_are_dependencies(embedded):
    paths = [REAL / "bookinfo.yaml", REAL / "istio"]
    report = ingest_paths(embedded, paths, at=AT1)
    assert report.ok, report.to_dict()
    skipped = {k: v for f in report.files for k, v in f.skipped.items()}
    assert skipped == {"k8s ServiceAccount": 4, "k8s Gateway": 1, "k8s DestinationRule": 4}
    g = embedded.graph(AT1 + 1)
    assert {"gateway:bookinfo-gateway", "external:www.googleapis.com"} <= components(g)
    assert attrs_of(g, "gateway:bookinfo-gateway")["entrypoint"] is True
    # the gateway routes to productpage; reviews' VirtualService only splits its versions
    assert dependencies(g) == {("bookinfo-gateway", "productpage", "http")}
