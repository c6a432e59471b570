"""Every real artifact of tests/fixtures/real/, file by file, folder by folder and all
at once, ingested as a new user runs ``ccm ingest`` (one store each, no helm or kubectl
on PATH): every run exits 0 with no error, and gives the graph counted here."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from ccm.cli import cli
from tests.helpers import FIXTURES

REAL = FIXTURES / "real"

#: path under tests/fixtures/real, facts added, records skipped (not modelled), and the
#: coverage then: components, dependencies
EXPECTED = [
    ("alerts", 17, 4, 0, 0),
    ("alerts/api-v2-alerts.json", 17, 1, 0, 0),
    ("alerts/kube-prometheus-general-rules.yaml", 0, 1, 0, 0),
    ("alerts/kube-prometheus-kubernetes-apps-rules.yaml", 0, 1, 0, 0),
    ("alerts/webhook-istio-otel-spanmetrics.json", 7, 0, 0, 0),
    ("alerts/webhook-kube-prometheus-stack-resolved.json", 3, 0, 0, 0),
    ("alerts/webhook-kube-prometheus-stack.json", 10, 1, 0, 0),
    ("backstage", 78, 6, 13, 5),
    ("backstage/ai-resources", 0, 3, 0, 0),
    ("backstage/all-ai-resources.yaml", 0, 3, 0, 0),
    ("backstage/all-apis.yaml", 15, 0, 0, 0),
    ("backstage/all-components.yaml", 57, 0, 13, 5),
    ("backstage/all-domains.yaml", 0, 3, 0, 0),
    ("backstage/all-resources.yaml", 5, 0, 1, 0),
    ("backstage/all-systems.yaml", 9, 0, 0, 0),
    ("backstage/all.yaml", 78, 6, 13, 5),
    ("backstage/apis", 15, 0, 0, 0),
    ("backstage/components", 57, 0, 13, 5),
    ("backstage/domains", 0, 3, 0, 0),
    ("backstage/resources", 5, 0, 1, 0),
    ("backstage/systems", 9, 0, 0, 0),
    ("cdevents", 34, 105, 2, 0),
    ("cdevents/v0.3.0", 16, 31, 2, 0),
    ("cdevents/v0.4.1", 16, 37, 2, 0),
    ("cdevents/v0.5.1", 16, 37, 2, 0),
    ("changes", 6, 1, 2, 0),
    ("changes/argocd-app.json", 3, 0, 1, 0),
    ("changes/argocd-sync-result.json", 3, 0, 1, 0),
    ("changes/github-deployment_status-gh-pages.payload.json", 0, 1, 0, 0),
    ("changes/github-deployment_status-payload.json", 3, 0, 1, 0),
    ("incidents", 5, 2, 0, 0),
    ("incidents/opsgenie-addnote.json", 0, 1, 0, 0),
    ("incidents/opsgenie-close.json", 1, 0, 0, 0),
    ("incidents/opsgenie-create.json", 1, 0, 0, 0),
    ("incidents/pagerduty-acknowledged_v3.json", 1, 0, 0, 0),
    ("incidents/pagerduty-resolved_v3.json", 1, 0, 0, 0),
    ("incidents/pagerduty-service_created_v3.json", 0, 1, 0, 0),
    ("incidents/pagerduty-triggered_v3.json", 1, 0, 0, 0),
    ("kubernetes", 617, 71, 39, 18),
    ("kubernetes/argocd-dex-server.yaml", 11, 0, 1, 0),
    ("kubernetes/argocd-install.yaml", 449, 37, 7, 0),
    ("kubernetes/bookinfo.yaml", 6, 4, 4, 0),
    ("kubernetes/istio", 2, 5, 2, 0),
    ("kubernetes/kubectl-get-all-namespaces.yaml", 5, 3, 1, 0),
    ("kubernetes/online-boutique-helm-chart", 0, 0, 0, 0),
    ("kubernetes/online-boutique-v0.10.6-kubernetes-manifests", 90, 10, 11, 15),
    ("kubernetes/online-boutique-v0.10.6-kustomize", 0, 0, 0, 0),
    ("kubernetes/online-boutique-v0.10.6.yaml", 98, 11, 12, 16),
    ("kubernetes/online-boutique-v0.8.0.yaml", 94, 0, 12, 16),
    ("kubernetes/sock-shop-complete-demo.yaml", 33, 1, 14, 1),
    ("metrics", 9, 2, 6, 3),
    ("metrics/istio-proxy-requests.prom", 3, 0, 2, 1),
    ("metrics/servicegraph-extra-dimensions-queue-db.json", 3, 0, 2, 1),
    ("metrics/servicegraph-failed-label.json", 3, 0, 2, 1),
    ("metrics/servicegraph-failed-label.prom", 3, 0, 2, 1),
    ("metrics/servicegraph-virtual-node-label.json", 0, 2, 0, 0),
    ("traces", 21, 0, 10, 8),
    ("traces/jaeger-empty.json", 0, 0, 0, 0),
    ("traces/jaeger-ui-01-trace.json", 3, 0, 2, 1),
    ("traces/jaeger-ui-dependencies-small.json", 15, 0, 8, 7),
    ("traces/jaeger-v3-gettrace.json", 0, 0, 0, 0),
    ("traces/otlp-examples-trace.json", 0, 0, 0, 0),
    ("traces/tempo-batches-servicegraph-trace.json", 3, 0, 0, 0),
    ("traces/tempo-trace-otlp-example.json", 0, 0, 0, 0),
    (".", 781, 191, 70, 34),
]


@pytest.mark.parametrize(("path", "added", "skipped", "components", "dependencies"), EXPECTED)
def test_every_real_artifact_ingests_with_no_error_into_the_graph_expected(
        tmp_path, monkeypatch, path, added, skipped, components, dependencies):
    monkeypatch.setenv("PATH", str(tmp_path))  # no helm, no kubectl: the same everywhere
    result = CliRunner().invoke(cli, ["ingest", str(REAL / path), "--store",
                                      str(tmp_path / "s.sqlite"), "--at",
                                      "2026-03-01T00:00:00Z", "--json"])
    report = json.loads(result.stdout)
    assert [e for f in report["files"] for e in f["errors"]] == []
    assert result.exit_code == 0
    cov = report["coverage"]
    assert (report["totals"]["added"], report["totals"]["rejected"],
            sum(report["skipped"].values()), cov["components"], cov["dependencies"]) == (
        added, 0, skipped, components, dependencies)


def test_a_trace_without_calls_between_services_says_so(tmp_path):
    result = CliRunner().invoke(cli, ["ingest", str(REAL / "traces" / "otlp-examples-trace.json"),
                                      "--store", str(tmp_path / "s.sqlite"), "--json"])
    (only,) = json.loads(result.stdout)["files"]
    assert result.exit_code == 0 and only["added"] == 0
    assert len(only["notes"]) == 1 and "1 span of my.service: no call between services" \
        in only["notes"][0]
