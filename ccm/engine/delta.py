"""Patching a compiled snapshot with a delta (the facts written since it was read).

Facts are append-only and versioned, so what changed between two revisions of a
store is the set of facts with a version recorded or superseded since
(``store.touched_since``); their versions at the snapshot's time
(``store.versions_at``) are the delta. :func:`patch_snapshot` applies it to a
:class:`~ccm.engine.snapshot.Snapshot` without compiling the graph again:

- alert and change nodes arriving or ending, their ``SYMPTOM_OF`` and ``CHANGED``
  edges, and any edge of another kind outside the propagation graph: the node
  tables, the alert and change rows and the change priors are patched; the
  propagation graph (CSR arrays, topological order, edge probabilities) is kept as
  it is (an alert or change node has no propagation edge: an added one goes last in
  the order, a removed one is dropped and the indices after it shift down);
- a ``DEPENDS_ON`` edge whose attributes move (traffic, timeout, flags) between two
  versions: its row of the edge table is rewritten and the edge probabilities are
  computed again on next use; the topology is kept.

Anything else (a component, configuration value or propagation edge arriving or
ending, a node's attributes moving) returns None: the caller builds the snapshot
again. The result is the snapshot a fresh build at that time would give, up to the
order of node indices (answers name nodes by reference).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import compress
from typing import Any

import numpy as np

from ccm.engine.collect import alert_table, change_table, edge_features
from ccm.engine.model import EdgeTable
from ccm.engine.snapshot import (
    KIND_CODE,
    NO_EXPIRY,
    AlertTable,
    ChangeTable,
    NodeTable,
    Snapshot,
    change_priors,
)

__all__ = ["LiveIndex", "patch_snapshot"]

#: node kinds that have no propagation edge: patched in place
SIDE_NODE_KINDS = frozenset({"alert", "change"})
PROPAGATION_KINDS = frozenset({"DEPENDS_ON", "HAS_CONFIG"})


@dataclass(frozen=True, eq=False)
class LiveIndex:
    """What patching needs beside a snapshot: per change, the nodes its ``CHANGED``
    edges reach; per alert, its ``SYMPTOM_OF`` targets and their signals; per
    propagation edge fact id, its row in the edge table."""

    changed: dict[str, list[str]]
    about: dict[str, dict[str, str]]
    edge_row: dict[str, int]

    @classmethod
    def of(cls, snap: Snapshot) -> LiveIndex:
        """The index of a snapshot built from a graph (one pass over its edges)."""
        changed: dict[str, list[str]] = {}
        about: dict[str, dict[str, str]] = {}
        for e in snap.graph.edges.values() if snap.graph is not None else ():
            if e.kind == "CHANGED":
                changed.setdefault(e.src, []).append(e.dst)
            elif e.kind == "SYMPTOM_OF":
                about.setdefault(e.src, {})[e.dst] = e.attrs.get("signal", "")
        return cls(changed, about, {r: i for i, r in enumerate(snap.edge_refs or ())})


@dataclass
class _Delta:
    """The delta sorted by what it touches."""

    nodes: dict[str, Any]
    edges: dict[str, Any]
    added: list[str]
    removed: list[str]
    changes: set[str]
    alerts: set[str]
    edge_attrs: dict[int, dict[str, Any]]
    changed: dict[str, list[str]]
    about: dict[str, dict[str, str]]


def _sort_delta(snap: Snapshot, live: LiveIndex, touched: Iterable[str],
                versions: Mapping[str, Any]) -> _Delta | None:
    graph = snap.graph
    assert graph is not None
    d = _Delta(dict(graph.nodes), dict(graph.edges), [], [], set(), set(), {},
               dict(live.changed), dict(live.about))
    touched = sorted(touched)
    for fid in (f for f in touched if "|" not in f):
        old, new = d.nodes.get(fid), versions.get(fid)
        if (old is None and new is None) or (old is not None and new is not None
                                             and old.hash == new.hash):
            continue
        kind = fid.split(":", 1)[0]
        if kind not in SIDE_NODE_KINDS:
            return None
        if new is None:
            del d.nodes[fid]
            d.removed.append(fid)
            _drop_side_edges(d, fid)
        else:
            if old is None:
                d.added.append(fid)
            d.nodes[fid] = new
        (d.changes if kind == "change" else d.alerts).add(fid)
    for fid in (f for f in touched if "|" in f):
        if _edge(d, live, fid, versions.get(fid)) is False:
            return None
    return d


def _drop_side_edges(d: _Delta, ref: str) -> None:
    """A removed alert or change node's ``SYMPTOM_OF`` / ``CHANGED`` edges end with it."""
    for dst in d.changed.pop(ref, ()):
        d.edges.pop(f"{ref}|CHANGED|{dst}", None)
    for dst in d.about.pop(ref, {}):
        d.edges.pop(f"{ref}|SYMPTOM_OF|{dst}", None)


def _edge(d: _Delta, live: LiveIndex, fid: str, new: Any) -> bool:
    """Apply one touched edge to ``d``; False when it cannot be patched."""
    if new is not None and (new.src not in d.nodes or new.dst not in d.nodes):
        new = None  # an edge shows only while both its ends do
    old = d.edges.get(fid)
    if (old is None and new is None) or (old is not None and new is not None
                                         and old.hash == new.hash):
        return True
    src, kind, dst = fid.split("|", 2)
    if kind in PROPAGATION_KINDS:
        row = live.edge_row.get(fid)
        if kind != "DEPENDS_ON" or old is None or new is None or row is None:
            return False
        d.edge_attrs[row] = new.attrs
    elif kind == "CHANGED":
        dsts = [x for x in d.changed.get(src, ()) if x != dst] + ([dst] if new else [])
        if dsts:
            d.changed[src] = dsts
        else:
            d.changed.pop(src, None)
        d.changes.add(src)
    elif kind == "SYMPTOM_OF":
        targets = {k: v for k, v in d.about.get(src, {}).items() if k != dst}
        if new is not None:
            targets[dst] = new.attrs.get("signal", "")
        if targets:
            d.about[src] = targets
        else:
            d.about.pop(src, None)
        d.alerts.add(src)
    if new is None:
        del d.edges[fid]
    else:
        d.edges[fid] = new
    return True


@dataclass
class _Nodes:
    """The node-indexed columns after alert and change nodes came and went."""

    nodes: NodeTable
    index: dict[str, int]
    new_index: np.ndarray | None  # old index -> new (-1: removed); None: unchanged
    component: np.ndarray
    traffic: np.ndarray
    comp: np.ndarray
    cyclic: np.ndarray
    out_ptr: np.ndarray
    in_ptr: np.ndarray


def _renumber_nodes(snap: Snapshot, added: list[str], removed: list[str]) -> _Nodes | None:
    n, k = snap.n, len(added)
    nodes = snap.nodes
    keep = np.ones(n, np.bool_)
    gone = np.array([snap.index[r] for r in removed], np.int64)
    keep[gone] = False
    if len(gone) and (np.any(snap.out_ptr[gone + 1] != snap.out_ptr[gone])
                      or np.any(snap.in_ptr[gone + 1] != snap.in_ptr[gone])):
        return None
    kept = np.flatnonzero(keep) if len(gone) else np.arange(n)
    new_index = None
    if len(gone):
        new_index = np.cumsum(keep, dtype=np.int64) - 1
        new_index[~keep] = -1
        refs = list(compress(nodes.refs, keep.tolist()))
    else:
        refs = list(nodes.refs)
    refs += added

    def grow(col: np.ndarray, fill: Any) -> np.ndarray:
        return np.concatenate([col[kept] if len(gone) else col,
                               np.full(k, fill, col.dtype)])

    unresolved = nodes.unresolved if len(nodes.unresolved) == n else np.zeros(n, np.bool_)
    # only alerts and changes are added here (components rebuild): never unresolved
    table = NodeTable(refs, grow(nodes.kind, 0), grow(nodes.entry, False),
                      grow(nodes.rps, np.nan), grow(nodes.monitored, False),
                      grow(nodes.expires, NO_EXPIRY), grow(unresolved, False))
    table.kind[len(kept):] = [KIND_CODE[r.split(":", 1)[0]] for r in added]
    comp = grow(snap.comp, 0)
    comp[len(kept):] = (int(snap.comp.max()) + 1 if n else 0) + np.arange(k)
    if len(gone):
        index = dict(zip(refs, range(len(refs)), strict=True))
    else:
        index = dict(snap.index)
        index.update((r, n + i) for i, r in enumerate(added))

    def ptr(p: np.ndarray) -> np.ndarray:
        return np.concatenate([p[kept], np.full(k + 1, p[n], p.dtype)])

    return _Nodes(table, index, new_index, grow(snap.component, False),
                  grow(snap.traffic, 0.0), comp, grow(snap.cyclic, False), ptr(snap.out_ptr),
                  ptr(snap.in_ptr))


def _by_ref(refs: list[str]) -> np.ndarray:
    return np.array(sorted(range(len(refs)), key=refs.__getitem__), np.int64)


def _patch_changes(snap: Snapshot, d: _Delta, nn: _Nodes, graph: Any, valid_at: int
                   ) -> tuple[ChangeTable, np.ndarray]:
    old = snap.changes
    stay = np.array([r not in d.changes for r in old.refs], np.bool_)
    rows = np.flatnonzero(stay)
    kept = old.take(rows)
    if nn.new_index is not None:
        kept = kept.renumbered(nn.new_index)
    side = type(graph)(valid_at, graph.known_at, {r: d.nodes[r] for r in d.changes if r in d.nodes})
    new = change_table(side, nn.index,
                       {r: d.changed[r] for r in d.changes if r in d.changed and r in d.nodes})
    early = valid_at - snap.window if snap.window is not None else np.iinfo(np.int64).min
    new = new.select((new.time <= valid_at) & (new.time >= early))
    both = kept + new
    order = _by_ref(both.refs)
    q = np.concatenate([snap.change_q[rows], change_priors(new)])
    return both.take(order), q[order]


def _patch_alerts(snap: Snapshot, d: _Delta, nn: _Nodes, graph: Any, valid_at: int
                  ) -> AlertTable:
    old = snap.alerts
    kept = old.take(np.flatnonzero([r not in d.alerts for r in old.refs]))
    if nn.new_index is not None:
        kept = kept.renumbered(nn.new_index)
    side = type(graph)(valid_at, graph.known_at, {r: d.nodes[r] for r in d.alerts if r in d.nodes})
    new = alert_table(side, nn.index,
                      {r: d.about[r] for r in d.alerts if r in d.about and r in d.nodes})
    both = kept + new
    return both.take(_by_ref(both.refs))


def _patch_edges(snap: Snapshot, d: _Delta, nn: _Nodes) -> tuple[EdgeTable, np.ndarray,
                                                                  np.ndarray]:
    e = snap.edges
    cols = {name: getattr(e, name) for name in EdgeTable.__dataclass_fields__}
    out_idx, in_idx = snap.out_idx, snap.in_idx
    if nn.new_index is not None:
        m = nn.new_index
        cols["src"], cols["dst"] = m[e.src].astype(np.int32), m[e.dst].astype(np.int32)
        out_idx, in_idx = m[out_idx].astype(np.int32), m[in_idx].astype(np.int32)
    if d.edge_attrs:
        names = (("hard", "is_async", "fallback", "cached"),
                 ("calls", "timeout_ms", "retries", "learned"))
        for name in names[0] + names[1]:
            cols[name] = cols[name].copy()
        for row, attrs in d.edge_attrs.items():
            for group, values in zip(names, edge_features(attrs), strict=True):
                for name, value in zip(group, values, strict=True):
                    cols[name][row] = value
    return EdgeTable(**cols), out_idx, in_idx


def patch_snapshot(snap: Snapshot, live: LiveIndex, touched: Iterable[str],
                   versions: Mapping[str, Any], valid_at: int, revision: int | None = None
                   ) -> tuple[Snapshot, LiveIndex] | None:
    """``snap`` with the delta applied at ``valid_at``, and the new index; None when the
    delta touches what is not patched (see the module doc: build again).

    ``touched``: the fact ids written since ``snap`` was read; ``versions``: the version
    of each one true at ``valid_at`` as known now (absent: none is).
    """
    if snap.graph is None or snap.edge_refs is None:
        return None
    d = _sort_delta(snap, live, touched, versions)
    if d is None:
        return None
    nn = _renumber_nodes(snap, d.added, d.removed)
    if nn is None:
        return None
    # the store's graph type (the engine takes it as given: nodes, edges by fact id)
    graph = type(snap.graph)(valid_at, snap.graph.known_at, d.nodes, d.edges)
    changes, change_q = _patch_changes(snap, d, nn, graph, valid_at)
    alerts = _patch_alerts(snap, d, nn, graph, valid_at)
    edges, out_idx, in_idx = _patch_edges(snap, d, nn)
    n = len(nn.nodes.refs)
    order = np.arange(n, dtype=np.int32)
    patched = Snapshot(
        valid_at, snap.known_at, snap.window, nn.nodes, edges, snap.edge_refs, changes,
        alerts, nn.index, nn.component, nn.traffic, nn.out_ptr, out_idx, snap.out_eid,
        nn.in_ptr, in_idx, snap.in_eid, nn.comp, nn.cyclic, order, order, graph,
        np.array([nn.index.get(r, -1) for r in changes.refs], np.int32), change_q,
        revision)
    if not d.edge_attrs:
        # edge probabilities are per edge, and edges keep their rows: reuse them
        snap.share_models(patched)
    return patched, LiveIndex(d.changed, d.about, live.edge_row)
