"""Write a synthetic scenario as a case folder in the formats of spec/benchmark-cases.md.

- topology: native JSONL (components, calls with their sampled attributes,
  configuration keys with ``HAS_CONFIG``);
- changes: native change JSONL; with the ``cdevents`` format enabled, a case's
  plain deploys may instead be CDEvents v0.4 ``service.deployed`` events;
- alerts: native alert JSONL; with ``alertmanager`` enabled, a case's alerts may
  instead be Alertmanager webhook payloads (version 4), grouped by alert name.

Output is byte-stable: keys sorted, times in ISO 8601, no wall-clock values.
"""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path
from typing import Any

import yaml

from ccm.bench.synth.faults import Change
from ccm.bench.synth.incident import AlertSpec, Scenario
from graph_schema import format_time

__all__ = ["FORMATS", "write_case"]

FORMATS = ("native", "alertmanager", "cdevents")
#: the spec's alertname table, as an Alertmanager rule set would name the alerts
_ALERTNAMES = {"errors": "HighRequestErrorRate", "latency": "HighRequestLatency",
               "traffic_drop": "NoRequestsReceived", "down": "KubePodNotReady",
               "crash": "KubePodCrashLooping", "saturation": "HighCPUSaturation"}
_NEVER = "0001-01-01T00:00:00Z"


def _t(micros: int) -> str:
    """ISO 8601, whole seconds (as most sources write times)."""
    return format_time(micros - micros % 1_000_000) or ""


def _jsonl(path: Path, records: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, sort_keys=True) + "\n" for r in records),
                    encoding="utf-8")


def topology_records(s: Scenario) -> list[dict[str, Any]]:
    w = s.world
    out: list[dict[str, Any]] = []
    for name in sorted(w.topo.kinds):
        out.append({"type": "node", "kind": w.topo.kinds[name], "name": name,
                    "attrs": w.node_attrs[name]})
    for service in sorted(w.configs):
        for key, value in w.configs[service]:
            out.append({"type": "node", "kind": "config", "name": f"{service}/{key}",
                        "attrs": {"owner": service, "key": key, "value": value}})
    for caller, callee, _ in w.topo.calls:
        out.append({"type": "edge", "kind": "DEPENDS_ON", "from": w.topo.ref(caller),
                    "to": w.topo.ref(callee), "attrs": w.edge_attrs[(caller, callee)]})
    for service in sorted(w.configs):
        for key, _ in w.configs[service]:
            out.append({"type": "edge", "kind": "HAS_CONFIG", "from": w.topo.ref(service),
                        "to": f"config:{service}/{key}", "attrs": {"via": "env", "env": key}})
    return out


def change_record(c: Change) -> dict[str, Any]:
    rec: dict[str, Any] = {"id": c.id, "time": _t(c.time), "kind": c.kind,
                           "target": c.target}
    if c.version:
        rec["version"] = c.version
    if c.keys:
        rec["changes"] = [{"key": k, "old": o, "new": n} for k, o, n in c.keys]
    if c.flag:
        rec["flag"] = c.flag
    rec["description"] = c.description or f"{c.kind.replace('_', ' ')} of {c.target}"
    return rec


def cdevent(c: Change) -> dict[str, Any]:
    """A CDEvents v0.4 ``dev.cdevents.service.deployed.0.2.0`` event for a deploy."""
    name = c.target.split(":", 1)[1]
    digest = hashlib.sha256(f"{name}@{c.version}".encode()).hexdigest()
    return {"context": {"version": "0.4.1", "id": c.id, "source": "/ci/argocd",
                        "type": "dev.cdevents.service.deployed.0.2.0",
                        "timestamp": _t(c.time)},
            "subject": {"id": f"service/{name}", "source": "/ci/argocd", "type": "service",
                        "content": {"environment": {"id": "production",
                                                    "source": "/ci/argocd"},
                                    "artifactId": f"pkg:oci/{name}@sha256:{digest}"}}}


def alert_record(a: AlertSpec) -> dict[str, Any]:
    rec: dict[str, Any] = {"id": a.id, "time": _t(a.time), "service": a.node,
                           "signal": a.signal, "severity": a.severity,
                           "alertname": _ALERTNAMES[a.signal]}
    if a.ends_at is not None:
        rec["ends_at"] = _t(a.ends_at)
    return rec


def _am_alert(rng: random.Random, a: AlertSpec, label: str) -> dict[str, Any]:
    name = a.node.split(":", 1)[1]
    labels = {"alertname": _ALERTNAMES[a.signal], label: name, "severity": a.severity}
    if a.signal == "saturation" or a.signal == "crash" or rng.random() < 0.3:
        labels["signal"] = a.signal
    fp = hashlib.sha256(json.dumps(labels, sort_keys=True).encode()).hexdigest()[:16]
    return {"status": "resolved" if a.ends_at is not None else "firing",
            "labels": labels,
            "annotations": {"summary": f"{labels['alertname']} on {name}"},
            "startsAt": _t(a.time),
            "endsAt": _t(a.ends_at) if a.ends_at is not None else _NEVER,
            "generatorURL": f"http://prometheus:9090/graph?g0.expr=alert%7Bjob%3D%22{name}%22%7D",
            "fingerprint": fp}


def alertmanager_payloads(rng: random.Random, alerts: list[AlertSpec]) -> list[dict[str, Any]]:
    """Webhook payloads (version 4), one per group of consecutive alerts of one name."""
    label = rng.choice(("service", "app", "job"))
    out: list[dict[str, Any]] = []
    for a in alerts:
        body = _am_alert(rng, a, label)
        name = body["labels"]["alertname"]
        if out and out[-1]["groupLabels"]["alertname"] == name and len(out[-1]["alerts"]) < 3:
            out[-1]["alerts"].append(body)
        else:
            out.append({"version": "4", "groupKey": f'{{}}:{{alertname="{name}"}}',
                        "truncatedAlerts": 0, "status": "firing", "receiver": "oncall",
                        "groupLabels": {"alertname": name}, "commonLabels": {},
                        "commonAnnotations": {}, "externalURL": "http://alertmanager:9093",
                        "alerts": [body]})
    for p in out:
        p["status"] = "firing" if any(x["status"] == "firing" for x in p["alerts"]) else "resolved"
        common = set.intersection(*(set(x["labels"].items()) for x in p["alerts"]))
        p["commonLabels"] = dict(sorted(common))
    return out


def _write_changes(rng: random.Random, s: Scenario, folder: Path, formats: set[str]) -> None:
    use_cd = "cdevents" in formats and rng.random() < 0.5
    native, events = [], []
    for c in s.changes:
        if use_cd and c.kind == "deploy":
            events.append(cdevent(c))
        else:
            native.append(change_record(c))
    if native:
        _jsonl(folder / "changes" / "changes.jsonl", native)
    if events:
        _jsonl(folder / "changes" / "deploys.cdevents.jsonl", events)


def _write_alerts(rng: random.Random, s: Scenario, folder: Path, formats: set[str]) -> None:
    if "alertmanager" in formats and rng.random() < 0.4:
        for i, payload in enumerate(alertmanager_payloads(rng, s.alerts), 1):
            path = folder / "alerts" / f"alertmanager-{i:02d}.json"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n",
                            encoding="utf-8")
    else:
        _jsonl(folder / "alerts" / "alerts.jsonl", [alert_record(a) for a in s.alerts])


def _article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


def _yaml(path: Path, doc: dict[str, Any]) -> None:
    path.write_text(yaml.safe_dump(doc, sort_keys=False, width=100, allow_unicode=True),
                    encoding="utf-8")


def write_case(rng: random.Random, s: Scenario, folder: Path, case_id: str, app: str,
               seed: int, formats: set[str]) -> None:
    """Write ``s`` as the case ``case_id`` into ``folder`` (which must not exist)."""
    folder.mkdir(parents=True)
    f = s.fault
    node = s.world.topo.ref(f.node)
    if f.change is None:
        what = f"{_article(f.fault)} {f.fault.replace('_', ' ')} (no change record)"
        title = f"{app}: {f.fault} on {node}"
        breaks = f"on {node} ({f.signal})"
    else:
        kind = f.change.kind
        what = f"{_article(kind)} {kind.replace('_', ' ')} on {f.change.target}"
        title = f"{app}: {kind} on {f.change.target}"
        breaks = (f"breaks {node} ({f.signal}) "
                  f"{'after a delayed onset' if f.delayed else 'within minutes'}")
    summary = (f"Synthetic (seed {seed}): {what} {breaks}; the failure "
               f"reaches {s.world.topo.ref(s.symptom)}. Topology: {app}.")
    _yaml(folder / "case.yaml", {
        "id": case_id, "title": title,
        "source": "synthetic", "question_time": _t(s.question_time),
        "window": f"P{7}D", "category": s.category, "app": app, "summary": summary})
    _jsonl(folder / "topology" / f"{app}.jsonl", topology_records(s))
    _write_changes(rng, s, folder, formats)
    _write_alerts(rng, s, folder, formats)
    chain = s.truth_chain()
    _yaml(folder / "truth.yaml", {"root_cause": chain[0], "chain": chain,
                                  "symptom": chain[-1]})
