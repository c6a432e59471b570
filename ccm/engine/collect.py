"""From a store's graph at a time to the snapshot's columns, in one pass.

One loop over the nodes and one over the edges collect plain Python lists; numpy
turns them into arrays. Only ``DEPENDS_ON`` and ``HAS_CONFIG`` edges enter the
propagation graph; ``CHANGED`` edges give each change the nodes it changed and
``SYMPTOM_OF`` edges give each alert its node and signal. Text attributes
(descriptions, summaries) are never read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ccm.engine.longlived import settle
from ccm.engine.model import DEPENDS_ON, HAS_CONFIG, EdgeTable, value_expiry
from ccm.engine.snapshot import (
    NO_EXPIRY,
    AlertTable,
    ChangeTable,
    NodeTable,
    Snapshot,
    SnapshotCache,
    build_snapshot,
)
from graph_schema import COMPONENT_KINDS, SIGNALS

_COMPONENTS = frozenset(COMPONENT_KINDS)
_FLAGS = ("hard", "async", "fallback", "cached")


def edge_features(attrs: dict[str, Any]
                  ) -> tuple[tuple[bool, bool, bool, bool], tuple[float, float, float, float]]:
    """An edge's flags ``(hard, async, fallback, cached)`` and numbers ``(calls,
    timeout_ms, retries, learned propagation)`` from its attributes."""
    calls = attrs.get("calls_per_s", attrs.get("call_count"))
    return ((attrs.get("hard", True) is not False, bool(attrs.get("async")),
             bool(attrs.get("fallback")), bool(attrs.get("cached"))),
            (np.nan if calls is None else float(calls),
             np.nan if attrs.get("timeout_ms") is None else float(attrs["timeout_ms"]),
             float(attrs.get("retries") or 0),
             np.nan if attrs.get("propagation") is None else float(attrs["propagation"])))


@dataclass
class _Edges:
    src: list[int] = field(default_factory=list)
    dst: list[int] = field(default_factory=list)
    kind: list[int] = field(default_factory=list)
    flags: list[tuple[bool, bool, bool, bool]] = field(default_factory=list)
    nums: list[tuple[float, float, float, float]] = field(default_factory=list)
    refs: list[str] = field(default_factory=list)

    def add(self, s: int, d: int, kind: int, attrs: dict[str, Any], ref: str) -> None:
        self.src.append(s)
        self.dst.append(d)
        self.kind.append(kind)
        self.refs.append(ref)
        flags, nums = edge_features(attrs)
        self.flags.append(flags)
        self.nums.append(nums)

    def table(self) -> EdgeTable:
        flags = np.array(self.flags, np.bool_).reshape(-1, 4)
        nums = np.array(self.nums, np.float64).reshape(-1, 4)
        return EdgeTable.build(self.src, self.dst, kind=self.kind, hard=flags[:, 0],
                               is_async=flags[:, 1], fallback=flags[:, 2], cached=flags[:, 3],
                               calls=nums[:, 0], timeout_ms=nums[:, 1], retries=nums[:, 2],
                               learned=nums[:, 3])


def _node_table(graph: Any) -> tuple[NodeTable, dict[str, int]]:
    refs = sorted(graph.nodes)
    index = {r: i for i, r in enumerate(refs)}
    kinds, entry, rps, monitored, expires, unresolved = [], [], [], [], [], []
    for r in refs:
        node = graph.nodes[r]
        kinds.append(node.kind)
        expires.append(_expiry(node))
        if node.kind in _COMPONENTS:
            a = node.attrs
            entry.append(a.get("entrypoint") is True)
            rps.append(float(a["rps"]) if a.get("rps") is not None else np.nan)
            monitored.append(a.get("monitored", True) is not False)
            unresolved.append(a.get("unresolved") is True)
        else:
            entry.append(False)
            rps.append(np.nan)
            monitored.append(False)
            unresolved.append(False)
    return NodeTable.build(refs, kinds, entry=entry, rps=rps, monitored=monitored,
                           expires=expires, unresolved=unresolved), index


def _expiry(node: Any) -> int:
    """When a configuration value stops being valid: its ``expires_at``, else an expiry
    option inside its value (``notAfter=...``); NO_EXPIRY for anything else."""
    if node.kind != "config":
        return NO_EXPIRY
    a = node.attrs
    at = a.get("expires_at")
    if at is None:
        at = value_expiry(a.get("value"))
    return NO_EXPIRY if at is None else int(at)


def change_table(graph: Any, index: dict[str, int], changed: dict[str, list[str]]
                 ) -> ChangeTable:
    """The change nodes of ``graph`` (``changed``: change reference -> the nodes its
    ``CHANGED`` edges reach) as rows sorted by reference."""
    refs, times, kinds, targets, seed_counts, seeds, meta = [], [], [], [], [], [], []
    for r in sorted(changed.keys() | {n.ref for n in graph.nodes_of("change")}):
        a = graph.nodes[r].attrs
        dsts = changed.get(r, [])
        target = a.get("target") or next((d for d in sorted(dsts) if not d.startswith("config:")),
                                         "")
        configs = [index[d] for d in sorted(dsts) if d.startswith("config:")]
        start = configs or ([index[target]] if target in index else [])
        refs.append(r)
        times.append(int(a.get("time", graph.nodes[r].valid_from)))
        kinds.append(str(a.get("change_kind", "deploy")))
        targets.append(index.get(target, -1))
        seed_counts.append(len(start))
        seeds.extend(start)
        meta.append({"target": target, "keys": list(a.get("keys") or ()),
                     "diff": list(a.get("diff") or ()),
                     "destructive": a.get("destructive") is True,
                     "reversible": a.get("reversible"), "time": times[-1]})
    return ChangeTable(refs, np.array(times, np.int64), kinds, np.array(targets, np.int32),
                       np.concatenate([[0], np.cumsum(seed_counts)]).astype(np.int64),
                       np.array(seeds, np.int32), meta)


def alert_table(graph: Any, index: dict[str, int], about: dict[str, dict[str, str]]
                ) -> AlertTable:
    """The alert nodes of ``graph`` not resolved and about a node in ``index`` (``about``:
    alert reference -> its ``SYMPTOM_OF`` targets and their signals; of several, the
    first target by reference) as rows sorted by reference."""
    refs, targets, signals, times = [], [], [], []
    for node in sorted(graph.nodes_of("alert"), key=lambda n: n.ref):
        a = node.attrs
        if a.get("status") == "resolved":
            continue
        ends = about.get(node.ref)
        target, edge_signal = min(ends.items()) if ends else (a.get("service", ""), "")
        if target not in index:
            continue
        signal = a.get("signal") or edge_signal or "errors"
        refs.append(node.ref)
        targets.append(index[target])
        signals.append(signal if signal in SIGNALS else "errors")
        times.append(int(a.get("starts_at", node.valid_from)))
    return AlertTable(refs, np.array(targets, np.int32), signals, np.array(times, np.int64))


def snapshot_from_graph(graph: Any, window: int | None = None) -> Snapshot:
    """Compile a :class:`~ccm.store.types.Graph` into a :class:`Snapshot`."""
    nodes, index = _node_table(graph)
    edges = _Edges()
    changed: dict[str, list[str]] = {}
    about: dict[str, dict[str, str]] = {}
    for fid, e in graph.edges.items():
        if e.kind == "DEPENDS_ON":
            edges.add(index[e.src], index[e.dst], DEPENDS_ON, e.attrs, fid)
        elif e.kind == "HAS_CONFIG":
            edges.add(index[e.src], index[e.dst], HAS_CONFIG, {}, fid)
        elif e.kind == "CHANGED":
            changed.setdefault(e.src, []).append(e.dst)
        elif e.kind == "SYMPTOM_OF":
            about.setdefault(e.src, {})[e.dst] = e.attrs.get("signal", "")
    return build_snapshot(nodes, edges.table(), changes=change_table(graph, index, changed),
                          alerts=alert_table(graph, index, about), valid_at=graph.valid_at,
                          known_at=graph.known_at, window=window, edge_refs=edges.refs,
                          graph=graph)


def snapshot_of(store: Any, cache: SnapshotCache, valid_at: int, known_at: int | None,
                window: int | None) -> Snapshot:
    """The store's snapshot, from ``cache`` while the store's revision is unchanged."""
    revision = store.revision()
    key = (valid_at, known_at, window)
    snap = cache.get(revision, key)
    if snap is None:
        graph = store.graph(valid_at, known_at)
        snap = snapshot_from_graph(graph, window)
        object.__setattr__(snap, "revision", revision)
        cache.put(revision, key, snap)
        settle(len(graph.nodes) + len(graph.edges))
    return snap
