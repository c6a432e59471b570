"""How many synthetic cases can be answered at all: an upper bound on root@1.

    python benchmarks/identifiability.py CASES_DIR [RESULTS.json ...]

An evaluation tool (it reads ``truth.yaml``; the engine never does). For each
case it looks only at what a method sees at the question time (the changes and
the alerts firing then) plus the truth, and flags two kinds of cases:

- **A, not identifiable**: another change on the faulty component, made after the
  faulty one and before the first alert on the truth path. It explains exactly
  the same alerts (same component) and is closer to their onset, so any method
  for which a change minutes before the alerts is at least as likely as one
  longer before ranks it first; change kinds and contents carry no information
  in the generator.
- **B, hardly identifiable**: the faulty component has no alert at the question
  time (missed, unmonitored, or not fired yet) and another change sits on a
  victim of the truth path in the two hours before the first alert: it explains
  the alerts without a missed alert.

For a fault with no change record (the chaos mix's ``no_change_fault``, the
truth's root a component):

- **A, not identifiable**: a change on the faulty component in the six hours
  before the first alert. It explains exactly the same alerts as the component
  failing on its own; only its prior and its onset delay tell them apart, and in
  the default mix that observation is a delayed onset, the change the cause.
- **B, hardly identifiable**: else a change on one of the faulty component's
  (transitive) dependencies in the two hours before the first alert: the same
  alerts with one quiet hop between.

With result files of ``ccm bench chains --json`` it also prints each method's
root@1 on A, B and the remaining cases.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

from graph_schema import parse_time

HOUR_US = 3_600_000_000
_COMPONENTS = ("service:", "datastore:", "cache:", "queue:", "gateway:", "external:")


def _jsonl(folder: Path) -> list[dict[str, Any]]:
    rows = []
    for f in sorted(folder.glob("*.jsonl")) if folder.is_dir() else []:
        rows += [json.loads(line) for line in f.read_text().splitlines() if line.strip()]
    return rows


def classify(folder: Path) -> dict[str, Any]:
    """``{"id", "category", "class"}`` with class "A", "B" or "" (see the module doc)."""
    case = yaml.safe_load((folder / "case.yaml").read_text())
    truth = yaml.safe_load((folder / "truth.yaml").read_text())
    at = parse_time(case["question_time"])
    changes = _jsonl(folder / "changes")
    alerts = [a for a in _jsonl(folder / "alerts") if parse_time(a["time"]) <= at]
    if truth["root_cause"].startswith(_COMPONENTS):
        return _spontaneous(folder, case, truth, changes, alerts)
    cause = next(c for c in changes if f"change:{c['id']}" == truth["root_cause"])
    t0, target = parse_time(cause["time"]), cause["target"]
    path = [n for n in truth["chain"] if n.startswith(_COMPONENTS)]
    first = min(parse_time(a["time"]) for a in alerts
                if a["service"] in path and a.get("signal") != "traffic_drop")
    others = [(parse_time(c["time"]), c["target"]) for c in changes if c["id"] != cause["id"]]
    same = any(t0 < t < first and tgt == target for t, tgt in others)
    silent = not any(a["service"] == target for a in alerts)
    victim = silent and any(first - 2 * HOUR_US < t < first and tgt in path[1:]
                            for t, tgt in others)
    return {"id": case["id"], "category": case.get("category", ""),
            "class": "A" if same else "B" if victim else ""}


def _dependencies(folder: Path, root: str) -> set[str]:
    """What ``root`` depends on, transitively, from the case's topology."""
    edges: dict[str, set[str]] = {}
    for r in _jsonl(folder / "topology"):
        if r.get("type") == "edge" and r.get("kind") == "DEPENDS_ON":
            edges.setdefault(r["from"], set()).add(r["to"])
    seen, todo = set(), [root]
    while todo:
        for d in edges.get(todo.pop(), ()):
            if d not in seen:
                seen.add(d)
                todo.append(d)
    return seen - {root}


def _spontaneous(folder: Path, case: dict[str, Any], truth: dict[str, Any],
                 changes: list[dict[str, Any]], alerts: list[dict[str, Any]]
                 ) -> dict[str, Any]:
    root = truth["root_cause"]
    first = min(parse_time(a["time"]) for a in alerts if a.get("signal") != "traffic_drop")
    times = [(first - parse_time(c["time"]), c["target"]) for c in changes]
    deps = _dependencies(folder, root)
    same = any(0 <= d <= 6 * HOUR_US and tgt == root for d, tgt in times)
    near = any(0 <= d <= 2 * HOUR_US and tgt in deps for d, tgt in times)
    return {"id": case["id"], "category": case.get("category", ""),
            "class": "A" if same else "B" if near else ""}


def main(cases: str, results: list[str]) -> None:
    rows = {r["id"]: r for r in (classify(p.parent) for p in sorted(Path(cases).rglob(
        "truth.yaml")))}
    n = len(rows)
    count = Counter(r["class"] for r in rows.values())
    print(f"{n} cases: A (not identifiable) {count['A']} = {count['A'] / n:.3f}, "
          f"B (hardly identifiable) {count['B']} = {count['B'] / n:.3f}; "
          f"root@1 can be at most {1 - count['A'] / n:.3f}")
    by_cat: dict[str, Counter[str]] = {}
    for r in rows.values():
        by_cat.setdefault(r["category"], Counter())[r["class"] or "rest"] += 1
    for cat, c in sorted(by_cat.items()):
        total = sum(c.values())
        print(f"  {cat}: {total} cases, A {c['A']}, B {c['B']}, "
              f"at most {1 - c['A'] / total:.2f}")
    for path in results:
        data = json.loads(Path(path).read_text())
        for method in data["methods"]:
            hits: dict[str, list[int]] = {"A": [], "B": [], "": []}
            for r in data["per_case"]:
                if r["method"] == method and r["id"] in rows:
                    hits[rows[r["id"]]["class"]].append(r["root@1"])
            print(f"{path} {method}: " + ", ".join(
                f"{k or 'rest'} {sum(v) / max(len(v), 1):.3f} ({len(v)})"
                for k, v in hits.items()))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
