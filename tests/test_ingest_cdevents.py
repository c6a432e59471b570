"""CDEvents v0.4 -> changes (deploys, upgrades, rollbacks, removals, environment
changes) and incidents."""

from __future__ import annotations

import json

from graph_schema import NodeFact, parse_time
from ingest import ingest_bytes, ingest_paths
from tests.helpers import FIXTURES, LATER, attrs_of, edges

EVENTS = FIXTURES / "cdevents" / "events.jsonl"
DEPLOYED = FIXTURES / "cdevents" / "service_deployed.json"


def boutique(store) -> None:
    store.write([NodeFact("service", n, {}, 0) for n in (
        "frontend", "productcatalogservice", "cartservice", "adservice")]
        + [NodeFact("config", "cartservice/REDIS_ADDR",
                    {"owner": "cartservice", "key": "REDIS_ADDR", "value": "redis-cart:6379"}, 0)])


def test_a_deploy_event_is_a_change_of_its_service(store):
    boutique(store)
    report = ingest_paths(store, [DEPLOYED])
    assert report.ok and report.files[0].format == "cdevents"
    g = store.graph(LATER)
    change = "change:deploy-frontend-v0.10.2"  # the id a manifest of v0.10.2 gives it
    assert attrs_of(g, change) == {
        "change_kind": "deploy", "time": parse_time("2026-03-01T10:05:00Z"),
        "target": "service:frontend", "version": "v0.10.2", "environment": "prod",
        "event_type": "dev.cdevents.service.deployed.0.2.0",
        "artifact": "pkg:oci/frontend@v0.10.2?repository_url=us-central1-docker.pkg.dev/"
                    "google-samples/microservices-demo"}
    assert edges(g, "CHANGED") == {(change, "CHANGED", "service:frontend")}
    assert store.history(change).node[0].valid_from == parse_time("2026-03-01T10:05:00Z")


def test_each_event_type_maps_to_its_change_or_incident(embedded):
    boutique(embedded)
    report = ingest_paths(embedded, [EVENTS])
    assert report.ok, report.to_dict()
    g = embedded.graph(LATER)
    kinds = {(n.attrs["target"], n.attrs["change_kind"]) for n in g.nodes_of("change")}
    assert kinds == {("service:productcatalogservice", "deploy"),   # upgraded
                     ("service:cartservice", "config_change"),      # environment.modified
                     ("service:cartservice", "rollback"),
                     ("service:adservice", "removal")}
    # environment.modified with key changes: a config change of the named component
    cfg = embedded.history("config:cartservice/REDIS_ADDR").node
    assert [v.attrs["value"] for v in cfg] == ["redis-cart:6379", "redis-cart:6379,syncTimeout=50"]
    # the pipelinerun event is not a change: 7 lines, 4 changes, 1 incident
    incident = attrs_of(g, "incident:incident-123")
    assert incident["status"] == "resolved" and incident["severity"] == "critical"
    assert incident["title"] == "Checkout failures above 5%"
    assert ("incident:incident-123", "INVOLVES", "service:cartservice") in edges(g)


def test_a_removal_closes_the_service_at_its_time(embedded):
    boutique(embedded)
    ingest_paths(embedded, [EVENTS])
    removed = parse_time("2026-03-06T08:00:00Z")
    assert "service:adservice" in embedded.graph(removed - 1).nodes
    assert "service:adservice" not in embedded.graph(removed + 1).nodes


def test_events_twice_or_out_of_order_give_the_same_graph(embedded, tmp_path):
    boutique(embedded)
    ingest_paths(embedded, [EVENTS])
    first = embedded.graph(LATER).to_dict()
    reversed_events = b"".join(reversed(EVENTS.read_bytes().splitlines(keepends=True)))
    report = ingest_bytes(embedded, None, reversed_events, "events.jsonl")
    assert report.added == 0 and report.closed == 0
    assert embedded.graph(LATER).to_dict() == first


def test_a_deploy_of_an_unknown_service_creates_it_at_the_deploy(embedded):
    event = json.loads(DEPLOYED.read_text())
    event["subject"]["id"] = "service/newservice"
    ingest_bytes(embedded, None, json.dumps(event).encode(), "e.json")
    h = embedded.history("service:newservice")
    assert h.node[0].valid_from == parse_time("2026-03-01T10:05:00Z")


def test_a_malformed_event_is_rejected_naming_the_field(embedded):
    event = json.loads(DEPLOYED.read_text())
    event["context"]["timestamp"] = "yesterday"
    report = ingest_bytes(embedded, "cdevents", json.dumps(event).encode(), "e.json")
    error, = report.errors
    assert "context.timestamp" in error and "'yesterday'" in error and "e.json" in error


def test_a_rejected_incident_event_does_not_fail_the_later_events_of_the_incident(embedded):
    boutique(embedded)
    lines = EVENTS.read_text().splitlines()
    detected = json.loads(lines[5])
    detected["subject"]["content"]["description"] = "x" * 70_000
    lines[5] = json.dumps(detected)
    body = ("\n".join(lines) + "\n").encode()
    report = ingest_bytes(embedded, None, body, "events.jsonl", batch_size=1)
    # before, the run remembered the rejected event's title and merged it into the
    # resolved event, which was rejected too
    (error,) = report.errors
    assert "events.jsonl:6 (event F4BD2B55" in error and "field 'attrs.title'" in error
    incident = attrs_of(embedded.graph(LATER), "incident:incident-123")
    assert incident["status"] == "resolved" and "title" not in incident
    again = ingest_bytes(embedded, None, body, "events.jsonl", batch_size=1)
    assert (again.added, again.closed, again.rejected) == (0, 0, 1)
