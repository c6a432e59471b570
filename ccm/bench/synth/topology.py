"""The six public applications' dependency graphs as native topology JSONL.

:func:`convert` turns one file of ``/work/shared/data/topologies`` (``{app,
source_repo, services, edges, entrypoints, notes}``) into native JSONL records:
a node per component with its kind, language and ``entrypoint``, and a
``DEPENDS_ON`` edge per call with its protocol and an ``evidence`` attribute that
names the repository, the snapshot commit and the file showing the call. Load
generators (clients that are not part of the application) are kept, marked
``monitored: false``. :func:`load_topology` reads such a JSONL file back for the
generator.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["CLIENTS", "SNAPSHOTS", "Topology", "convert", "load_topology", "write_topology"]

#: file stem -> (short app name used in case ids, snapshot the graph was read at)
SNAPSHOTS: dict[str, tuple[str, str]] = {
    "online_boutique": ("boutique", "GoogleCloudPlatform/microservices-demo@34ffea9175946982c3088ed84994fe6019ad6e92"),
    "sock_shop": ("sockshop", "microservices-demo/microservices-demo@9dff06fa (+ per-service repos @2023-12-05 archive commits)"),
    "train_ticket": ("trainticket", "FudanSELab/train-ticket@813dd01eec30386f673d7340a1b7eb605fcb5def"),
    "deathstarbench_socialnetwork": ("social", "delimitrou/DeathStarBench@6ecb09706140f8730b5385c08f1386c654c3c526 (socialNetwork/)"),
    "deathstarbench_hotelreservation": ("hotel", "delimitrou/DeathStarBench@6ecb09706140f8730b5385c08f1386c654c3c526 (hotelReservation/)"),
    "deathstarbench_mediamicroservices": ("media", "delimitrou/DeathStarBench@6ecb09706140f8730b5385c08f1386c654c3c526 (mediaMicroservices/)"),
}
#: traffic generators shipped with the demos: clients, not parts of the application
CLIENTS = frozenset({"loadgenerator", "user-sim"})


def convert(stem: str, data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Native JSONL records for one shared topology file (``stem`` names it)."""
    snapshot = SNAPSHOTS[stem][1]
    entry = set(data["entrypoints"])
    kinds = {s["name"]: s["kind"] for s in data["services"]}
    out: list[dict[str, Any]] = []
    for s in data["services"]:
        attrs: dict[str, Any] = {}
        if s.get("language"):
            attrs["language"] = s["language"]
        if s["name"] in entry:
            attrs["entrypoint"] = True
        if s["name"] in CLIENTS:
            attrs["monitored"] = False
            attrs["description"] = "load generator (a client, not part of the application)"
        out.append({"type": "node", "kind": s["kind"], "name": s["name"], "attrs": attrs})
    for e in data["edges"]:
        out.append({"type": "edge", "kind": "DEPENDS_ON",
                    "from": f"{kinds[e['caller']]}:{e['caller']}",
                    "to": f"{kinds[e['callee']]}:{e['callee']}",
                    "attrs": {"protocol": e["protocol"],
                              "evidence": f"{snapshot}: {e['evidence']}"}})
    return out


def write_topology(records: list[dict[str, Any]], path: Path) -> None:
    path.write_text("".join(json.dumps(r, sort_keys=True) + "\n" for r in records),
                    encoding="utf-8")


@dataclass
class Topology:
    """An application's graph: components (name -> kind, attrs) and calls."""

    app: str
    kinds: dict[str, str] = field(default_factory=dict)
    attrs: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: (caller, callee, attrs) in file order
    calls: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)

    def ref(self, name: str) -> str:
        return f"{self.kinds[name]}:{name}"

    @property
    def entrypoints(self) -> list[str]:
        return [n for n, a in self.attrs.items() if a.get("entrypoint")]

    def callers(self, name: str) -> list[str]:
        return [u for u, v, _ in self.calls if v == name]

    def callees(self, name: str) -> list[str]:
        return [v for u, v, _ in self.calls if u == name]


def load_topology(path: Path) -> Topology:
    """Read a native topology JSONL file written by :func:`write_topology`."""
    topo = Topology(path.stem)
    for line in path.read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        if rec["type"] == "node":
            topo.kinds[rec["name"]] = rec["kind"]
            topo.attrs[rec["name"]] = dict(rec.get("attrs") or {})
        else:
            src, dst = rec["from"].split(":", 1)[1], rec["to"].split(":", 1)[1]
            topo.calls.append((src, dst, dict(rec.get("attrs") or {})))
    return topo
