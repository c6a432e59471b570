"""Argo CD notification webhooks ({{toJson .app}} and its syncResult) -> deploy changes."""

from __future__ import annotations

import copy
import json

from ccm.ops.rca import SymptomSpec, find_root_causes
from graph_schema import parse_time
from ingest import ingest_bytes, ingest_paths
from tests.helpers import AT1, FIXTURES, LATER, attrs_of, edges

REAL = FIXTURES / "real" / "changes"
APP = json.loads((REAL / "argocd-app.json").read_text())
CHANGE = "change:argocd-test-lla-test-lla-ea8759964626"
REVISION = "ea8759964626a583667a2bfd08f334ec2070040a"


def _body(value) -> bytes:
    return json.dumps(value).encode()


def _app(**op) -> dict:
    app = copy.deepcopy(APP)
    app["status"]["operationState"].update(op)
    return app


def test_a_succeeded_sync_is_a_deploy_of_the_workload_it_applied(embedded):
    report = ingest_paths(embedded, [REAL / "argocd-app.json"])
    assert report.ok and report.files[0].format == "argocd", report.to_dict()
    g = embedded.graph(LATER)
    assert attrs_of(g, CHANGE) == {
        "change_kind": "deploy", "target": "service:test-lla", "version": REVISION,
        "time": parse_time("2024-03-05T07:33:04Z"), "author": "foo@example.com",
        "description": "successfully synced (all tasks run)",
        "event_type": "argocd.sync.Succeeded"}
    assert edges(g, "CHANGED") == {(CHANGE, "CHANGED", "service:test-lla")}


def test_the_documented_sync_result_body_is_the_same_change_at_its_arrival(embedded):
    report = ingest_paths(embedded, [REAL / "argocd-sync-result.json"], at=AT1)
    assert report.ok and report.files[0].format == "argocd", report.to_dict()
    g = embedded.graph(LATER)
    assert {(n.ref, n.attrs["target"], n.attrs["version"]) for n in g.nodes_of("change")} == {
        (CHANGE, "service:test-lla", REVISION)}
    assert embedded.history(CHANGE).node[0].valid_from == AT1
    again = ingest_paths(embedded, [REAL / "argocd-sync-result.json"], at=LATER)
    assert again.totals()["added"] == 0 and again.ok


def test_a_sync_result_after_its_application_adds_nothing(embedded):
    ingest_paths(embedded, [REAL / "argocd-app.json"])
    report = ingest_paths(embedded, [REAL / "argocd-sync-result.json"], at=LATER)
    assert report.ok and report.totals() == {"added": 0, "unchanged": 0, "closed": 0,
                                             "rejected": 0}


def test_the_images_of_a_resource_give_the_version_and_the_app_may_be_wrapped(embedded):
    app = copy.deepcopy(APP)
    deployment = app["status"]["operationState"]["syncResult"]["resources"][1]
    deployment["images"] = ["europe-west1-docker.pkg.dev/foo/velero:1.13.2"]
    report = ingest_bytes(embedded, None, _body({"app": app}), "argocd-webhook")
    assert report.ok and report.format == "argocd", report.to_dict()
    change = attrs_of(embedded.graph(LATER), CHANGE)
    assert (change["version"], change["artifact"]) == (
        "1.13.2", "europe-west1-docker.pkg.dev/foo/velero:1.13.2")


def test_syncs_that_did_not_deploy_are_skipped_and_counted(embedded):
    unchanged = _app()
    for res in unchanged["status"]["operationState"]["syncResult"]["resources"]:
        res["message"] = f"{res['kind'].lower()}/{res['name']} unchanged"
    no_operation = copy.deepcopy(APP)
    del no_operation["status"]["operationState"]
    body = b"\n".join(_body(x) for x in (_app(phase="Failed"), _app(phase="Running"),
                                         unchanged, no_operation)) + b"\n"
    report = ingest_bytes(embedded, "argocd", body, "argocd.jsonl")
    assert report.ok and report.added == 0, report.to_dict()
    assert report.skipped == {"Argo CD sync Failed": 1, "Argo CD sync Running": 1,
                              "Argo CD sync that changed no workload": 1,
                              "Argo CD Application without a sync operation": 1}


def test_a_malformed_body_is_refused_alone_naming_its_field(embedded):
    bad = _app()
    bad["status"]["operationState"]["syncResult"]["resources"] = "deployment/test-lla"
    wrong_time = _app(finishedAt="yesterday")
    body = b"\n".join(_body(x) for x in (bad, wrong_time, APP)) + b"\n"
    report = ingest_bytes(embedded, "argocd", body, "argocd.jsonl", batch_size=1)
    first, second = report.errors
    assert "argocd.jsonl:1 (application velero-test)" in first
    assert "status.operationState.syncResult.resources" in first
    assert "argocd.jsonl:2" in second and "'finishedAt'" in second and "'yesterday'" in second
    assert CHANGE in embedded.graph(LATER).nodes


def test_rca_ranks_an_argo_cd_deploy_like_any_other_change(embedded):
    topology = b"".join(json.dumps(x).encode() + b"\n" for x in (
        {"type": "node", "kind": "service", "name": "frontend", "attrs": {"entrypoint": True}},
        {"type": "node", "kind": "service", "name": "test-lla"},
        {"type": "node", "kind": "service", "name": "shipping"},
        {"type": "edge", "kind": "DEPENDS_ON", "from": "frontend", "to": "test-lla"},
        {"type": "edge", "kind": "DEPENDS_ON", "from": "frontend", "to": "shipping"}))
    assert ingest_bytes(embedded, "native", topology, "topology.jsonl").ok
    assert ingest_paths(embedded, [REAL / "argocd-app.json"]).ok
    onset = parse_time("2024-03-05T07:41:00Z")  # eight minutes after the sync finished
    ranked = find_root_causes(embedded, at=onset + 60_000_000, symptoms=[
        SymptomSpec("service:frontend", "errors", onset)])
    assert ranked.chains[0].nodes == [CHANGE, "service:test-lla", "service:frontend"]
