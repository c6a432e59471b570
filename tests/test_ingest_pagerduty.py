"""PagerDuty v3 webhooks -> incidents, open and resolved."""

from __future__ import annotations

import copy
import json

import pytest

from graph_schema import NodeFact, parse_time
from ingest import ingest_bytes, ingest_paths
from tests.helpers import FIXTURES, LATER, attrs_of, edges

REAL = FIXTURES / "real" / "incidents"
TRIGGERED = json.loads((REAL / "pagerduty-triggered_v3.json").read_text())
RESOLVED = json.loads((REAL / "pagerduty-resolved_v3.json").read_text())
T0 = parse_time("2021-06-04T13:35:29.781Z")


def _body(*payloads) -> bytes:
    return b"".join(json.dumps(p).encode() + b"\n" for p in payloads)


def _resolution_of_the_triggered_incident() -> dict:
    resolved = copy.deepcopy(RESOLVED)
    resolved["event"]["data"] = {**TRIGGERED["event"]["data"], "status": "resolved"}
    resolved["event"]["occurred_at"] = "2021-06-04T14:10:00Z"
    return resolved


@pytest.mark.parametrize(("event", "incident", "attrs"), [
    ("triggered", "PFQZPSY", {
        "status": "open", "started_at": T0, "detected_at": T0, "title": "Test Incident 3",
        "url": "https://pig208.pagerduty.com/incidents/PFQZPSY", "severity": "high"}),
    ("acknowledged", "PQ1K5C8", {
        "status": "open", "title": "Test Incident", "severity": "high",
        "url": "https://pig208.pagerduty.com/incidents/PQ1K5C8"}),
    ("resolved", "PCPZE64", {
        "status": "resolved", "resolved_at": parse_time("2021-06-04T13:16:53.816Z"),
        "title": "Test Incident", "severity": "high",
        "url": "https://pig208.pagerduty.com/incidents/PCPZE64"}),
])
def test_each_incident_event_gives_its_incident_version(embedded, event, incident, attrs):
    report = ingest_paths(embedded, [REAL / f"pagerduty-{event}_v3.json"])
    assert report.ok and report.files[0].format == "pagerduty", report.to_dict()
    g = embedded.graph(LATER)
    assert {n.ref for n in g.nodes_of("incident")} == {f"incident:pagerduty-{incident}"}
    assert attrs_of(g, f"incident:pagerduty-{incident}") == attrs


def test_events_that_are_not_about_incidents_are_skipped_and_counted(embedded):
    report = ingest_paths(embedded, [REAL / "pagerduty-service_created_v3.json"])
    (file,) = report.files
    assert file.ok and file.added == 0 and file.skipped == {"PagerDuty service.created": 1}


@pytest.mark.parametrize("batch_size", [1, 1000])
def test_a_resolution_keeps_what_the_trigger_said(embedded, batch_size):
    body = _body(TRIGGERED, _resolution_of_the_triggered_incident())
    report = ingest_bytes(embedded, None, body, "pagerduty.jsonl", batch_size=batch_size)
    assert report.ok, report.to_dict()
    versions = embedded.history("incident:pagerduty-PFQZPSY").node
    assert [(v.valid_from, v.attrs["status"], v.attrs["started_at"]) for v in versions] == [
        (T0, "open", T0), (parse_time("2021-06-04T14:10:00Z"), "resolved", T0)]


def test_the_pagerduty_service_is_involved_only_when_the_graph_has_it(embedded):
    report = ingest_paths(embedded, [REAL / "pagerduty-triggered_v3.json"])
    (note,) = report.files[0].notes
    assert "'pig208'" in note and "incident PFQZPSY" in note
    assert edges(embedded.graph(LATER), "INVOLVES") == set()
    assert "service:pig208" not in embedded.graph(LATER).nodes
    embedded.write([NodeFact("service", "pig208", {}, 0)])
    ingest_bytes(embedded, None, _body(_resolution_of_the_triggered_incident()), "pd.jsonl")
    assert edges(embedded.graph(LATER), "INVOLVES") == {
        ("incident:pagerduty-PFQZPSY", "INVOLVES", "service:pig208")}


def test_a_malformed_event_is_refused_alone_naming_its_field(embedded):
    bad = copy.deepcopy(TRIGGERED)
    bad["event"]["occurred_at"] = "soon"
    report = ingest_bytes(embedded, "pagerduty", _body(bad, RESOLVED), "pd.jsonl",
                          batch_size=1)
    (error,) = report.errors
    assert "pd.jsonl:1 (incident PFQZPSY)" in error and "'event.occurred_at'" in error
    assert "'soon'" in error
    assert {n.ref for n in embedded.graph(LATER).nodes_of("incident")} == {
        "incident:pagerduty-PCPZE64"}
