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


# -- Backstage's own example catalog (tests/fixtures/real/backstage), from its root Location --

REAL = FIXTURES / "real" / "backstage"
REAL_NODES = {
    "api:analytics", "api:awarecoreinsight", "api:awareproducerservice",
    "api:inpixonmappingsdk", "api:mapanalytics", "api:odpanalytics", "api:wokplaceanalytics",
    "api:petstore", "api:playback-order", "api:searcher", "api:streetlights",
    "api:wayback-archive", "api:wayback-search",
    "datastore:artists-db",
    "service:artist-lookup", "service:example", "service:petstore", "service:playback-order",
    "service:podcast-api", "service:queue-proxy", "service:shuffle-api",
    "service:wayback-archive", "service:wayback-archive-ingestion",
    "service:wayback-archive-storage", "service:wayback-search", "service:www-artist",
    "system:artist-engagement-portal", "system:audio-playback", "system:podcast",
    "team:guest", "team:inpixon", "team:sre", "team:team-a", "team:team-b", "team:team-c",
    "team:team-d"}  # no node for the library playback-sdk, the Domains or the AiResources
REAL_RELATIONS = {
    ("service:artist-lookup", "DEPENDS_ON", "datastore:artists-db"),
    # subcomponentOf: the archive depends on its subsystems
    ("service:wayback-archive", "DEPENDS_ON", "service:wayback-archive-ingestion"),
    ("service:wayback-archive", "DEPENDS_ON", "service:wayback-archive-storage"),
    # consumesApis wayback-archive, which wayback-archive provides
    ("service:wayback-search", "DEPENDS_ON", "service:wayback-archive"),
    # consumesApis: ['component:artist-lookup'] names a component
    ("service:www-artist", "DEPENDS_ON", "service:artist-lookup"),
    ("service:petstore", "CONSUMES_API", "api:searcher"),
    ("service:wayback-search", "CONSUMES_API", "api:wayback-archive"),
    ("service:petstore", "PROVIDES_API", "api:petstore"),
    ("service:petstore", "PROVIDES_API", "api:playback-order"),
    ("service:petstore", "PROVIDES_API", "api:streetlights"),
    ("service:wayback-archive", "PROVIDES_API", "api:wayback-archive"),
    ("service:wayback-search", "PROVIDES_API", "api:wayback-search"),
    ("datastore:artists-db", "PART_OF", "system:artist-engagement-portal"),
    ("service:artist-lookup", "PART_OF", "system:artist-engagement-portal"),
    ("service:www-artist", "PART_OF", "system:artist-engagement-portal"),
    ("service:playback-order", "PART_OF", "system:audio-playback"),
    ("service:shuffle-api", "PART_OF", "system:audio-playback"),
    ("service:podcast-api", "PART_OF", "system:podcast"),
    ("service:queue-proxy", "PART_OF", "system:podcast"),
}
REAL_OWNERS = {
    "team:inpixon": {"api:analytics", "api:awarecoreinsight", "api:awareproducerservice",
                     "api:inpixonmappingsdk", "api:mapanalytics", "api:odpanalytics",
                     "api:wokplaceanalytics"},
    "team:team-a": {"datastore:artists-db", "service:artist-lookup", "service:wayback-archive",
                    "service:wayback-archive-storage", "service:wayback-search",
                    "service:www-artist", "system:artist-engagement-portal"},
    "team:team-b": {"service:podcast-api", "service:queue-proxy", "system:podcast"},
    "team:team-c": {"system:audio-playback"},
    "team:team-d": {"service:wayback-archive-ingestion"},
    "team:guest": {"service:example", "service:playback-order", "service:shuffle-api"},
    "team:sre": {"service:petstore"},
}


def _owners(g) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for src, _, team in edges(g, "OWNED_BY"):
        out.setdefault(team, set()).add(src)
    return out


def test_the_example_catalog_read_from_its_root_location_gives_its_graph(embedded):
    report = ingest_paths(embedded, [REAL / "all.yaml"], at=AT1)
    assert report.ok, report.to_dict()
    (file,) = report.files
    assert file.skipped == {"Backstage AiResource": 3, "Backstage Domain": 3}
    assert (file.added, file.rejected) == (78, 0)
    g = embedded.graph(AT1 + 1)
    assert set(g.nodes) == REAL_NODES
    assert edges(g, "DEPENDS_ON", "CONSUMES_API", "PROVIDES_API", "PART_OF") == REAL_RELATIONS
    assert _owners(g) == REAL_OWNERS


def test_the_example_catalog_folder_reads_each_file_once(embedded):
    report = ingest_paths(embedded, [REAL], at=AT1)
    assert report.ok, report.to_dict()
    assert report.totals() == {"added": 78, "unchanged": 0, "closed": 0, "rejected": 0}
    g = embedded.graph(AT1 + 1)
    assert set(g.nodes) == REAL_NODES
    assert edges(g, "DEPENDS_ON", "CONSUMES_API", "PROVIDES_API", "PART_OF") == REAL_RELATIONS
    again = ingest_paths(embedded, [REAL / "all.yaml"], at=AT1)
    assert (again.totals()["added"], again.totals()["closed"], again.ok) == (0, 0, True)


# -- Locations ----------------------------------------------------------------------------

def _location(*targets: str, target: str | None = None, name: str = "loc") -> str:
    lines = ["apiVersion: backstage.io/v1alpha1", "kind: Location",
             f"metadata: {{name: {name}}}", "spec:"]
    if target is not None:
        lines.append(f"  target: {target}")
    if targets:
        lines.append("  targets:")
        lines.extend(f"    - {t}" for t in targets)
    return "\n".join(lines) + "\n"


def _component(name: str, extra: str = "") -> str:
    return (f"apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {{name: {name}}}\n"
            f"spec: {{type: service, owner: team-a{extra}}}\n")


def test_locations_that_name_each_other_read_each_file_once(embedded, tmp_path):
    (tmp_path / "a.yaml").write_text(_location("./b.yaml") + "---\n" + _component("a"))
    (tmp_path / "b.yaml").write_text(_location(target="./a.yaml", name="b")
                                     + "---\n" + _component("b", ", dependsOn: [a]"))
    report = ingest_paths(embedded, [tmp_path / "a.yaml"], at=AT1)
    assert report.ok, report.to_dict()
    assert edges(embedded.graph(AT1 + 1), "DEPENDS_ON") == {
        ("service:b", "DEPENDS_ON", "service:a")}


def test_location_targets_outside_the_folder_absolute_or_missing_are_errors(embedded,
                                                                              tmp_path):
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    (tmp_path / "outside.yaml").write_text(_component("outside"))
    (catalog / "ok.yaml").write_text(_component("inside"))
    (catalog / "all.yaml").write_text(_location(
        "../outside.yaml", "/etc/catalog.yaml", "./missing.yaml", "./ok.yaml",
        "https://github.com/backstage/backstage/blob/master/catalog-info.yaml"))
    report = ingest_paths(embedded, [catalog / "all.yaml"], at=AT1)
    (file,) = report.files
    assert len(file.errors) == 3 and file.rejected == 3, file.errors
    assert all("document 1" in e for e in file.errors)
    assert {e.split("field ")[1].split(":")[0] for e in file.errors} == {
        "'spec.targets[0]'", "'spec.targets[1]'", "'spec.targets[2]'"}
    assert "'../outside.yaml'" in file.errors[0]
    (note,) = file.notes
    assert "spec.targets[4]" in note and "not followed" in note
    assert set(embedded.graph(AT1 + 1).nodes) == {"service:inside", "team:team-a"}


def test_a_glob_target_reads_every_file_it_matches(embedded, tmp_path):
    for name in ("cart", "checkout"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "catalog-info.yaml").write_text(_component(name))
    (tmp_path / "all.yaml").write_text(_location("./*/catalog-info.yaml"))
    report = ingest_paths(embedded, [tmp_path / "all.yaml"], at=AT1)
    assert report.ok, report.to_dict()
    assert {"service:cart", "service:checkout"} <= set(embedded.graph(AT1 + 1).nodes)


def test_a_location_sent_as_a_payload_is_noted_not_followed(embedded):
    report = ingest_bytes(embedded, "backstage", _location("./x.yaml").encode(), "api")
    assert report.ok and report.notes and "not followed" in report.notes[0]


# -- every field of the entity schemas ----------------------------------------------------

ALL_FIELDS = """apiVersion: backstage.io/v1alpha1
kind: API
metadata:
  name: orders
  title: Orders API
  description: Orders
  labels: {tier: gold}
  annotations: {backstage.io/techdocs-ref: dir:., github.com/project-slug: acme/orders}
  tags: [grpc, orders]
  links: [{url: "https://example.com/orders", title: Docs, icon: docs, type: doc}]
spec:
  type: grpc
  lifecycle: production
  owner: group:default/team-a
  system: shop
  definition: {$text: ./orders.proto}
---
apiVersion: backstage.io/v1alpha1
kind: System
metadata: {name: shop, tags: [retail]}
spec: {owner: team-a, domain: retail, type: product}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: orders, labels: {a: b}, tags: [java]}
spec:
  type: service
  lifecycle: production
  owner: team-a
  system: shop
  providesApis: [orders]
  dependencyOf: [component:storefront]
  subcomponentOf: component:default/shop-backend
---
apiVersion: backstage.io/v1alpha1
kind: Resource
metadata: {name: orders-db}
spec: {type: database, owner: team-a, system: shop, dependencyOf: [orders]}
---
apiVersion: backstage.io/v1alpha1
kind: Domain
metadata: {name: retail}
spec: {owner: team-a, subdomainOf: commerce, type: product-area}
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: {name: jdoe}
spec: {profile: {displayName: J Doe, email: jdoe@example.com}, memberOf: [team-a]}
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: team-a}
spec: {type: team, profile: {email: a@example.com}, parent: eng, children: [], members: [jdoe]}
"""


def test_every_field_of_the_entity_schemas_is_accepted(embedded):
    report = ingest_bytes(embedded, None, ALL_FIELDS.encode(), "catalog-info.yaml", at=AT1)
    assert report.ok and report.format == "backstage", report.to_dict()
    assert report.skipped == {"Backstage Domain": 1, "Backstage User": 1}
    g = embedded.graph(AT1 + 1)
    assert edges(g, "DEPENDS_ON", "PART_OF", "PROVIDES_API") == {
        ("service:storefront", "DEPENDS_ON", "service:orders"),      # dependencyOf
        ("service:shop-backend", "DEPENDS_ON", "service:orders"),    # subcomponentOf
        ("service:orders", "DEPENDS_ON", "datastore:orders-db"),     # the db's dependencyOf
        ("api:orders", "PART_OF", "system:shop"),
        ("service:orders", "PART_OF", "system:shop"),
        ("datastore:orders-db", "PART_OF", "system:shop"),
        ("service:orders", "PROVIDES_API", "api:orders"),
    }
    assert attrs_of(g, "api:orders")["api_type"] == "grpc"


def test_a_dependency_on_an_api_consumes_it(embedded):
    catalog = (_component("orders", ", providesApis: [orders-api]") + "---\n"
               + _component("checkout", ", dependsOn: ['api:orders-api']"))
    report = ingest_bytes(embedded, None, catalog.encode(), "catalog-info.yaml", at=AT1)
    assert report.ok, report.to_dict()
    assert edges(embedded.graph(AT1 + 1), "DEPENDS_ON", "CONSUMES_API") == {
        ("service:checkout", "CONSUMES_API", "api:orders-api"),
        ("service:checkout", "DEPENDS_ON", "service:orders")}


def test_a_nested_location_may_climb_to_the_folder_of_the_location_above_it(embedded,
                                                                               tmp_path):
    tmp_path = tmp_path / "catalog"
    (tmp_path / "apis").mkdir(parents=True)
    (tmp_path / "components").mkdir()
    (tmp_path / "apis" / "orders.yaml").write_text(
        "apiVersion: backstage.io/v1alpha1\nkind: API\nmetadata: {name: orders}\n"
        "spec: {type: grpc, owner: team-a}\n")
    (tmp_path / "components" / "all.yaml").write_text(_location("../apis/orders.yaml"))
    (tmp_path / "all.yaml").write_text(_location("./components/all.yaml"))
    folder = ingest_paths(embedded, [tmp_path], at=AT1)
    assert folder.ok and "api:orders" in embedded.graph(AT1 + 1).nodes, folder.to_dict()
    alone = ingest_paths(embedded, [tmp_path / "components" / "all.yaml"], at=AT1)
    (error,) = alone.files[0].errors
    assert "'spec.targets[0]'" in error and "'../apis/orders.yaml'" in error
