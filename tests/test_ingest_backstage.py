"""Backstage catalog files -> components, APIs, systems, teams and their relations."""

from __future__ import annotations

from ingest import ingest_bytes, ingest_paths
from tests.helpers import AT1, AT2, FIXTURES, attrs_of, edges

CATALOG = (FIXTURES / "backstage" / "catalog-info.yaml").read_bytes()


def test_entities_map_to_nodes_of_their_kind(store):
    report = ingest_paths(store, [FIXTURES / "backstage"], at=AT1)
    assert report.ok and report.files[0].format == "backstage", report.to_dict()
    g = store.graph(AT1 + 1)
    assert set(g.nodes) == {
        "service:artist-lookup", "service:wayback-search", "service:wayback-archive",
        "datastore:artists-db", "cache:artists-cache", "queue:play-events",
        "api:wayback-archive", "api:wayback-search", "system:artist-engagement-portal",
        "team:team-a"}  # no node for the library, nor for the User
    assert attrs_of(g, "service:artist-lookup") == {
        "description": "Artist Lookup", "lifecycle": "experimental", "owner": "team-a",
        "system": "artist-engagement-portal"}
    assert attrs_of(g, "api:wayback-archive")["api_type"] == "openapi"
    assert attrs_of(g, "team:team-a") == {"description": "Team A",
                                          "email": "team-a@example.com"}


def test_relations_become_edges_and_consumers_depend_on_providers(embedded):
    ingest_bytes(embedded, None, CATALOG, "catalog-info.yaml", at=AT1)
    g = embedded.graph(AT1 + 1)
    assert edges(g, "DEPENDS_ON") == {
        ("service:artist-lookup", "DEPENDS_ON", "datastore:artists-db"),
        ("service:artist-lookup", "DEPENDS_ON", "cache:artists-cache"),
        ("service:wayback-search", "DEPENDS_ON", "queue:play-events"),
        # consumesApis wayback-archive, which wayback-archive provides
        ("service:wayback-search", "DEPENDS_ON", "service:wayback-archive"),
    }
    assert edges(g, "PROVIDES_API", "CONSUMES_API", "PART_OF") == {
        ("service:wayback-archive", "PROVIDES_API", "api:wayback-archive"),
        ("service:wayback-search", "PROVIDES_API", "api:wayback-search"),
        ("service:wayback-search", "CONSUMES_API", "api:wayback-archive"),
        ("service:artist-lookup", "PART_OF", "system:artist-engagement-portal"),
        ("datastore:artists-db", "PART_OF", "system:artist-engagement-portal"),
    }
    owned = {src for src, _, dst in edges(g, "OWNED_BY") if dst == "team:team-a"}
    assert owned == {"service:artist-lookup", "service:wayback-search",
                     "service:wayback-archive", "datastore:artists-db", "cache:artists-cache",
                     "queue:play-events", "api:wayback-archive",
                     "system:artist-engagement-portal"}


def test_a_newer_catalog_closes_what_it_no_longer_says(embedded):
    ingest_bytes(embedded, None, CATALOG, "catalog-info.yaml", at=AT1)
    newer = CATALOG.replace(b"dependsOn: ['resource:artists-db', 'resource:default/artists-cache']",
                            b"dependsOn: ['resource:artists-db']")
    assert newer != CATALOG
    report = ingest_bytes(embedded, None, newer, "catalog-info.yaml", at=AT2)
    assert report.ok and report.added == 0 and report.closed == 1
    dep = ("service:artist-lookup", "DEPENDS_ON", "cache:artists-cache")
    assert dep in edges(embedded.graph(AT2 - 1))
    assert dep not in edges(embedded.graph(AT2 + 1))
    again = ingest_bytes(embedded, None, newer, "catalog-info.yaml", at=AT2)
    assert (again.added, again.closed) == (0, 0)


def test_a_component_in_kubernetes_and_backstage_keeps_both_sources_attributes(embedded):
    manifest = b"""apiVersion: apps/v1
kind: Deployment
metadata: {name: artist-lookup, namespace: music}
spec:
  replicas: 4
  template:
    spec: {containers: [{name: a, image: "artist-lookup:3.1"}]}
"""
    ingest_bytes(embedded, None, manifest, "artist-lookup.yaml", at=AT1)
    ingest_bytes(embedded, None, CATALOG, "catalog-info.yaml", at=AT1)
    ingest_bytes(embedded, None, manifest, "artist-lookup.yaml", at=AT2)
    a = attrs_of(embedded.graph(AT2 + 1), "service:artist-lookup")
    assert a["replicas"] == 4 and a["owner"] == "team-a" and a["version"] == "3.1"
    # one version: the catalog completed the manifest's at the same time, and the
    # manifest's second ingest kept the catalog's attributes instead of flipping them
    assert len(embedded.history("service:artist-lookup").node) == 1


def test_a_bad_reference_rejects_the_entity_by_name(embedded):
    bad = b"""apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: oops}
spec: {type: service, owner: team-a, dependsOn: ["resource:a/b/c"]}
"""
    report = ingest_bytes(embedded, None, bad, "catalog-info.yaml", at=AT1)
    error, = report.errors
    assert "component default/oops" in error and "spec.dependsOn" in error \
        and "'resource:a/b/c'" in error


def _cache(ns: str, owner: str = "team-a", kind: str = "Resource") -> bytes:
    return f"""apiVersion: backstage.io/v1alpha1
kind: {kind}
metadata: {{name: redis, namespace: {ns}}}
spec: {{type: cache, owner: {owner}}}
""".encode()


def test_entities_of_one_name_in_two_namespaces_are_refused_naming_each_other(embedded):
    # one node per bare name: before, both wrote cache:redis, and every ingest of the
    # same catalog versioned it again
    report = ingest_bytes(embedded, None, _cache("shop") + b"---\n" + _cache("billing"),
                          "catalog-info.yaml", at=AT1)
    assert report.rejected == 2 and report.added == 0
    shop, billing = report.errors
    assert "resource shop/redis" in shop and "'metadata.namespace'" in shop
    assert "backstage:resource:billing/redis" in shop and "cache:redis" in shop
    assert "resource billing/redis" in billing and "backstage:resource:shop/redis" in billing
    assert "cache:redis" not in embedded.graph(AT1 + 1).nodes


def test_a_later_catalog_cannot_merge_another_namespaces_entity_into_a_node(embedded):
    assert ingest_bytes(embedded, None, _cache("billing", "team-b"), "billing.yaml",
                        at=AT1).ok
    later = ingest_bytes(embedded, None, _cache("shop"), "shop.yaml", at=AT2)
    assert not later.ok and "backstage:resource:billing/redis" in later.errors[0]
    assert attrs_of(embedded.graph(AT2 + 1), "cache:redis")["owner"] == "team-b"
    # the refused entity's summary was not saved: the first catalog stays idempotent
    again = ingest_bytes(embedded, None, _cache("billing", "team-b"), "billing.yaml", at=AT2)
    assert again.ok and (again.added, again.closed) == (0, 0)


def test_a_component_and_a_resource_that_are_one_node_are_refused_by_kind(embedded):
    component = b"""apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: redis, namespace: shop, annotations: {ccm.io/kind: cache}}
spec: {type: service}
"""
    report = ingest_bytes(embedded, None, component + b"---\n" + _cache("shop"),
                          "catalog-info.yaml", at=AT1)
    assert not report.ok and "field 'kind'" in report.errors[0]
    assert "backstage:resource:shop/redis" in report.errors[0]


def test_an_entity_with_a_bad_kind_annotation_is_refused_alone(embedded):
    catalog = b"""apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: web}
spec: {type: service, dependsOn: ["component:api"]}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: api, annotations: {ccm.io/kind: banana}}
spec: {type: service}
"""
    report = ingest_bytes(embedded, None, catalog, "catalog-info.yaml", at=AT1,
                          batch_size=1)
    (error,) = report.errors
    assert "component default/api" in error and "'banana'" in error
    # before, the index summarised every entity for each lookup, so web failed too
    assert ("service:web", "DEPENDS_ON", "service:api") in edges(embedded.graph(AT1 + 1))


def test_an_entity_the_store_refuses_is_not_remembered_for_later_runs(embedded):
    long = _cache("billing").replace(b"namespace: billing}",
                                     b"namespace: billing, description: " + b"d" * 70_000 + b"}")
    refused = ingest_bytes(embedded, None, long, "billing.yaml", at=AT1)
    assert not refused.ok and "attrs.description" in refused.errors[0]
    later = ingest_bytes(embedded, None, _cache("shop"), "shop.yaml", at=AT2)
    assert later.ok, later.errors
    assert "cache:redis" in embedded.graph(AT2 + 1).nodes


def test_an_entity_the_store_refuses_does_not_take_its_dependents_with_it(embedded):
    catalog = b"""apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: web}
spec: {type: service, dependsOn: ["component:api"], consumesApis: [orders]}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: api, description: %s}
spec: {type: service, providesApis: [orders]}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: worker}
spec: {type: service, dependsOn: ["component:api"]}
""" % (b"d" * 70_000)
    report = ingest_bytes(embedded, None, catalog, "catalog-info.yaml", at=AT1, batch_size=1)
    # before, web and worker waited for api's node, then were refused naming it
    (error,) = report.errors
    assert "document 2 (line 5) (component default/api)" in error \
        and "field 'attrs.description'" in error
    g = embedded.graph(AT1 + 1)
    # as if api were not in the file: a placeholder node, and no provider of orders
    assert edges(g, "DEPENDS_ON") == {("service:web", "DEPENDS_ON", "service:api"),
                                      ("service:worker", "DEPENDS_ON", "service:api")}
    assert attrs_of(g, "service:api") == {}
    again = ingest_bytes(embedded, None, catalog, "catalog-info.yaml", at=AT1, batch_size=1)
    assert (again.added, again.closed, again.rejected) == (0, 0, 1)


def test_a_misshapen_namespace_or_spec_is_refused_naming_its_field(embedded):
    bad = b"""apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: a, namespace: [x, y]}
spec: {type: service}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: b}
spec: a-string
"""
    report = ingest_bytes(embedded, None, _cache("shop") + b"---\n" + bad, "c.yaml", at=AT1,
                          batch_size=1)
    assert len(report.errors) == 2
    assert "field 'metadata.namespace'" in report.errors[0] and "field 'spec'" in report.errors[1]
    assert "cache:redis" in embedded.graph(AT1 + 1).nodes
