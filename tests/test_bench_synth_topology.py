"""The six applications' graphs as native topology JSONL."""

from __future__ import annotations

import json
from pathlib import Path

from ccm.bench.synth.topology import SNAPSHOTS, convert, load_topology, write_topology

ROOT = Path(__file__).resolve().parents[1]
TOPOLOGIES = ROOT / "benchmarks" / "topologies"

SHARED = {"app": "demo", "source_repo": "example/demo",
          "services": [{"name": "web", "kind": "service", "language": "Go"},
                       {"name": "db", "kind": "datastore", "language": None},
                       {"name": "loadgenerator", "kind": "service", "language": "Python"}],
          "edges": [{"caller": "web", "callee": "db", "protocol": "sql",
                     "evidence": "web/main.go (DB_ADDR)"},
                    {"caller": "loadgenerator", "callee": "web", "protocol": "http",
                     "evidence": "locustfile.py"}],
          "entrypoints": ["web"], "notes": []}


def test_conversion_keeps_kinds_entrypoints_and_evidence_with_the_snapshot(tmp_path):
    records = convert("online_boutique", SHARED)
    nodes = {r["name"]: r for r in records if r["type"] == "node"}
    edges = [r for r in records if r["type"] == "edge"]
    assert nodes["db"]["kind"] == "datastore"
    assert nodes["web"]["attrs"] == {"language": "Go", "entrypoint": True}
    assert nodes["loadgenerator"]["attrs"]["monitored"] is False
    assert edges[0]["from"] == "service:web" and edges[0]["to"] == "datastore:db"
    assert edges[0]["attrs"]["evidence"] == (SNAPSHOTS["online_boutique"][1]
                                             + ": web/main.go (DB_ADDR)")
    write_topology(records, tmp_path / "online_boutique.jsonl")
    topo = load_topology(tmp_path / "online_boutique.jsonl")
    assert topo.entrypoints == ["web"] and topo.callers("db") == ["web"]


def test_the_committed_topologies_name_their_source_on_every_edge():
    files = sorted(TOPOLOGIES.glob("*.jsonl"))
    assert [f.stem for f in files] == sorted(SNAPSHOTS)
    for f in files:
        records = [json.loads(line) for line in f.read_text().splitlines()]
        edges = [r for r in records if r["type"] == "edge"]
        assert edges and all("@" in e["attrs"]["evidence"] for e in edges), f.name
        assert any(r["attrs"].get("entrypoint") for r in records if r["type"] == "node")
