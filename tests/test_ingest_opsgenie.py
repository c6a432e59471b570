"""Opsgenie webhooks -> incidents, open and resolved."""

from __future__ import annotations

import copy
import json

from graph_schema import NodeFact
from ingest import ingest_bytes, ingest_paths
from tests.helpers import FIXTURES, LATER, attrs_of, edges

REAL = FIXTURES / "real" / "incidents"
CREATE = json.loads((REAL / "opsgenie-create.json").read_text())
CLOSE = json.loads((REAL / "opsgenie-close.json").read_text())
CREATED = 1502709956288 * 1000          # createdAt, epoch milliseconds
CLOSED = 1420452374669001603 // 1000    # updatedAt, epoch nanoseconds


def _body(*payloads) -> bytes:
    return b"".join(json.dumps(p).encode() + b"\n" for p in payloads)


def test_a_created_alert_opens_its_incident(embedded):
    report = ingest_paths(embedded, [REAL / "opsgenie-create.json"])
    assert report.ok and report.files[0].format == "opsgenie", report.to_dict()
    assert attrs_of(embedded.graph(LATER), "incident:opsgenie-ec03dad6-62c8-4c94-b38b-d88f398e900f"
                    ) == {"status": "open", "started_at": CREATED, "detected_at": CREATED,
                          "title": "another alert", "severity": "P3"}


def test_a_closed_alert_resolves_its_incident_at_its_update(embedded):
    report = ingest_paths(embedded, [REAL / "opsgenie-close.json"])
    assert report.ok, report.to_dict()
    assert attrs_of(embedded.graph(LATER), "incident:opsgenie-052652ac-5d1c-464a-812a-7dd18bbfba8c"
                    ) == {"status": "resolved", "resolved_at": CLOSED, "title": "test alert"}


def test_notes_and_other_actions_are_skipped_and_counted(embedded):
    report = ingest_paths(embedded, [REAL / "opsgenie-addnote.json"])
    (file,) = report.files
    assert file.ok and file.added == 0 and file.skipped == {"Opsgenie AddNote": 1}


def test_the_entity_is_involved_when_the_graph_has_it_and_the_close_keeps_the_start(embedded):
    embedded.write([NodeFact("service", "Server", {}, 0)])
    close = copy.deepcopy(CLOSE)
    close["alert"] = {**CREATE["alert"], "updatedAt": (CREATED + 3_600_000_000) * 1000}
    report = ingest_bytes(embedded, None, _body(CREATE, close), "opsgenie.jsonl")
    assert report.ok, report.to_dict()
    ref = "incident:opsgenie-ec03dad6-62c8-4c94-b38b-d88f398e900f"
    versions = embedded.history(ref).node
    assert [(v.attrs["status"], v.attrs["started_at"]) for v in versions] == [
        ("open", CREATED), ("resolved", CREATED)]
    assert edges(embedded.graph(LATER), "INVOLVES") == {(ref, "INVOLVES", "service:Server")}


def test_a_time_that_is_not_an_epoch_is_refused_alone_naming_it(embedded):
    bad = copy.deepcopy(CREATE)
    bad["alert"]["createdAt"] = "2017-08-14"
    report = ingest_bytes(embedded, "opsgenie", _body(bad, CLOSE), "og.jsonl", batch_size=1)
    (error,) = report.errors
    assert "og.jsonl:1 (alert ec03dad6" in error and "'alert.createdAt'" in error
    assert {n.ref for n in embedded.graph(LATER).nodes_of("incident")} == {
        "incident:opsgenie-052652ac-5d1c-464a-812a-7dd18bbfba8c"}
