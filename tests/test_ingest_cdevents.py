"""CDEvents v0.3-v0.5, bare or in CloudEvents envelopes -> changes (deploys, upgrades, rollbacks, removals, environment
changes) and incidents."""

from __future__ import annotations

import base64
import json

import pytest

from graph_schema import NodeFact, parse_time
from ingest import ingest_bytes, ingest_paths
from ingest.cdevents import structured_from_binary
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
    change = "change:5f2e3a1c-7c1e-4a39-9a70-0d1f3e6c1a01"
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


# -- real conformance events of the spec (cdevents/spec tags v0.3.0, v0.4.1, v0.5.1) --

REAL = FIXTURES / "real" / "cdevents"
VERSIONS = {"v0.3.0": 31, "v0.4.1": 37, "v0.5.1": 37}  # event types CCM does not model


@pytest.mark.parametrize("version", sorted(VERSIONS))
def test_every_conformance_event_is_read_and_the_unmodelled_ones_are_counted(embedded,
                                                                             version):
    report = ingest_paths(embedded, [REAL / version])
    assert report.ok, report.to_dict()
    assert {f.format for f in report.files} == {"cdevents"}
    skipped = [(what, n) for f in report.files for what, n in f.skipped.items()]
    assert sum(n for _, n in skipped) == VERSIONS[version]
    assert ("CDEvent pipelinerun.started", 1) in skipped
    assert not any(w.startswith(("CDEvent service.deployed", "CDEvent incident."))
                   for w, _ in skipped)


@pytest.mark.parametrize("version", sorted(VERSIONS))
@pytest.mark.parametrize(("event", "facts"), [
    ("service_deployed", {("change", "deploy", "service:mySubject123")}),
    ("service_upgraded", {("change", "deploy", "service:mySubject123")}),
    ("service_rolledback", {("change", "rollback", "service:mySubject123")}),
    ("environment_modified", {("change", "infra_change", "zone:mySubject123")}),
    ("incident_detected", {("incident", "open", "service:myApp")}),
    ("incident_reported", {("incident", "open", "service:myApp")}),
    ("incident_resolved", {("incident", "resolved", "service:myApp")}),
])
def test_each_modelled_conformance_event_gives_its_change_or_incident(embedded, version,
                                                                      event, facts):
    report = ingest_paths(embedded, [REAL / version / f"{event}.json"])
    assert report.ok and report.totals()["added"], report.to_dict()
    assert _changes_and_incidents(embedded.graph(LATER)) == facts


def test_a_removal_from_the_conformance_events_closes_its_service(embedded):
    ingest_paths(embedded, [REAL / "v0.5.1" / "service_deployed.json"])
    ingest_paths(embedded, [REAL / "v0.5.1" / "service_removed.json"])
    g = embedded.graph(LATER)
    assert "service:mySubject123" not in g.nodes
    removal = attrs_of(g, "change:271069a8-fc18-44f1-b38f-9d70a1695819")
    assert (removal["change_kind"], removal["target"]) == ("removal", "service:mySubject123")


def _changes_and_incidents(g) -> set[tuple[str, str, str]]:
    out = {("change", n.attrs["change_kind"], n.attrs["target"]) for n in g.nodes_of("change")}
    out |= {("incident", g.nodes[src].attrs["status"], dst)
            for src, _, dst in edges(g, "INVOLVES")}
    return out


# -- CloudEvents envelopes ---------------------------------------------------------------

def _envelope(event: dict, **extra) -> dict:
    ctx = event["context"]
    return {"specversion": "1.0", "type": ctx["type"], "id": ctx["id"],
            "source": ctx["source"], "time": ctx["timestamp"],
            "datacontenttype": "application/json", "data": event, **extra}


def test_a_structured_cloudevent_gives_the_facts_of_its_cdevent(embedded):
    event = json.loads((REAL / "v0.5.1" / "service_deployed.json").read_text())
    ingest_bytes(embedded, None, json.dumps(event).encode(), "bare.json")
    first = embedded.graph(LATER).to_dict()
    report = ingest_bytes(embedded, None, json.dumps(_envelope(event)).encode(), "ce.json")
    assert report.ok and report.format == "cdevents" and report.added == 0, report.to_dict()
    assert embedded.graph(LATER).to_dict() == first


def test_cloudevents_data_as_a_string_or_base64_is_read(embedded):
    event = json.loads((REAL / "v0.4.1" / "service_deployed.json").read_text())
    text = json.dumps(event)
    as_string = _envelope(event, data=text)
    as_base64 = {k: v for k, v in _envelope(event).items() if k != "data"}
    as_base64["data_base64"] = base64.b64encode(text.encode()).decode()
    body = (json.dumps(as_string) + "\n" + json.dumps(as_base64) + "\n").encode()
    report = ingest_bytes(embedded, "cdevents", body, "ce.jsonl", batch_size=1)
    assert report.ok and report.added, report.to_dict()
    assert _changes_and_incidents(embedded.graph(LATER)) == {
        ("change", "deploy", "service:mySubject123")}


def test_a_cloudevents_batch_skips_cloudevents_that_are_not_cdevents(embedded):
    event = json.loads((REAL / "v0.5.1" / "incident_detected.json").read_text())
    other = {"specversion": "1.0", "type": "com.github.pull_request.opened", "id": "A-1",
             "source": "https://github.com/cloudevents/spec/pull", "data": {"x": 1}}
    report = ingest_bytes(embedded, "cdevents", json.dumps([other, _envelope(event)]).encode(),
                          "batch.json")
    assert report.ok and report.skipped == {"CloudEvent that is not a CDEvent": 1}
    assert _changes_and_incidents(embedded.graph(LATER)) == {
        ("incident", "open", "service:myApp")}


def test_an_envelope_whose_type_is_not_its_cdevents_is_refused_alone(embedded):
    deployed = json.loads((REAL / "v0.5.1" / "service_deployed.json").read_text())
    lying = _envelope(deployed, type="dev.cdevents.service.removed.0.3.0")
    good = json.loads((REAL / "v0.5.1" / "incident_detected.json").read_text())
    body = (json.dumps(lying) + "\n" + json.dumps(_envelope(good)) + "\n").encode()
    report = ingest_bytes(embedded, "cdevents", body, "ce.jsonl", batch_size=1)
    (error,) = report.errors
    assert "ce.jsonl:1" in error and "field 'type'" in error
    assert "dev.cdevents.service.removed.0.3.0" in error
    assert _changes_and_incidents(embedded.graph(LATER)) == {
        ("incident", "open", "service:myApp")}


def test_a_binary_mode_request_reads_like_the_structured_one(embedded):
    body = (REAL / "v0.3.0" / "service_rolledback.json").read_bytes()
    event = json.loads(body)
    headers = {"ce-specversion": "1.0", "ce-type": event["context"]["type"],
               "ce-id": event["context"]["id"], "ce-source": event["context"]["source"],
               "Content-Type": "application/json; charset=utf-8"}
    report = ingest_bytes(embedded, "cdevents", structured_from_binary(headers, body), "api")
    assert report.ok, report.to_dict()
    assert _changes_and_incidents(embedded.graph(LATER)) == {
        ("change", "rollback", "service:mySubject123")}
    wrong = dict(headers, **{"ce-type": "dev.cdevents.service.deployed.0.1.1"})
    refused = ingest_bytes(embedded, "cdevents", structured_from_binary(wrong, body), "api")
    assert refused.rejected == 1 and "field 'type'" in refused.errors[0]
