"""Deterministic benchmark inputs, one generator per ingest format.

Each ``make_<format>(folder, facts)`` writes files in the real format that ingest
into at least ``facts`` facts, and returns them. ``PRELOAD`` lists formats that
name nodes an earlier source must have defined (incident chains).
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Callable
from pathlib import Path

import yaml

T0 = 1_772_323_200  # 2026-03-01T00:00:00Z, epoch seconds


def iso(seconds: int) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _pair(i: int, n: int) -> tuple[int, int]:
    """The i-th distinct (caller, callee) pair over n services, no self-loops."""
    a = i % n
    step = 1 + (i // n) % (n - 1)
    return a, (a + step) % n


def make_native(folder: Path, facts: int) -> list[Path]:
    services = max(10, facts // 4)
    path = folder / "topology.jsonl"
    with open(path, "w") as out:
        for i in range(services):
            out.write(json.dumps({"type": "node", "kind": "service", "name": f"svc-{i}",
                                  "attrs": {"language": "Go", "replicas": 3}}) + "\n")
        for i in range(facts - services):
            a, b = _pair(i, services)
            out.write(json.dumps({"type": "edge", "kind": "DEPENDS_ON", "from": f"svc-{a}",
                                  "to": f"svc-{b}", "attrs": {"protocol": "grpc",
                                                              "calls_per_s": 1.5}}) + "\n")
    return [path]


def make_native_changes(folder: Path, facts: int) -> list[Path]:
    """Deploy records (change node + CHANGED edge: 2 facts each)."""
    path = folder / "changes.jsonl"
    with open(path, "w") as out:
        for i in range(math.ceil(facts / 2)):
            out.write(json.dumps({"id": f"chg-{i}", "time": iso(T0 + i), "kind": "deploy",
                                  "target": f"svc-{i % 1000}", "version": f"v1.{i}"}) + "\n")
    return [path]


def make_native_alerts(folder: Path, facts: int) -> list[Path]:
    """Alert records (alert node + SYMPTOM_OF edge: 2 facts each)."""
    path = folder / "alerts.jsonl"
    with open(path, "w") as out:
        for i in range(math.ceil(facts / 2)):
            out.write(json.dumps({"id": f"a-{i}", "time": iso(T0 + i), "service": f"svc-{i % 1000}",
                                  "signal": "errors", "severity": "warning"}) + "\n")
    return [path]


def make_k8s(folder: Path, facts: int) -> list[Path]:
    """Deployments with 4 env vars (2 naming other workloads' Services) and a Service:
    11 facts each (node, 4 config nodes, 4 HAS_CONFIG, 2 DEPENDS_ON)."""
    n = math.ceil(facts / 11)
    paths = []
    for start in range(0, n, 1000):
        docs = []
        for i in range(start, min(n, start + 1000)):
            a, b = (i + 1) % n, (i + 7) % n
            env = [{"name": "LOG_LEVEL", "value": "info"}, {"name": "REGION", "value": "eu-1"},
                   {"name": "A_ADDR", "value": f"svc-{a}:8080"},
                   {"name": "B_URL", "value": f"http://svc-{b}.bench.svc.cluster.local:8080/"}]
            docs.append({"apiVersion": "apps/v1", "kind": "Deployment",
                         "metadata": {"name": f"wl-{i}", "namespace": "bench"},
                         "spec": {"replicas": 2, "selector": {"matchLabels": {"app": f"wl-{i}"}},
                                  "template": {"metadata": {"labels": {"app": f"wl-{i}"}},
                                               "spec": {"containers": [{
                                                   "name": "app", "image": f"bench/app:{i % 9}",
                                                   "env": env}]}}}})
            docs.append({"apiVersion": "v1", "kind": "Service",
                         "metadata": {"name": f"svc-{i}", "namespace": "bench"},
                         "spec": {"selector": {"app": f"wl-{i}"},
                                  "ports": [{"name": "http", "port": 8080}]}})
        path = folder / f"manifests-{start // 1000:04d}.yaml"
        path.write_text(yaml.safe_dump_all(docs, sort_keys=False))
        paths.append(path)
    return paths


def make_backstage(folder: Path, facts: int) -> list[Path]:
    """Components with an owner, a system and two dependencies: 5 facts each."""
    n = math.ceil(facts / 5)
    docs: list[dict] = [{"apiVersion": "backstage.io/v1alpha1", "kind": "Group",
                         "metadata": {"name": f"team-{t}"}, "spec": {"type": "team"}}
                        for t in range(20)]
    docs += [{"apiVersion": "backstage.io/v1alpha1", "kind": "System",
              "metadata": {"name": f"system-{s}"}, "spec": {"owner": f"team-{s % 20}"}}
             for s in range(20)]
    for i in range(n):
        docs.append({"apiVersion": "backstage.io/v1alpha1", "kind": "Component",
                     "metadata": {"name": f"comp-{i}", "description": f"component {i}"},
                     "spec": {"type": "service", "lifecycle": "production",
                              "owner": f"team-{i % 20}", "system": f"system-{i % 20}",
                              "dependsOn": [f"component:comp-{(i + 1) % n}",
                                            f"component:comp-{(i + 5) % n}"]}})
    path = folder / "catalog-info.yaml"
    path.write_text(yaml.safe_dump_all(docs, sort_keys=False))
    return [path]


def make_jaeger(folder: Path, facts: int) -> list[Path]:
    services = max(10, facts // 10)
    data = []
    for i in range(facts - services):
        a, b = _pair(i, services)
        data.append({"parent": f"svc-{a}", "child": f"svc-{b}", "callCount": 10 + i % 997})
    path = folder / "dependencies.json"
    path.write_text(json.dumps({"data": data, "total": 0, "limit": 0, "offset": 0,
                                "errors": None}))
    return [path]


def _attr(key: str, value: str | int) -> dict:
    return {"key": key, "value": {"intValue": str(value)} if isinstance(value, int)
            else {"stringValue": value}}


def make_otlp(folder: Path, facts: int) -> list[Path]:
    """One CLIENT/SERVER span pair per edge, one resourceSpans line per 500 edges."""
    services = max(10, facts // 10)
    edges = facts - services
    path = folder / "traces.jsonl"
    base = T0 * 10**9
    with open(path, "w") as out:
        for start in range(0, edges, 500):
            resource_spans = []
            for i in range(start, min(edges, start + 500)):
                a, b = _pair(i, services)
                trace = f"{i:032x}"
                t = base + i * 1_000_000
                client = {"traceId": trace, "spanId": f"{2 * i:016x}", "parentSpanId": "",
                          "name": "call", "kind": 3, "startTimeUnixNano": str(t),
                          "endTimeUnixNano": str(t + (1 + i % 50) * 1_000_000),
                          "attributes": [_attr("rpc.system", "grpc")],
                          "status": {"code": 2} if i % 17 == 0 else {}}
                server = dict(client, spanId=f"{2 * i + 1:016x}", parentSpanId=client["spanId"],
                              kind=2)
                for service, span in ((f"svc-{a}", client), (f"svc-{b}", server)):
                    resource_spans.append({
                        "resource": {"attributes": [_attr("service.name", service)]},
                        "scopeSpans": [{"scope": {"name": "bench"}, "spans": [span]}]})
            out.write(json.dumps({"resourceSpans": resource_spans}) + "\n")
    return [path]


def make_cdevents(folder: Path, facts: int) -> list[Path]:
    """service.deployed events (change node + CHANGED edge: 2 facts each)."""
    n = math.ceil(facts / 2)
    path = folder / "events.jsonl"
    with open(path, "w") as out:
        for i in range(n):
            out.write(json.dumps({
                "context": {"version": "0.4.1", "id": f"evt-{i:08d}", "source": "/bench/cd",
                            "type": "dev.cdevents.service.deployed.0.2.0",
                            "timestamp": iso(T0 + i)},
                "subject": {"id": f"service/svc-{i % 1000}", "source": "/bench/cd",
                            "type": "service",
                            "content": {"environment": {"id": "prod"},
                                        "artifactId": f"pkg:oci/svc-{i % 1000}@v1.{i}"}}}) + "\n")
    return [path]


def make_alertmanager(folder: Path, facts: int) -> list[Path]:
    """Webhook payloads of 100 firing alerts (alert node + SYMPTOM_OF: 2 facts each)."""
    n = math.ceil(facts / 2)
    path = folder / "webhooks.jsonl"
    with open(path, "w") as out:
        for start in range(0, n, 100):
            alerts = [{"status": "firing",
                       "labels": {"alertname": "HighRequestLatency", "service": f"svc-{i % 1000}",
                                  "severity": "warning"},
                       "annotations": {"summary": f"p99 above 2s ({i})"},
                       "startsAt": iso(T0 + i), "endsAt": "0001-01-01T00:00:00Z",
                       "generatorURL": "http://prometheus:9090/graph", "fingerprint": f"{i:016x}"}
                      for i in range(start, min(n, start + 100))]
            out.write(json.dumps({"receiver": "ccm", "status": "firing", "alerts": alerts,
                                  "groupLabels": {}, "commonLabels": {}, "commonAnnotations": {},
                                  "externalURL": "http://alertmanager:9093", "version": "4",
                                  "groupKey": "{}:{}", "truncatedAlerts": 0}) + "\n")
    return [path]


def make_incident(folder: Path, facts: int) -> list[Path]:
    """Resolved incidents with a 3-node chain and a follow-up: 9 facts each."""
    n = math.ceil(facts / 9)
    docs = []
    for i in range(n):
        chain = [f"service:svc-{(i + k) % 1000}" for k in range(3)]
        docs.append({"kind": "Incident", "id": f"INC-{i}", "title": f"incident {i}",
                     "severity": "SEV3", "started_at": iso(T0 + 60 * i),
                     "resolved_at": iso(T0 + 60 * i + 30), "chain": chain,
                     "follow_ups": [{"id": f"pol-{i}", "rule": "review_required"}]})
    path = folder / "incidents.yaml"
    path.write_text(yaml.safe_dump_all(docs, sort_keys=False))
    return [path]


def make_deploys_csv(folder: Path, facts: int) -> list[Path]:
    n = math.ceil(facts / 2)
    path = folder / "deploys.csv"
    with open(path, "w", newline="") as out:
        w = csv.writer(out)
        w.writerow(["id", "time", "service", "version", "kind", "description"])
        for i in range(n):
            w.writerow([f"dep-{i}", iso(T0 + i), f"svc-{i % 1000}", f"v1.{i}", "deploy",
                        f"deploy {i}"])
    return [path]


def make_incidents_csv(folder: Path, facts: int) -> list[Path]:
    """Resolved incidents with a 3-node chain: 7 facts each."""
    n = math.ceil(facts / 7)
    path = folder / "incidents.csv"
    with open(path, "w", newline="") as out:
        w = csv.writer(out)
        w.writerow(["id", "title", "started_at", "resolved_at", "severity", "chain"])
        for i in range(n):
            chain = " -> ".join(f"service:svc-{(i + k) % 1000}" for k in range(3))
            w.writerow([f"INC-{i}", f"incident {i}", iso(T0 + 60 * i), iso(T0 + 60 * i + 30),
                        "SEV3", chain])
    return [path]


MAKERS: dict[str, Callable[[Path, int], list[Path]]] = {
    "native": make_native, "native-changes": make_native_changes,
    "native-alerts": make_native_alerts, "k8s": make_k8s, "backstage": make_backstage,
    "jaeger": make_jaeger, "otlp": make_otlp, "cdevents": make_cdevents,
    "alertmanager": make_alertmanager, "incident": make_incident,
    "deploys-csv": make_deploys_csv, "incidents-csv": make_incidents_csv,
}
#: formats whose inputs name nodes that must exist first (svc-0 .. svc-999)
PRELOAD = ("incident", "incidents-csv")
