"""What the graph lacks, on real manifests and catalogs: components without any
dependency, placeholders with the record that named them, unresolved placeholders with
their alerts."""

from __future__ import annotations

import json

from graph_schema import parse_time
from ingest import ingest_bytes, ingest_paths
from ingest.changes import change_facts
from ingest.core import PLACEHOLDER_SOURCE, Context
from ingest.coverage import Placeholder, Unresolved, coverage, is_defining
from tests.helpers import AT1, FIXTURES, LATER, errors_of

REAL = FIXTURES / "real"
BOOKINFO = REAL / "kubernetes" / "bookinfo.yaml"
BOUTIQUE = REAL / "kubernetes" / "online-boutique-v0.10.6.yaml"
DEX = REAL / "kubernetes" / "argocd-dex-server.yaml"
WAYBACK = REAL / "backstage" / "components" / "wayback-archive-component.yaml"


def ingested(store, *paths):  # type: ignore[no-untyped-def]
    report = ingest_paths(store, [str(p) for p in paths], at=AT1)
    assert errors_of(report) == []
    return report


def placeholders(cov):  # type: ignore[no-untyped-def]
    return {(p.ref, p.source) for p in cov.placeholders}


def test_bookinfo_s_four_services_have_no_dependency_at_all(store):
    ingested(store, BOOKINFO)  # hosts are compiled into its images: manifests give no edge
    cov = coverage(store, LATER)
    assert cov.without_dependencies == [
        "service:details", "service:productpage", "service:ratings", "service:reviews"]
    assert (cov.components, cov.dependencies) == (4, 0)
    assert cov.placeholders == [] and cov.unresolved == [] and cov.lacking


def test_the_online_boutique_lacks_nothing(store):
    ingested(store, BOUTIQUE)
    cov = coverage(store, LATER)
    assert (cov.components, cov.dependencies) == (12, 16)
    assert cov.without_dependencies == [] and cov.placeholders == [] and cov.unresolved == []
    assert not cov.lacking


def test_configmaps_no_manifest_defines_are_placeholders_named_by_their_deployment(store):
    ingested(store, DEX)
    cov = coverage(store, LATER)
    keys = ("dexserver.connector.failure.continue", "dexserver.disable.tls",
            "dexserver.log.format", "dexserver.log.level", "log.format.timestamp")
    assert [p.ref for p in cov.placeholders] == [f"config:argocd-cmd-params-cm/{k}"
                                                 for k in keys]
    for p in cov.placeholders:
        assert p.source == PLACEHOLDER_SOURCE
        assert p.origin.startswith(str(DEX)) and "Deployment default/argocd-dex-server" \
            in p.origin
    assert cov.without_dependencies == ["service:argocd-dex-server"]


def test_a_backstage_owner_and_api_no_entity_defines_are_placeholders(store):
    ingested(store, WAYBACK)
    cov = coverage(store, LATER)
    assert placeholders(cov) == {("team:team-a", PLACEHOLDER_SOURCE),
                                 ("api:wayback-archive", PLACEHOLDER_SOURCE)}
    assert all("component default/wayback-archive" in p.origin for p in cov.placeholders)
    assert cov.without_dependencies == ["service:wayback-archive"]


def test_a_later_definition_ends_the_placeholder(store):
    ingested(store, WAYBACK)
    team = {"type": "node", "kind": "team", "name": "team-a",
            "attrs": {"email": "team-a@example.com"}, "time": "2026-03-01T00:00:00Z"}
    assert ingest_bytes(store, "native", json.dumps(team).encode(), "teams.jsonl").ok
    assert placeholders(coverage(store, LATER)) == {("api:wayback-archive",
                                                     PLACEHOLDER_SOURCE)}
    # before the definition's time, the placeholder was the node
    before = coverage(store, parse_time("2026-02-15T00:00:00Z"))
    assert ("team:team-a", PLACEHOLDER_SOURCE) in placeholders(before)


def test_alerts_naming_unknown_services_leave_placeholders_named_by_each_alert(store, tmp_path):
    # a native alert's service names its node explicitly: unknown, it is a placeholder
    alerts = tmp_path / "alerts.jsonl"
    alerts.write_text("".join(json.dumps({"id": f"a{i}", "time": "2026-03-05T09:41:00Z",
                                          "service": name, "signal": "errors"}) + "\n"
                              for i, name in enumerate(("cartservice", "frontend"), 1)))
    ingested(store, alerts)
    cov = coverage(store, LATER)
    assert {(p.ref, p.origin) for p in cov.placeholders} == {
        ("service:cartservice", f"{alerts}:1"), ("service:frontend", f"{alerts}:2")}
    assert all(p.source == PLACEHOLDER_SOURCE for p in cov.placeholders)


def test_alertmanager_alerts_naming_no_known_component_stay_on_the_unresolved_placeholder(
        store):
    ingested(store, FIXTURES / "alertmanager" / "firing.json")
    cov = coverage(store, LATER)
    assert cov.placeholders == [] and cov.unresolved


def test_alerts_on_a_known_service_leave_no_placeholder(store):
    ingested(store, BOUTIQUE)
    alert = {"id": "a1", "time": "2026-03-05T09:41:00Z", "service": "cartservice",
             "signal": "errors"}
    assert ingest_bytes(store, "native-alerts", json.dumps(alert).encode(), "a.jsonl").ok
    assert coverage(store, LATER).placeholders == []


def test_a_change_to_an_unknown_service_leaves_a_placeholder(store):
    change = {"id": "chg-1", "time": "2026-03-02T00:00:00Z", "kind": "deploy",
              "target": "ghost", "version": "1.2"}
    assert ingest_bytes(store, "native-changes", json.dumps(change).encode(), "c.jsonl").ok
    assert coverage(store, LATER).placeholders == [
        Placeholder("service:ghost", PLACEHOLDER_SOURCE, "c.jsonl:1")]


UNRESOLVED = [
    {"type": "node", "kind": "external", "name": "unresolved", "attrs": {"unresolved": True}},
    {"type": "node", "kind": "service", "name": "cart"},
    {"type": "node", "kind": "cache", "name": "redis"},
    {"type": "edge", "kind": "DEPENDS_ON", "from": "service:cart", "to": "cache:redis"},
]
ALERTS = [
    {"id": "a2", "time": "2026-03-05T09:42:00Z", "service": "external:unresolved",
     "signal": "down"},
    {"id": "a1", "time": "2026-03-05T09:41:00Z", "service": "external:unresolved",
     "signal": "errors"},
    {"id": "a3", "time": "2026-03-05T09:43:00Z", "service": "cart", "signal": "errors"},
    {"id": "old", "time": "2026-03-01T00:00:00Z", "ends_at": "2026-03-01T01:00:00Z",
     "service": "external:unresolved", "signal": "errors"},
]


def jsonl(records: list[dict]) -> bytes:  # type: ignore[type-arg]
    return "\n".join(json.dumps(r) for r in records).encode()


def test_alerts_on_an_unresolved_placeholder_are_counted_apart(store):
    assert ingest_bytes(store, "native", jsonl(UNRESOLVED), "graph.jsonl").ok
    assert ingest_bytes(store, "native-alerts", jsonl(ALERTS), "alerts.jsonl").ok
    cov = coverage(store, LATER)
    assert cov.unresolved == [Unresolved("external:unresolved", "graph.jsonl:1",
                                         ("alert:a1", "alert:a2"))]
    assert cov.unresolved_alerts == 2 and cov.lacking
    # the placeholder is neither a component without dependencies nor a named placeholder
    assert (cov.components, cov.without_dependencies, cov.placeholders) == (2, [], [])
    # an hour into March 1st, only the alert that fired then
    at_old = coverage(store, parse_time("2026-03-01T00:30:00Z"))
    assert at_old.unresolved[0].alerts == ("alert:old",)


def test_the_coverage_is_of_the_graph_at_the_time_asked(store):
    ingested(store, BOOKINFO)
    cov = coverage(store, parse_time("2026-01-01T00:00:00Z"))
    assert (cov.components, cov.without_dependencies, cov.lacking) == (0, [], False)


def test_kubernetes_objects_backstage_entities_and_native_nodes_define_nodes():
    assert all(is_defining(s) for s in ("", "k8s:default/Deployment/cart",
                                        "backstage:component:default/cart"))
    assert not any(is_defining(s) for s in (PLACEHOLDER_SOURCE, "jaeger", "otlp"))


def test_services_only_traces_saw_are_placeholders_written_by_the_trace_adapter(store):
    jaeger = FIXTURES / "jaeger" / "dependencies.json"
    ingested(store, jaeger)
    cov = coverage(store, LATER)
    assert cov.placeholders and {p.source for p in cov.placeholders} == {"jaeger"}
    assert {p.ref for p in cov.placeholders} == set(store.graph(LATER).nodes)


def test_configuration_values_a_change_sets_are_not_placeholders(store):
    """As CCM's memory writes the changes it made (source ccm.memory)."""
    assert ingest_bytes(store, "native", jsonl(UNRESOLVED[1:2]), "graph.jsonl").ok
    t = parse_time("2026-03-02T00:00:00Z")
    store.write(change_facts(Context(store, t), change_id="chg-1", time=t,
                             change_kind="config_change", target="cart", where="action a1",
                             source="ccm.memory",
                             diff=[{"key": "TIMEOUT", "old": "5s", "new": "1s"}]))
    assert store.graph(LATER).nodes["config:cart/TIMEOUT"].source == "ccm.memory"
    assert coverage(store, LATER).placeholders == []


def test_the_json_form_lists_everything(store):
    ingested(store, DEX)
    out = coverage(store, LATER).to_dict()
    assert out["valid_at"] == "2026-06-01T00:00:00Z" and out["known_at"] is None
    assert (out["components"], out["dependencies"], out["lacking"]) == (1, 0, True)
    assert out["without_dependencies"] == ["service:argocd-dex-server"]
    assert len(out["placeholders"]) == 5 and out["unresolved"] == []
    assert set(out["placeholders"][0]) == {"ref", "source", "origin"}
