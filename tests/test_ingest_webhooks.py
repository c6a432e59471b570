"""The JSON webhook reader the change and incident webhooks share, and their detection."""

from __future__ import annotations

import json

import pytest

from graph_schema import FactError
from ingest import ingest_bytes
from ingest.adapters import registry
from ingest.core import detect, expand
from ingest.source import Source
from ingest.webhooks import text, time_of
from tests.helpers import FIXTURES, LATER

REAL = FIXTURES / "real"
WEBHOOKS = {"argocd", "github-deployments", "pagerduty", "opsgenie"}
EXPECTED = {
    "changes/argocd-app.json": "argocd",
    "changes/argocd-sync-result.json": "argocd",
    "changes/github-deployment_status-payload.json": "github-deployments",
    "changes/github-deployment_status-gh-pages.payload.json": "github-deployments",
    "incidents/pagerduty-triggered_v3.json": "pagerduty",
    "incidents/pagerduty-resolved_v3.json": "pagerduty",
    "incidents/pagerduty-acknowledged_v3.json": "pagerduty",
    "incidents/pagerduty-service_created_v3.json": "pagerduty",
    "incidents/opsgenie-create.json": "opsgenie",
    "incidents/opsgenie-close.json": "opsgenie",
    "incidents/opsgenie-addnote.json": "opsgenie",
}


def _detected(path) -> str | None:
    adapter = detect(Source.from_path(path), registry())
    return adapter.name if adapter else None


@pytest.mark.parametrize(("path", "fmt"), sorted(EXPECTED.items()))
def test_each_real_webhook_payload_is_detected_as_its_format(path, fmt):
    assert _detected(REAL / path) == fmt


def test_no_file_of_another_format_is_taken_for_a_webhook():
    others = [p for p in expand([FIXTURES]) if "real/changes" not in p.as_posix()
              and "real/incidents" not in p.as_posix()]
    assert len(others) > 150
    assert {p.as_posix(): _detected(p) for p in others
            if _detected(p) in WEBHOOKS} == {}


def test_payloads_in_a_json_list_on_one_line_are_read_one_by_one(embedded):
    payloads = [json.loads((REAL / path).read_text()) for path in (
        "incidents/pagerduty-triggered_v3.json", "incidents/pagerduty-resolved_v3.json",
        "incidents/pagerduty-service_created_v3.json")]
    report = ingest_bytes(embedded, "pagerduty", json.dumps(payloads).encode() + b"\n",
                          "pd.jsonl")
    assert report.ok and report.skipped == {"PagerDuty service.created": 1}
    assert {n.ref for n in embedded.graph(LATER).nodes_of("incident")} == {
        "incident:pagerduty-PFQZPSY", "incident:pagerduty-PCPZE64"}


@pytest.mark.parametrize(("payload", "path", "value"), [
    ({"a": {"b": ""}}, "a.b", None),
    ({"a": {"b": ["x"]}}, "a.b", ["x"]),
    ({"a": 3}, "a.b", None),
])
def test_a_missing_or_misshapen_text_field_is_named(payload, path, value):
    with pytest.raises(FactError) as err:
        text(payload, path, "hook.json:1")
    assert (err.value.field, err.value.value) == (path, value)


def test_a_time_field_that_is_not_a_time_is_named():
    with pytest.raises(FactError) as err:
        time_of({"at": "noon"}, "at", "hook.json:1")
    assert (err.value.field, err.value.value) == ("at", "noon")
    assert time_of({}, "at", "hook.json:1", required=False) is None
