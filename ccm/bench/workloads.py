"""The benchmark's workloads, shared by the in-process runner and the networkx worker.

Each graph is regenerated from ``(edges, seed)`` (deterministic), so a worker
process rebuilds exactly the graph the runner measured. The query target is the
most depended-on node: the worst case for a blast radius.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ccm.bench.graphs import dependency_graph, hub, incident
from ccm.engine.snapshot import Snapshot

#: cascades per Monte Carlo run
SAMPLES = 1000
#: the root-cause workload (DESIGN: 10 symptoms, 500 changes, 10,000 services)
RCA_SERVICES, RCA_CHANGES, RCA_SYMPTOMS = 10_000, 500, 10


@dataclass(frozen=True, eq=False)
class Workload:
    snapshot: Snapshot
    target: int

    def describe(self) -> dict[str, Any]:
        s = self.snapshot
        sizes = np.bincount(s.comp) if s.n else np.zeros(1, np.int64)
        return {"nodes": s.n, "edges": len(s.edges), "target": s.refs[self.target],
                "target_dependants": int(np.diff(s.in_ptr)[self.target]),
                "largest_cycle_component": int(sizes.max()),
                "nodes_on_cycles": int(s.cyclic.sum()),
                "entrypoints": int((s.traffic > 0).sum())}


def workload(edges: int, seed: int = 0) -> Workload:
    snap = dependency_graph(edges, seed).snapshot()
    return Workload(snap, hub(snap))


def rca_workload(seed: int = 0) -> tuple[Snapshot, list[Any], str]:
    return incident(RCA_SERVICES, RCA_CHANGES, RCA_SYMPTOMS, seed)
