"""Synthetic dependency graphs for the performance benchmark (seeded, vectorised).

Shape, chosen to resemble real service graphs at scale:

- out-degrees (callees per service) are log-normal, mean about 4, with a long tail
  (aggregators calling dozens of services);
- callees are chosen with a strong bias toward older services (``j = i * u**2.5``),
  which gives a power-law in-degree: a few hubs (auth, config, databases) called by
  a large share of the graph;
- cycles: 1 % of calls get a call back (mutual pairs) and 0.5 % close a triangle,
  between services that are not hubs, as in real graphs where cycles are local;
- edge attributes: 85 % hard, 5 % async, 5 % with a fallback, log-normal call rates;
  nodes nobody calls are entrypoints with log-normal traffic.

``incident`` builds the root-cause workload: a graph of N services, M changes spread
over a week, and symptoms produced by a planted change.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ccm.engine.model import EdgeTable
from ccm.engine.snapshot import ChangeTable, NodeTable, Snapshot, build_snapshot
from ccm.engine.types import Symptom

HOUR = 3_600_000_000
T_END = 1_767_225_600_000_000  # 2026-01-01T00:00:00Z: the benchmark's "now"


@dataclass(frozen=True, eq=False)
class GeneratedGraph:
    n: int
    src: np.ndarray
    dst: np.ndarray
    edges: EdgeTable
    nodes: NodeTable

    def snapshot(self, changes: ChangeTable | None = None, valid_at: int = T_END) -> Snapshot:
        return build_snapshot(self.nodes, self.edges, changes=changes, valid_at=valid_at)


def _calls(rng: np.random.Generator, n: int, n_edges: int) -> tuple[np.ndarray, np.ndarray]:
    """Caller -> callee pairs biased to older callees, deduplicated, about n_edges."""
    deg = np.clip(np.ceil(rng.lognormal(1.0, 0.9, n)), 1, 500).astype(np.int64)
    deg[0] = 0
    src = np.repeat(np.arange(n, dtype=np.int64), deg)
    dst = np.floor(src * rng.random(len(src)) ** 2.5).astype(np.int64)
    key = np.unique(src * n + dst)
    return key // n, key % n


def _local_cycles(rng: np.random.Generator, n: int, src: np.ndarray, dst: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Call-backs (1 % of calls) and triangles (0.5 %) among non-hub services."""
    indeg = np.bincount(dst, minlength=n)
    quiet = indeg[dst] <= np.percentile(indeg, 90)
    pick = np.flatnonzero(quiet & (rng.random(len(src)) < 0.01))
    back_src, back_dst = dst[pick], src[pick]
    order = np.argsort(src, kind="stable")
    ptr = np.concatenate([[0], np.cumsum(np.bincount(src, minlength=n))])
    tri = np.flatnonzero(quiet & (rng.random(len(src)) < 0.005))
    v = dst[tri]
    has = ptr[v + 1] > ptr[v]
    tri, v = tri[has], v[has]
    w = dst[order[ptr[v] + (rng.random(len(v)) * (ptr[v + 1] - ptr[v])).astype(np.int64)]]
    ok = indeg[w] <= np.percentile(indeg, 90)
    return (np.concatenate([back_src, w[ok]]), np.concatenate([back_dst, src[tri][ok]]))


def dependency_graph(n_edges: int, seed: int = 0) -> GeneratedGraph:
    """A graph with ``n_edges`` dependency edges (exactly, after deduplication)."""
    rng = np.random.default_rng(seed)
    for attempt in range(20):  # small graphs lose more calls to deduplication
        n = max(8, int(n_edges / 4.0 * 1.25 ** attempt))
        src, dst = _calls(rng, n, n_edges)
        extra_src, extra_dst = _local_cycles(rng, n, src, dst)
        src, dst = np.concatenate([src, extra_src]), np.concatenate([dst, extra_dst])
        _, first = np.unique(src * n + dst, return_index=True)
        keep = np.sort(first[src[first] != dst[first]])
        if len(keep) >= n_edges:
            break
    if len(keep) > n_edges:
        keep = np.sort(rng.choice(keep, n_edges, replace=False))
    src, dst = src[keep], dst[keep]
    m = len(src)
    edges = EdgeTable.build(src, dst, hard=rng.random(m) < 0.85, is_async=rng.random(m) < 0.05,
                            fallback=rng.random(m) < 0.05, calls=rng.lognormal(2.0, 1.5, m))
    entry = np.bincount(dst, minlength=n) == 0
    rps = np.where(entry, rng.lognormal(3.0, 1.5, n), np.nan)
    nodes = NodeTable.build([f"service:s{i}" for i in range(n)], np.zeros(n, np.int8)
                            + np.int8(0), entry=entry, rps=rps)
    return GeneratedGraph(n, src.astype(np.int32), dst.astype(np.int32), edges, nodes)


def hub(snapshot: Snapshot) -> int:
    """The most depended-on node: the worst case for a blast radius."""
    return int(np.argmax(np.diff(snapshot.in_ptr)))


def incident(services: int = 10_000, changes: int = 500, symptoms: int = 10, seed: int = 0
             ) -> tuple[Snapshot, list[Symptom], str]:
    """A root-cause workload: (snapshot with the changes, symptoms, planted change ref).

    Changes hit random services over the week before; the planted one is a deploy whose
    target has at least ``symptoms`` dependants; the symptoms are the dependants most
    likely impacted by it (noisy-OR), alerting with errors a few minutes apart."""
    from ccm.engine.kernels import _noisy_or_dense

    g = dependency_graph(services * 4, seed)
    rng = np.random.default_rng(seed + 1)
    base = g.snapshot()
    reach = np.diff(base.in_ptr)
    candidates = np.flatnonzero((reach >= 3) & (reach <= 50))
    planted = int(rng.choice(candidates))
    m = base.model()
    r, _ = _noisy_or_dense(base.n, base.in_ptr, base.in_idx, m.in_p, base.out_ptr,
                           base.out_idx, m.out_p, base.order, base.pos, base.comp, base.cyclic,
                           np.array([planted], np.int32), np.ones(1), 1e-12, 10_000)
    victims = [base.refs[v] for v in np.argsort(-r, kind="stable")[:symptoms]]
    onset = T_END - HOUR
    times = np.sort(T_END - rng.integers(2 * HOUR, 7 * 24 * HOUR, changes))
    targets = rng.integers(0, g.n, changes).astype(np.int32)
    targets[-1] = g.nodes.refs.index(base.refs[planted])  # input numbering, not the snapshot's
    times[-1] = onset - 6 * HOUR
    kinds = list(rng.choice(["deploy", "config_change", "feature_flag", "scale"], changes))
    kinds[-1] = "deploy"
    table = ChangeTable([f"change:c{i}" for i in range(changes)], times.astype(np.int64), kinds,
                        targets, np.arange(changes + 1, dtype=np.int64), targets.copy(),
                        [{"target": g.nodes.refs[t]} for t in targets])
    snap = g.snapshot(changes=table)
    found = [Symptom(ref, "errors", onset + 60_000_000 * i) for i, ref in enumerate(victims)]
    return snap, found, f"change:c{changes - 1}"
