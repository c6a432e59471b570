"""Random propagation graphs for the engine's property tests (hypothesis strategies).

Graphs have cycles, self-loops, repeated edges, isolated nodes and may be empty;
edge probabilities come from random learned ``propagation`` values, so they span
[0, p_max] including exact zeros.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from ccm.engine.model import EdgeTable
from ccm.engine.params import Params
from ccm.engine.snapshot import NodeTable, Snapshot, build_snapshot

#: probabilities are exactly the learned values (clipped to p_max)
LEARNED = Params(memory_weight=1.0)
_P = st.sampled_from([0.0, 0.05, 0.3, 0.5, 0.7, 0.9, 0.99]) | st.floats(0.0, 1.0)


@st.composite
def snapshots(draw: st.DrawFn, max_nodes: int = 12, max_edges: int = 30) -> Snapshot:
    n = draw(st.integers(0, max_nodes))
    if n == 0:
        return build_snapshot(NodeTable.build([], []), EdgeTable.build([], []))
    pairs = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)),
                          max_size=max_edges))
    src = [u for u, _ in pairs]
    dst = [v for _, v in pairs]
    m = len(pairs)
    edges = EdgeTable.build(src, dst, learned=draw(st.lists(_P, min_size=m, max_size=m)),
                            calls=draw(st.lists(st.sampled_from([np.nan, 0.0, 1.0, 10.0]),
                                                min_size=m, max_size=m)))
    refs = [f"service:s{i}" for i in range(n)]
    entry = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    monitored = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    rps = draw(st.lists(st.sampled_from([np.nan, 1.0, 5.0]), min_size=n, max_size=n))
    nodes = NodeTable.build(refs, ["service"] * n, entry=entry, rps=rps, monitored=monitored)
    return build_snapshot(nodes, edges)


def seeds_for(draw: st.DrawFn, n: int) -> tuple[np.ndarray, np.ndarray]:
    k = draw(st.integers(1, min(3, n)))
    seeds = draw(st.lists(st.integers(0, n - 1), min_size=k, max_size=k))
    probs = draw(st.lists(st.sampled_from([1.0, 0.5, 0.9]) | st.floats(0.01, 1.0),
                          min_size=k, max_size=k))
    return np.array(seeds, np.int32), np.array(probs, np.float64)


def combined(seeds: np.ndarray, probs: np.ndarray) -> dict[int, float]:
    """Seed probabilities of repeated seeds combined noisy-OR, as the kernels do."""
    out: dict[int, float] = {}
    for v, s in zip(seeds.tolist(), probs.tolist(), strict=True):
        out[v] = 1.0 - (1.0 - out.get(v, 0.0)) * (1.0 - s)
    return out


T0 = 1_767_225_600_000_000  # 2026-01-01T00:00:00Z
HOUR = 3_600_000_000


@st.composite
def incidents(draw: st.DrawFn):
    """A random snapshot with changes in the past, values that expire (some after the
    snapshot's time), and symptoms (node, signal, time)."""
    from ccm.engine.snapshot import NO_EXPIRY, ChangeTable
    from ccm.engine.types import Symptom

    base = draw(snapshots().filter(lambda s: s.n > 0))
    n = base.n
    k = draw(st.integers(0, 4))
    kinds = draw(st.lists(st.sampled_from(["deploy", "config_change", "feature_flag",
                                           "schema_migration"]), min_size=k, max_size=k))
    times = [T0 + draw(st.integers(0, 96)) * HOUR for _ in range(k)]
    seeds = [draw(st.lists(st.integers(0, n - 1), min_size=0, max_size=2, unique=True))
             for _ in range(k)]
    meta = [{"target": base.refs[s[0]] if s else "", "keys": [], "diff": [],
             "destructive": False, "reversible": None} for s in seeds]
    changes = ChangeTable([f"change:c{i}" for i in range(k)], np.array(times, np.int64),
                          kinds, np.array([s[0] if s else -1 for s in seeds], np.int32),
                          np.concatenate([[0], np.cumsum([len(s) for s in seeds])]
                                         ).astype(np.int64),
                          np.array([v for s in seeds for v in s], np.int32), meta)
    expires = [draw(st.sampled_from([NO_EXPIRY, NO_EXPIRY, T0 + draw(st.integers(0, 150)) * HOUR]))
               for _ in range(n)]
    kinds = ["config" if e != NO_EXPIRY else "service" for e in expires]  # values expire
    nodes = NodeTable.build(base.nodes.refs, kinds, entry=base.nodes.entry, rps=base.nodes.rps,
                            monitored=base.nodes.monitored, expires=expires)
    snap = build_snapshot(nodes, base.edges, changes=changes, valid_at=T0 + 200 * HOUR)
    m = draw(st.integers(1, min(4, n)))
    symptoms = [Symptom(base.refs[draw(st.integers(0, n - 1))],
                        draw(st.sampled_from(["errors", "latency", "traffic_drop", "down"])),
                        T0 + draw(st.integers(0, 120)) * HOUR) for _ in range(m)]
    return snap, symptoms
