"""Kubernetes manifests -> the graph: kinds, dependencies, config, entrypoints, time."""

from __future__ import annotations

import json

import pytest

from graph_schema import parse_time
from ingest import ingest_bytes, ingest_paths
from tests.helpers import AT1, AT2, FIXTURES, LATER, attrs_of, deps, edges, errors_of

SHOP = FIXTURES / "k8s" / "shop"
V1 = (SHOP / "v1.yaml").read_bytes()
V2 = (SHOP / "v2.yaml").read_bytes()


@pytest.fixture
def shop(embedded):
    report = ingest_bytes(embedded, None, V1, "shop.yaml", at=AT1)
    assert report.ok and report.format == "k8s", report.errors
    return embedded.graph(AT1 + 1)


def test_kinds_come_from_the_annotation_else_the_image_else_service(shop):
    assert {r for r in shop.nodes if not r.startswith("config:")} == {
        "service:web", "service:api", "service:orders-v2", "service:log-agent",
        "datastore:postgresql",       # bitnami/postgresql (the exporter sidecar is ignored)
        "queue:rabbitmq",             # rabbitmq:3.12-management
        "cache:session-cache",        # ccm.io/kind: cache on an application image
        "external:payments-gw",       # an ExternalName Service
    }
    assert attrs_of(shop, "service:web") == {
        "entrypoint": True, "image": "registry.example.com/shop/web:1.4.2", "version": "1.4.2",
        "replicas": 3, "namespace": "shop", "workload": "Deployment",
        "labels": {"app": "web", "tier": "frontend"}}


def test_env_values_naming_workloads_or_services_are_dependencies(shop):
    assert {(e.src, e.dst, e.attrs.get("protocol")) for e in shop.edges_of("DEPENDS_ON")} == {
        ("service:web", "service:api", "http"),           # http://api.shop.svc.cluster.local
        ("service:web", "service:orders-v2", "grpc"),     # Service "orders" selects orders-v2
        ("service:web", "cache:session-cache", "redis"),  # envFrom ConfigMap: redis://...
        ("service:api", "datastore:postgresql", "postgresql"),  # Host=postgresql;...
        ("service:api", "queue:rabbitmq", "amqp"),        # amqp://rabbitmq.shop:5672
        ("service:api", "external:payments-gw", "http"),  # https://payments-gw/charge
    }
    assert attrs_of(shop, "service:web|DEPENDS_ON|service:orders-v2")["evidence"] == \
        "env ORDERS_HOST of Deployment shop/web"


def test_a_value_that_names_nothing_known_is_only_config(shop):
    # REGION=gcp: no workload, Service or node is called gcp
    assert attrs_of(shop, "config:web/REGION")["value"] == "gcp"
    assert not [e for e in shop.edges_of("DEPENDS_ON") if "gcp" in e.dst]


def test_config_maps_and_env_values_are_config_nodes_and_secrets_are_hashed(shop):
    assert edges(shop, "HAS_CONFIG") >= {
        ("service:web", "HAS_CONFIG", "config:shop-config/FEATURE_X"),
        ("service:web", "HAS_CONFIG", "config:shop-config/CACHE_URL"),
        ("service:web", "HAS_CONFIG", "config:web/API_URL"),
        ("service:api", "HAS_CONFIG", "config:api/DATABASE_URL"),
    }
    assert shop.edges["service:web|HAS_CONFIG|config:shop-config/FEATURE_X"].attrs == {
        "via": "configMapKeyRef", "env": "FEATURE_X"}
    assert attrs_of(shop, "config:shop-config/FEATURE_X")["value"] == "on"
    for secret in ("config:shop-config/DB_PASSWORD", "config:web/API_TOKEN"):
        a = attrs_of(shop, secret)
        assert "value" not in a and len(a["value_hash"]) == 64
    assert "hunter2" not in json.dumps(shop.to_dict())
    # fieldRef env vars are not configuration
    assert "config:web/POD_IP" not in shop.nodes


def test_a_load_balancer_marks_an_entrypoint_and_an_annotation_can_refuse_it(shop):
    assert attrs_of(shop, "service:web")["entrypoint"] is True     # LoadBalancer web-public
    assert attrs_of(shop, "service:api")["entrypoint"] is False    # NodePort, annotated false
    assert "entrypoint" not in attrs_of(shop, "service:orders-v2")


def test_a_newer_manifest_versions_what_changed_and_closes_what_vanished(store):
    assert ingest_bytes(store, None, V1, "shop.yaml", at=AT1).ok
    second = ingest_bytes(store, None, V2, "shop.yaml", at=AT2)
    assert second.ok and second.added == 2 and second.closed >= 4
    before, after = store.graph(AT2 - 1), store.graph(AT2 + 1)
    assert attrs_of(before, "config:shop-config/FEATURE_X")["value"] == "on"
    assert attrs_of(after, "config:shop-config/FEATURE_X")["value"] == "off"
    assert attrs_of(before, "service:web")["replicas"] == 3
    assert attrs_of(after, "service:web")["replicas"] == 5
    assert ("service:web", "service:orders-v2") in deps(before)
    assert ("service:web", "service:orders-v2") not in deps(after)
    assert "config:web/ORDERS_HOST" in before.nodes and "config:web/ORDERS_HOST" not in after.nodes
    # the DaemonSet left the file: its node ends at the second ingest
    assert "service:log-agent" in before.nodes and "service:log-agent" not in after.nodes
    # replaying the first time still shows the first manifest, unchanged
    assert store.graph(AT1 + 1).to_dict()["edges"] == before.to_dict()["edges"]


def test_the_same_manifests_twice_change_nothing(embedded):
    ingest_bytes(embedded, None, V1, "shop.yaml", at=AT1)
    again = ingest_bytes(embedded, None, V1, "shop.yaml", at=AT2)
    assert (again.added, again.closed, again.rejected) == (0, 0, 0)


def test_services_in_another_file_of_the_run_resolve(tmp_path, embedded):
    tmp_path = tmp_path / "manifests"
    tmp_path.mkdir()
    docs = V1.decode().split("\n---\n")
    services = [d for d in docs if "kind: Service\n" in d]
    others = [d for d in docs if d not in services]
    (tmp_path / "a-workloads.yaml").write_text("\n---\n".join(others))
    (tmp_path / "b-services.yaml").write_text("\n---\n".join(services))
    report = ingest_paths(embedded, [tmp_path], at=AT1)
    assert report.ok, errors_of(report)
    g = embedded.graph(AT1 + 1)
    assert ("service:web", "service:orders-v2") in deps(g)
    assert attrs_of(g, "service:web")["entrypoint"] is True


def test_a_later_run_resolves_services_an_earlier_run_saw(embedded):
    service = b"""apiVersion: v1
kind: Service
metadata: {name: orders, namespace: shop}
spec: {selector: {app: orders}, ports: [{name: grpc, port: 50051}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: orders-v2, namespace: shop}
spec:
  template:
    metadata: {labels: {app: orders}}
    spec: {containers: [{name: o, image: orders:1}]}
"""
    client = b"""apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: w, image: web:1, env: [{name: ORDERS, value: "orders:50051"}]}]}
"""
    assert ingest_bytes(embedded, None, service, "orders.yaml", at=AT1).ok
    assert ingest_bytes(embedded, None, client, "web.yaml", at=AT1).ok
    g = embedded.graph(AT1 + 1)
    assert g.edges["service:web|DEPENDS_ON|service:orders-v2"].attrs["protocol"] == "grpc"


def _redis(ns: str, image: str = "redis:7") -> bytes:
    return f"""apiVersion: apps/v1
kind: Deployment
metadata: {{name: redis, namespace: {ns}}}
spec:
  template:
    metadata: {{labels: {{app: redis}}}}
    spec: {{containers: [{{name: r, image: "{image}"}}]}}
---
apiVersion: v1
kind: ConfigMap
metadata: {{name: settings-{ns}, namespace: {ns}}}
data: {{MODE: fast}}
""".encode()


def test_a_workload_named_as_one_in_another_namespace_is_refused_naming_both(embedded):
    # one node per bare name: two namespaces' "redis" would overwrite each other; the
    # two ConfigMaps of the file are written
    report = ingest_bytes(embedded, None, _redis("shop") + b"---\n" + _redis("billing"),
                          "two.yaml", at=AT1)
    assert report.rejected == 2 and report.added == 2
    shop, billing = errors_of(report)
    assert "Deployment shop/redis" in shop and "'metadata.namespace'" in shop
    assert "k8s:billing/Deployment/redis" in shop and "own store" in shop
    assert "Deployment billing/redis" in billing and "k8s:shop/Deployment/redis" in billing
    assert "cache:redis" not in embedded.graph(AT1 + 1).nodes
    assert {"config:settings-shop/MODE", "config:settings-billing/MODE"} <= set(
        embedded.graph(AT1 + 1).nodes)


def test_a_later_run_cannot_merge_another_namespaces_workload_into_a_node(embedded):
    assert ingest_bytes(embedded, None, _redis("billing", "redis:6"), "billing.yaml",
                        at=AT1).ok
    later = ingest_bytes(embedded, None, _redis("shop"), "shop.yaml", at=AT2)
    assert not later.ok and "k8s:billing/Deployment/redis" in errors_of(later)[0]
    assert attrs_of(embedded.graph(AT2 + 1), "cache:redis")["namespace"] == "billing"
    # the first namespace's own manifests stay idempotent
    again = ingest_bytes(embedded, None, _redis("billing", "redis:6"), "billing.yaml", at=AT2)
    assert again.ok and (again.added, again.closed) == (0, 0)


def test_config_maps_of_one_name_in_two_namespaces_are_refused_too(embedded):
    doc = """apiVersion: v1
kind: ConfigMap
metadata: {{name: settings, namespace: {ns}}}
data: {{MODE: {mode}}}
"""
    both = (doc.format(ns="a", mode="fast") + "---\n" + doc.format(ns="b", mode="slow"))
    report = ingest_bytes(embedded, None, both.encode(), "cm.yaml", at=AT1)
    assert not report.ok and "k8s:b/ConfigMap/settings" in errors_of(report)[0]


def test_a_list_and_json_manifests_are_read(embedded):
    listing = {"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""},
               "items": [
                   {"apiVersion": "apps/v1", "kind": "Deployment",
                    "metadata": {"name": "a", "namespace": "x"},
                    "spec": {"template": {"spec": {"containers": [
                        {"name": "a", "image": "a:1", "env": [{"name": "B", "value": "b:80"}]}]}}}},
                   {"apiVersion": "apps/v1", "kind": "Deployment",
                    "metadata": {"name": "b", "namespace": "x"},
                    "spec": {"template": {"spec": {"containers": [
                        {"name": "b", "image": "memcached:1.6"}]}}}}]}
    report = ingest_bytes(embedded, None, json.dumps(listing, indent=2).encode(), "all.json",
                          at=AT1)
    assert report.format == "k8s" and report.ok, report.errors
    g = embedded.graph(AT1 + 1)
    assert g.edges["service:a|DEPENDS_ON|cache:b"].attrs["protocol"] == "memcached"


def test_the_newest_managed_fields_write_is_the_valid_time(embedded):
    manifest = b"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: a
  namespace: x
  creationTimestamp: "2025-01-01T00:00:00Z"
  managedFields:
  - manager: kubectl-client-side-apply
    operation: Update
    time: "2026-01-10T08:00:00Z"
  - manager: kube-controller-manager
    operation: Update
    subresource: status
    time: "2026-01-20T08:00:00Z"
spec:
  template:
    spec: {containers: [{name: a, image: a:1}]}
"""
    assert ingest_bytes(embedded, None, manifest, "a.yaml", at=AT1).ok
    assert embedded.history("service:a").node[0].valid_from == parse_time(
        "2026-01-10T08:00:00Z")


def test_a_bad_document_is_rejected_by_name_and_the_others_are_kept(embedded):
    bad = V1 + b"""---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: broken
  namespace: shop
  annotations:
    ccm.io/kind: database
spec:
  template:
    spec: {containers: [{name: b, image: b:1}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {namespace: shop}
"""
    report = ingest_bytes(embedded, None, bad, "shop.yaml", at=AT1, batch_size=1)
    assert not report.ok and report.rejected == 2
    bad_kind, missing_name = report.errors   # both refused when read, in order
    assert "shop.yaml: document 14 (line 239)" in missing_name and "metadata.name" in missing_name
    assert "Deployment shop/broken" in bad_kind and "ccm.io/kind" in bad_kind \
        and "'database'" in bad_kind
    g = embedded.graph(LATER)
    assert "service:web" in g.nodes and not [r for r in g.nodes if "broken" in r]


_MISSHAPEN = {
    "spec.ports": b"kind: Service\nmetadata: {name: oddball, namespace: shop}\n"
                  b"spec: {selector: {app: oddball}, ports: 80}\n",
    "spec.template.metadata": b"kind: Deployment\nmetadata: {name: oddball, namespace: shop}\n"
                              b"spec: {template: {metadata: oops, spec: {containers: []}}}\n",
}


@pytest.mark.parametrize("field", sorted(_MISSHAPEN))
@pytest.mark.parametrize("batch_size", [1, 1000])
def test_a_misshapen_object_is_refused_alone_not_crashing_the_run(embedded, field,
                                                                  batch_size):
    # the index summarises every object of the run for each lookup: before, one of
    # these raised a TypeError/AttributeError out of the run, losing every object
    first, rest = V1.split(b"\n---\n", 1)
    bad = first + b"\n---\napiVersion: v1\n" + _MISSHAPEN[field] + b"---\n" + rest
    report = ingest_bytes(embedded, None, bad, "shop.yaml", at=AT1, batch_size=batch_size)
    (error,) = report.errors
    assert "shop.yaml: document 2 (line" in error and "shop/oddball" in error
    assert f"field '{field}'" in error and ("80" in error or "'oops'" in error)
    assert report.rejected == 1 and report.added == 34
    g = embedded.graph(AT1 + 1)
    assert "service:web" in g.nodes and not [r for r in g.nodes if "oddball" in r]
    again = ingest_bytes(embedded, None, bad, "shop.yaml", at=AT1, batch_size=batch_size)
    assert (again.added, again.closed, again.rejected) == (0, 0, 1)


def _shop_with_cart(cart_annotations: str, cart_mode: str) -> bytes:
    web = ("kind: Deployment\nmetadata: {name: web, namespace: shop}\nspec: {template: {spec: "
           "{containers: [{name: w, image: web:1, env: [{name: CART, value: 'cart:7070'}]}]}}}\n")
    cart = ("kind: Deployment\nmetadata: {name: cart, namespace: shop, annotations: {"
            + cart_annotations + "}}\nspec: {template: {spec: {containers: [{name: c, image: "
            "cart:1, env: [{name: MODE, value: " + cart_mode + "}]}]}}}\n")
    return "---\n".join(f"apiVersion: apps/v1\n{d}" for d in (
        web, cart, web.replace("web", "api"))).encode()


@pytest.mark.parametrize(("annotations", "mode", "field"), [
    # refused when read (before, the lookups of web and api raised its error)
    ("ccm.io/kind: bogus", "fast", "metadata.annotations.ccm.io/kind"),
    # refused by the store (before, web and api waited for its node, then were refused)
    ("", "v" * 70_000, "attrs.value"),
])
def test_a_refused_workload_does_not_take_its_dependents_with_it(embedded, annotations, mode,
                                                                 field):
    body = _shop_with_cart(annotations, mode)
    report = ingest_bytes(embedded, None, body, "shop.yaml", at=AT1, batch_size=1)
    (error,) = report.errors
    assert "shop.yaml: document 2" in error and "Deployment shop/cart" in error \
        and f"field '{field}'" in error
    g = embedded.graph(AT1 + 1)
    assert {"service:web", "service:api", "config:web/CART"} <= set(g.nodes)
    assert "service:cart" not in g.nodes and not deps(g)
    again = ingest_bytes(embedded, None, body, "shop.yaml", at=AT1, batch_size=1)
    assert (again.added, again.closed, again.rejected) == (0, 0, 1)


def test_tiny_batches_give_the_same_graph(embedded, tmp_path, clock):
    from ccm.store import EmbeddedStore

    one = EmbeddedStore(tmp_path / "one.sqlite", clock=clock)
    assert ingest_bytes(one, None, V1, "shop.yaml", at=AT1).ok
    report = ingest_bytes(embedded, None, V1, "shop.yaml", at=AT1, batch_size=1)
    assert report.ok, report.errors
    assert report.added == 34 and report.batches == 12
    assert embedded.graph(AT1 + 1).to_dict()["edges"] == one.graph(AT1 + 1).to_dict()["edges"]


def test_an_object_the_store_refuses_is_not_remembered_for_later_runs(embedded):
    # refused when written (an attribute too long), not while built: before, its
    # summary was saved anyway, so a later run took it for ingested
    long_image = _redis("billing", "redis:" + "6" * 70_000)
    refused = ingest_bytes(embedded, None, long_image, "billing.yaml", at=AT1)
    assert not refused.ok and "attrs.image" in errors_of(refused)[0]
    later = ingest_bytes(embedded, None, _redis("shop"), "shop.yaml", at=AT2)
    assert later.ok, errors_of(later)
    assert attrs_of(embedded.graph(AT2 + 1), "cache:redis")["namespace"] == "shop"


@pytest.mark.parametrize("bad, field", [
    ("spec: just-a-string", "'spec'"),
    ("spec: {replicas: \"3\", template: {spec: {containers: [{name: a, image: a:1}]}}}",
     "'spec.replicas'"),
])
def test_a_misshapen_spec_is_refused_alone_naming_its_field(embedded, bad, field):
    # before, a string spec made the Service an external node and a string replica
    # count was dropped without a word
    good = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n" \
           "spec: {template: {spec: {containers: [{name: w, image: web:1}]}}}\n"
    odd = f"apiVersion: v1\nkind: {'Service' if 'string' in bad else 'Deployment'}\n" \
          f"metadata: {{name: odd}}\n{bad}\n"
    report = ingest_bytes(embedded, None, (good + "---\n" + odd).encode(), "m.yaml", at=AT1,
                          batch_size=1)
    (error,) = errors_of(report)
    assert "document 2" in error and f"field {field}" in error
    assert "service:web" in embedded.graph(AT1 + 1).nodes
    assert not any(r.endswith(":odd") for r in embedded.graph(AT1 + 1).nodes)
