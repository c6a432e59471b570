"""GitHub deployment_status webhooks -> deploy changes."""

from __future__ import annotations

import copy
import json

from graph_schema import NodeFact, parse_time
from ingest import ingest_bytes, ingest_paths
from tests.helpers import FIXTURES, LATER, attrs_of, edges

REAL = FIXTURES / "real" / "changes"
SUCCESS = REAL / "github-deployment_status-payload.json"
IN_PROGRESS = REAL / "github-deployment_status-gh-pages.payload.json"
CHANGE = "change:github-deployment-145988746"


def test_a_successful_deployment_is_a_deploy_of_the_repository_service(embedded):
    report = ingest_paths(embedded, [SUCCESS])
    assert report.ok and report.files[0].format == "github-deployments", report.to_dict()
    g = embedded.graph(LATER)
    assert attrs_of(g, CHANGE) == {
        "change_kind": "deploy", "target": "service:Hello-World",
        "time": parse_time("2019-05-15T15:20:55Z"),
        "version": "f95f852bd8fca8fcc58a9a2d6c842781e32a215e",
        "artifact": "Codertocat/Hello-World@f95f852bd8fca8fcc58a9a2d6c842781e32a215e",
        "environment": "production", "author": "Codertocat",
        "event_type": "github.deployment_status.success"}
    assert edges(g, "CHANGED") == {(CHANGE, "CHANGED", "service:Hello-World")}


def test_a_deployment_still_in_progress_is_skipped_and_counted(embedded):
    report = ingest_paths(embedded, [IN_PROGRESS])
    (file,) = report.files
    assert file.ok and file.format == "github-deployments" and file.added == 0
    assert file.skipped == {"GitHub deployment_status in_progress": 1}


def test_the_workflows_service_name_resolves_to_the_existing_component(embedded):
    embedded.write([NodeFact("datastore", "ledger", {}, 0)])
    payload = json.loads(SUCCESS.read_text())
    payload["deployment"]["payload"] = {"service": "ledger"}
    report = ingest_bytes(embedded, None, json.dumps(payload).encode(), "gh-webhook")
    assert report.ok, report.to_dict()
    assert edges(embedded.graph(LATER), "CHANGED") == {(CHANGE, "CHANGED", "datastore:ledger")}


def test_a_payload_without_its_deployment_id_is_refused_alone(embedded):
    good = json.loads(SUCCESS.read_text())
    bad = copy.deepcopy(good)
    del bad["deployment"]["id"]
    body = json.dumps([bad, good]).encode()
    report = ingest_bytes(embedded, "github-deployments", body, "gh.json", batch_size=1)
    (error,) = report.errors
    assert "gh.json:1[0]" in error and "'deployment.id'" in error
    assert CHANGE in embedded.graph(LATER).nodes


def test_the_hooks_other_events_are_skipped_and_counted(embedded):
    ping = {"zen": "Design for failure.", "hook_id": 30, "hook": {"type": "Repository"}}
    created = {"action": "created", "deployment": json.loads(SUCCESS.read_text())["deployment"]}
    body = json.dumps([ping, created]).encode()
    report = ingest_bytes(embedded, "github-deployments", body, "gh.json")
    assert report.ok and report.added == 0
    assert report.skipped == {"GitHub ping": 1, "GitHub deployment": 1}
