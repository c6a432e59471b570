"""CCM on a real cluster, as a new SRE runs it: real manifests, a GitOps upgrade, a real
kube-prometheus-stack alert, Istio-named traces (the ``ccm`` command, a subprocess)."""

from __future__ import annotations

import json

from tests.helpers import FIXTURES
from tests.test_cli import ccm

REAL = FIXTURES / "real"
K8S = REAL / "kubernetes"


def test_a_gitops_upgrade_then_a_crash_loop_on_a_cartservice_pod_blames_the_cartservice_change(
        tmp_path):
    store = str(tmp_path / "ccm.sqlite")
    ccm("ingest", str(K8S / "online-boutique-v0.8.0.yaml"), "--store", store,
        "--at", "2026-02-03T10:00:00Z")
    # a month later the same manifests at v0.10.6 are applied: every image moves
    upgrade = json.loads(ccm("ingest", str(K8S / "online-boutique-v0.10.6.yaml"), "--store",
                             store, "--at", "2026-03-05T09:45:00Z", "--json").stdout)
    assert upgrade["ok"], upgrade
    graph = json.loads(ccm("graph", "--store", store, "--at", "2026-03-05T09:50:00Z",
                           "--json").stdout)
    changes = {n["ref"]: n for n in _nodes(graph) if n["ref"].startswith("change:")}
    assert any(c["attrs"].get("target") == "service:cartservice" for c in changes.values()), \
        "re-ingesting a workload whose image changed records a change"
    # kube-prometheus-stack's KubePodCrashLooping on cartservice-6d84fcdd5b-xk2pf, 11 minutes
    # after the upgrade, in a post with the always-firing Watchdog and other alerts
    alerts = json.loads(ccm("ingest", str(REAL / "alerts" / "webhook-kube-prometheus-stack.json"),
                            "--store", store, "--json", check=False).stdout)
    assert not any("service:kube-prometheus-stack" in n["ref"] for n in _nodes(json.loads(
        ccm("graph", "--store", store, "--at", "2026-03-05T10:00:00Z", "--json").stdout))), \
        "no phantom node named after the exporter"
    assert alerts["files"][0]["rejected"] == 0, alerts
    rca = json.loads(ccm("rca", "--store", store, "--at", "2026-03-05T10:05:00Z",
                         "--json").stdout)
    top = rca["chains"][0]
    assert top["root"] in changes and \
        changes[top["root"]]["attrs"].get("target") == "service:cartservice", top


def test_a_ratings_failure_reaches_productpage_through_istio_named_traces(tmp_path):
    store = str(tmp_path / "ccm.sqlite")
    ccm("ingest", str(K8S / "bookinfo.yaml"), "--store", store, "--at", "2026-03-01T00:00:00Z")
    # the dependencies Jaeger answers in an Istio mesh: services named name.namespace
    deps = tmp_path / "dependencies.json"
    deps.write_text(json.dumps({"data": [
        {"parent": "productpage.default", "child": "details.default", "callCount": 120},
        {"parent": "productpage.default", "child": "reviews.default", "callCount": 120},
        {"parent": "reviews.default", "child": "ratings.default", "callCount": 80},
    ], "total": 3, "limit": 0, "offset": 0, "errors": None}))
    report = json.loads(ccm("ingest", str(deps), "--store", store, "--at",
                            "2026-03-01T00:05:00Z", "--json").stdout)
    assert report["ok"], report
    graph = json.loads(ccm("graph", "--store", store, "--json").stdout)
    refs = {n["ref"] for n in _nodes(graph)}
    assert not any(r.endswith(".default") for r in refs), "Istio names meet the manifests' nodes"
    impact = json.loads(ccm("predict", "restart", "service:ratings", "--store", store,
                            "--json").stdout)
    assert impact["nodes"].get("service:productpage", 0.0) > 0.1, impact["nodes"]


def _nodes(graph: dict) -> list[dict]:  # type: ignore[type-arg]
    nodes = graph["nodes"]
    if isinstance(nodes, dict):
        return [{"ref": ref, **n} for ref, n in nodes.items()]
    return list(nodes)
