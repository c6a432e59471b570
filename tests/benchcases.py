"""Small benchmark cases written by tests (the spec's layout, native JSONL files).

The standard case: ``frontend`` (entrypoint) calls ``checkout``, which calls ``cart``,
which reads the cache ``redis``; ``checkout`` reads ``REDIS_TIMEOUT_MS``. The faulty
change ``chg-42`` sets that key at 10:00; a deploy of ``frontend`` (``chg-7``) comes
later at 10:05; alerts fire on checkout (10:08) and frontend (10:10); the question is
asked at 10:20.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

QUESTION_TIME = "2026-03-04T10:20:00Z"

TOPOLOGY = [
    {"type": "node", "kind": "service", "name": "frontend",
     "attrs": {"entrypoint": True, "rps": 100.0}},
    {"type": "node", "kind": "service", "name": "checkout"},
    {"type": "node", "kind": "service", "name": "cart"},
    {"type": "node", "kind": "service", "name": "ads"},
    {"type": "node", "kind": "cache", "name": "redis"},
    {"type": "node", "kind": "config", "name": "checkout/REDIS_TIMEOUT_MS",
     "attrs": {"owner": "checkout", "key": "REDIS_TIMEOUT_MS", "value": "500"}},
    {"type": "edge", "kind": "DEPENDS_ON", "from": "service:frontend", "to": "service:checkout"},
    {"type": "edge", "kind": "DEPENDS_ON", "from": "service:frontend", "to": "service:ads"},
    {"type": "edge", "kind": "DEPENDS_ON", "from": "service:checkout", "to": "service:cart"},
    {"type": "edge", "kind": "DEPENDS_ON", "from": "service:cart", "to": "cache:redis"},
    {"type": "edge", "kind": "HAS_CONFIG", "from": "service:checkout",
     "to": "config:checkout/REDIS_TIMEOUT_MS"},
]
CHANGES = [
    {"id": "chg-3", "time": "2026-03-02T09:00:00Z", "kind": "deploy", "target": "service:ads",
     "version": "2.0.0"},
    {"id": "chg-42", "time": "2026-03-04T10:00:00Z", "kind": "config_change",
     "target": "service:checkout",
     "changes": [{"key": "REDIS_TIMEOUT_MS", "old": "500", "new": "50"}]},
    {"id": "chg-7", "time": "2026-03-04T10:05:00Z", "kind": "deploy",
     "target": "service:frontend", "version": "1.4.2"},
]
ALERTS = [
    {"id": "a1", "time": "2026-03-04T10:08:00Z", "service": "service:checkout",
     "signal": "errors", "severity": "critical"},
    {"id": "a2", "time": "2026-03-04T10:10:00Z", "service": "frontend", "signal": "errors",
     "severity": "critical"},
]
CASE = {"id": "cart-redis-timeout", "title": "Checkout errors after a timeout change",
        "source": "https://example.org/postmortem", "question_time": QUESTION_TIME,
        "window": "P7D", "category": "config_change"}
TRUTH = {"root_cause": "change:chg-42",
         "chain": ["change:chg-42", "config:checkout/REDIS_TIMEOUT_MS", "service:checkout",
                   "service:frontend"],
         "symptom": "service:frontend"}


def jsonl(path: Path, records: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")


def yaml_text(doc: dict[str, Any]) -> str:
    import yaml

    return yaml.safe_dump(doc, sort_keys=False)


def write_case(root: Path, case_id: str = "cart-redis-timeout", *,
               case: dict[str, Any] | None = None, truth: dict[str, Any] | None = None,
               topology: list[dict[str, Any]] | None = None,
               changes: list[dict[str, Any]] | None = None,
               alerts: list[dict[str, Any]] | None = None) -> Path:
    """Write the standard case (or a variant) as ``root/case_id``; return its folder."""
    folder = root / case_id
    folder.mkdir(parents=True)
    doc = {**CASE, "id": case_id, **(case or {})}
    (folder / "case.yaml").write_text(yaml_text(doc), encoding="utf-8")
    (folder / "truth.yaml").write_text(yaml_text(truth or TRUTH), encoding="utf-8")
    jsonl(folder / "topology" / "topology.jsonl", TOPOLOGY if topology is None else topology)
    jsonl(folder / "changes" / "changes.jsonl", CHANGES if changes is None else changes)
    jsonl(folder / "alerts" / "alerts.jsonl", ALERTS if alerts is None else alerts)
    return folder


def ask_case(folder: Path, at: int | None = None):  # type: ignore[no-untyped-def]
    """The Question of the case in ``folder`` (its store already closed: for the
    baselines, which only read the graph)."""
    from ccm.bench.cases import load_case
    from ccm.bench.question import ask
    from ccm.bench.replay import replayed

    case = load_case(folder)
    with replayed(case) as store:
        return ask(store, case.id, case.question_time if at is None else at, case.window)
