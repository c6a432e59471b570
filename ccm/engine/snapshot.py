"""The graph at a time, compiled into contiguous arrays for the kernels.

A :class:`Snapshot` holds the propagation graph (``DEPENDS_ON`` and
``HAS_CONFIG`` edges, ``src`` needs ``dst``) in CSR form both ways, a
topological order of its strongly connected components, node kinds, entrypoint
traffic, the monitored flag, the changes in the window and the alerts firing.
Build one with ``store.snapshot(valid_at, known_at, window)`` (cached while the
store's revision and the arguments do not change) or :func:`build_snapshot`
from arrays.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from ccm.engine.kernels import _topo_rank
from ccm.engine.model import EdgeTable, change_prior, edge_probabilities
from ccm.engine.params import DEFAULT_PARAMS, Params
from ccm.engine.priors import NO_PRIORS, Priors
from ccm.errors import NotFound
from graph_schema import COMPONENT_KINDS, NODE_KINDS
from graph_schema.timeutil import KNOWN_NOW

#: node kind codes used in :attr:`NodeTable.kind`
KINDS: tuple[str, ...] = tuple(k.name for k in NODE_KINDS)
KIND_CODE = {k: i for i, k in enumerate(KINDS)}
_COMPONENT_CODES = np.array([KIND_CODE[k] for k in COMPONENT_KINDS], np.int8)
#: :attr:`NodeTable.expires` of a node without an expiry
NO_EXPIRY = np.iinfo(np.int64).max


@dataclass(frozen=True, eq=False)
class NodeTable:
    """Per-node columns: reference, kind code, entrypoint flag, rps (NaN if unknown),
    monitored flag (alerts exist for it), for configuration values that carry one,
    the time they expire (:data:`NO_EXPIRY` otherwise), and the unresolved flag (a
    placeholder for components a source named but nothing resolved: never a root
    cause)."""

    refs: list[str]
    kind: np.ndarray
    entry: np.ndarray
    rps: np.ndarray
    monitored: np.ndarray
    expires: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    unresolved: np.ndarray = field(default_factory=lambda: np.zeros(0, np.bool_))

    @classmethod
    def build(cls, refs: list[str], kinds: list[str] | np.ndarray, *, entry: Any = None,
              rps: Any = None, monitored: Any = None, expires: Any = None,
              unresolved: Any = None) -> NodeTable:
        n = len(refs)
        if isinstance(kinds, np.ndarray) and kinds.dtype == np.int8:
            kind = kinds
        else:
            kind = np.array([KIND_CODE[k] for k in kinds], np.int8)
        return cls(list(refs), kind,
                   np.zeros(n, np.bool_) if entry is None else np.asarray(entry, np.bool_),
                   np.full(n, np.nan) if rps is None else np.asarray(rps, np.float64),
                   np.ones(n, np.bool_) if monitored is None
                   else np.asarray(monitored, np.bool_),
                   np.full(n, NO_EXPIRY, np.int64) if expires is None
                   else np.asarray(expires, np.int64),
                   np.zeros(n, np.bool_) if unresolved is None
                   else np.asarray(unresolved, np.bool_))


@dataclass(frozen=True, eq=False)
class ChangeTable:
    """The changes in the window: the change's node reference, time, kind, target node
    (-1 if absent), the nodes it makes fail first (``seed_ptr``/``seed_idx``: the config
    keys it changed, else its target) and its structured content (``meta``)."""

    refs: list[str]
    time: np.ndarray
    kinds: list[str]
    target: np.ndarray
    seed_ptr: np.ndarray
    seed_idx: np.ndarray
    meta: list[dict[str, Any]]

    @classmethod
    def empty(cls) -> ChangeTable:
        return cls([], np.zeros(0, np.int64), [], np.zeros(0, np.int32),
                   np.zeros(1, np.int64), np.zeros(0, np.int32), [])

    def __len__(self) -> int:
        return len(self.refs)

    def seeds(self, i: int) -> np.ndarray:
        return self.seed_idx[self.seed_ptr[i]:self.seed_ptr[i + 1]]

    def select(self, keep: np.ndarray) -> ChangeTable:
        return self.take(np.flatnonzero(keep))

    def take(self, idx: np.ndarray) -> ChangeTable:
        """The rows ``idx``, in that order."""
        idx = np.asarray(idx, np.int64)
        starts = self.seed_ptr[idx]
        counts = self.seed_ptr[idx + 1] - starts
        ptr = np.zeros(len(idx) + 1, np.int64)
        np.cumsum(counts, out=ptr[1:])
        at = np.repeat(starts - ptr[:-1], counts) + np.arange(ptr[-1], dtype=np.int64)
        rows = idx.tolist()
        return ChangeTable([self.refs[i] for i in rows], self.time[idx],
                           [self.kinds[i] for i in rows], self.target[idx], ptr,
                           self.seed_idx[at].astype(np.int32), [self.meta[i] for i in rows])

    def renumbered(self, new_index: np.ndarray) -> ChangeTable:
        """The same rows with node indices mapped through ``new_index``."""
        target = np.where(self.target >= 0, new_index[np.maximum(self.target, 0)], -1)
        return ChangeTable(self.refs, self.time, self.kinds, target.astype(np.int32),
                           self.seed_ptr, new_index[self.seed_idx].astype(np.int32), self.meta)

    def __add__(self, other: ChangeTable) -> ChangeTable:
        return ChangeTable(self.refs + other.refs, np.concatenate([self.time, other.time]),
                           self.kinds + other.kinds,
                           np.concatenate([self.target, other.target]).astype(np.int32),
                           np.concatenate([self.seed_ptr[:-1],
                                           other.seed_ptr + self.seed_ptr[-1]]),
                           np.concatenate([self.seed_idx, other.seed_idx]).astype(np.int32),
                           self.meta + other.meta)


@dataclass(frozen=True, eq=False)
class AlertTable:
    """The alerts firing at the snapshot's time: alert reference, node it is about,
    signal, onset."""

    refs: list[str]
    target: np.ndarray
    signal: list[str]
    time: np.ndarray

    @classmethod
    def empty(cls) -> AlertTable:
        return cls([], np.zeros(0, np.int32), [], np.zeros(0, np.int64))

    def __len__(self) -> int:
        return len(self.refs)

    def take(self, idx: np.ndarray) -> AlertTable:
        """The rows ``idx``, in that order."""
        idx = np.asarray(idx, np.int64)
        rows = idx.tolist()
        return AlertTable([self.refs[i] for i in rows], self.target[idx],
                          [self.signal[i] for i in rows], self.time[idx])

    def renumbered(self, new_index: np.ndarray) -> AlertTable:
        """The same rows with node indices mapped through ``new_index``."""
        return AlertTable(self.refs, new_index[self.target].astype(np.int32), self.signal,
                          self.time)

    def __add__(self, other: AlertTable) -> AlertTable:
        return AlertTable(self.refs + other.refs,
                          np.concatenate([self.target, other.target]).astype(np.int32),
                          self.signal + other.signal, np.concatenate([self.time, other.time]))


def change_priors(changes: ChangeTable, params: Params = DEFAULT_PARAMS,
                  priors: Priors = NO_PRIORS) -> np.ndarray:
    """q(c) of every change of ``changes``."""
    return np.array([change_prior(k, m.get("target", ""), keys=m.get("keys", ()),
                                  diff=m.get("diff", ()),
                                  destructive=bool(m.get("destructive")),
                                  reversible=m.get("reversible"), params=params,
                                  priors=priors)
                     for k, m in zip(changes.kinds, changes.meta, strict=True)],
                    dtype=np.float64)


@dataclass(frozen=True, eq=False)
class PropagationModel:
    """Edge probabilities for one :class:`Params`, edge-aligned and CSR-aligned."""

    p: np.ndarray
    share: np.ndarray
    in_share: np.ndarray
    p_td: np.ndarray
    in_p: np.ndarray       # p along the ``in`` CSR (dependants of a node)
    out_p: np.ndarray      # p along the ``out`` CSR (dependencies of a node)
    out_ptd: np.ndarray    # p_td along the ``out`` CSR
    in_ptd: np.ndarray     # p_td along the ``in`` CSR


@dataclass(frozen=True, eq=False)
class Snapshot:
    """The graph at ``valid_at`` as known at ``known_at``, as arrays (see module doc)."""

    valid_at: int
    known_at: int
    window: int | None
    nodes: NodeTable
    edges: EdgeTable
    edge_refs: list[str] | None
    changes: ChangeTable
    alerts: AlertTable
    index: dict[str, int]
    component: np.ndarray
    traffic: np.ndarray
    out_ptr: np.ndarray
    out_idx: np.ndarray
    out_eid: np.ndarray
    in_ptr: np.ndarray
    in_idx: np.ndarray
    in_eid: np.ndarray
    comp: np.ndarray
    cyclic: np.ndarray
    order: np.ndarray
    pos: np.ndarray
    graph: Any = None
    #: per change in the window: index of its ``change:`` node (-1 if not in the graph)
    change_node: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    #: per change in the window: prior q(c) under the default parameters, no memory
    change_q: np.ndarray = field(default_factory=lambda: np.zeros(0))
    #: the store's revision when the snapshot was read (None: not read from a store); it
    #: holds every write up to that revision (and perhaps some later ones)
    revision: int | None = None
    _models: dict[Params, PropagationModel] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def n(self) -> int:
        return len(self.nodes.refs)

    @property
    def refs(self) -> list[str]:
        return self.nodes.refs

    def node(self, ref: str) -> int:
        """The index of node ``ref``; NotFound names the time when it is absent."""
        try:
            return self.index[ref]
        except KeyError:
            from graph_schema import format_time
            raise NotFound(f"no node {ref!r} in the graph at {format_time(self.valid_at)}"
                           ) from None

    def model(self, params: Params = DEFAULT_PARAMS) -> PropagationModel:
        """Edge probabilities under ``params`` (computed once per params)."""
        with self._lock:
            m = self._models.get(params)
            if m is None:
                p, share, in_share, p_td = edge_probabilities(self.edges, self.n, params)
                m = PropagationModel(p, share, in_share, p_td, p[self.in_eid],
                                     p[self.out_eid], p_td[self.out_eid], p_td[self.in_eid])
                self._models[params] = m
            return m

    def share_models(self, other: Snapshot) -> None:
        """Give ``other`` (the same edges in the same rows) the edge probabilities
        computed so far."""
        with self._lock:
            models = dict(self._models)
        with other._lock:
            other._models.update(models)

    @property
    def suspects(self) -> np.ndarray:
        """Components that may fail on their own: every component but the unresolved
        placeholders (they stand for unknown components and are never blamed)."""
        return self.component & ~self.nodes.unresolved

    @property
    def p(self) -> np.ndarray:
        """Per-edge propagation probability under the default parameters."""
        return self.model().p

    def change_priors(self, params: Params = DEFAULT_PARAMS,
                      priors: Priors = NO_PRIORS) -> np.ndarray:
        """q(c) of every change in the window."""
        return change_priors(self.changes, params, priors)


def _csr(key: np.ndarray, other: np.ndarray, n: int
         ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    eid = np.lexsort((other, key)).astype(np.int64)
    ptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(key, minlength=n), out=ptr[1:])
    return ptr, np.ascontiguousarray(other[eid]), eid


def topological_order(n: int, src: np.ndarray, dst: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(comp, cyclic, order, pos)``: strongly connected components (scipy), whether a
    node sits on a cycle, and an order in which every node comes after the nodes it
    depends on, except within its component (whose members are contiguous)."""
    if n == 0:
        z = np.zeros(0, np.int32)
        return z, np.zeros(0, np.bool_), z, z
    graph = csr_matrix((np.ones(len(src), np.int8), (src, dst)), shape=(n, n))
    n_comp, comp = connected_components(graph, directed=True, connection="strong")
    comp = comp.astype(np.int32)
    cyclic = np.bincount(comp, minlength=n_comp)[comp] > 1
    cs, cd = comp[src].astype(np.int64), comp[dst].astype(np.int64)
    keep = cs != cd
    pairs = np.unique(cs[keep] * n_comp + cd[keep])
    dependant, dependency = pairs // n_comp, pairs % n_comp
    dep_ptr, dep_idx, _ = _csr(dependency, dependant, n_comp)
    n_deps = np.bincount(dependant, minlength=n_comp).astype(np.int64)
    rank = _topo_rank(n_comp, dep_ptr, dep_idx.astype(np.int64), n_deps)
    order = np.argsort(rank[comp], kind="stable").astype(np.int32)
    pos = np.empty(n, np.int32)
    pos[order] = np.arange(n, dtype=np.int32)
    return comp, cyclic, order, pos


def _traffic(nodes: NodeTable, component: np.ndarray, has_callers: np.ndarray) -> np.ndarray:
    """Entrypoint traffic weights: ``rps`` of entrypoints (unknown rps: the mean known
    one, or 1). Without any entrypoint, components nobody depends on are the front
    doors, weighted 1 each."""
    entry = nodes.entry & component
    if not entry.any():
        entry = component & ~has_callers
    rps = np.where(entry, nodes.rps, np.nan)
    known = entry & ~np.isnan(rps)
    fill = float(rps[known].mean()) if known.any() else 1.0
    return np.where(entry, np.where(np.isnan(rps), fill, rps), 0.0)


def _clean_edges(edges: EdgeTable) -> tuple[EdgeTable, np.ndarray]:
    """Drop self-loops (a node cannot fail itself again) and repeated (src, dst) pairs
    (the first one is kept); return the kept positions."""
    key = edges.src.astype(np.int64) * (1 << 32) + edges.dst.astype(np.int64)
    _, first = np.unique(key, return_index=True)
    keep = np.zeros(len(edges), np.bool_)
    keep[first] = True
    keep &= edges.src != edges.dst
    idx = np.flatnonzero(keep)
    cols = {name: getattr(edges, name)[idx] for name in EdgeTable.__dataclass_fields__}
    return EdgeTable(**cols), idx


def _renumber(nodes: NodeTable, edges: EdgeTable, changes: ChangeTable,
              alerts: AlertTable, order: np.ndarray, pos: np.ndarray
              ) -> tuple[NodeTable, EdgeTable, ChangeTable, AlertTable]:
    """Everything re-indexed so that node i is the i-th in topological order: the
    kernels' passes then walk memory forward instead of jumping around."""
    expires = nodes.expires if len(nodes.expires) == len(nodes.refs) else np.full(
        len(nodes.refs), NO_EXPIRY, np.int64)
    unresolved = nodes.unresolved if len(nodes.unresolved) == len(nodes.refs) else np.zeros(
        len(nodes.refs), np.bool_)
    nodes = NodeTable([nodes.refs[i] for i in order], nodes.kind[order], nodes.entry[order],
                      nodes.rps[order], nodes.monitored[order], expires[order],
                      unresolved[order])
    cols = {name: getattr(edges, name) for name in EdgeTable.__dataclass_fields__}
    cols["src"], cols["dst"] = pos[edges.src], pos[edges.dst]
    target = np.where(changes.target >= 0, pos[np.maximum(changes.target, 0)], -1)
    changes = ChangeTable(changes.refs, changes.time, changes.kinds, target.astype(np.int32),
                          changes.seed_ptr, pos[changes.seed_idx].astype(np.int32),
                          changes.meta)
    alerts = AlertTable(alerts.refs, pos[alerts.target].astype(np.int32), alerts.signal,
                        alerts.time)
    return nodes, EdgeTable(**cols), changes, alerts


def build_snapshot(nodes: NodeTable, edges: EdgeTable, *, changes: ChangeTable | None = None,
                   alerts: AlertTable | None = None, valid_at: int = 0,
                   known_at: int = KNOWN_NOW, window: int | None = None,
                   edge_refs: list[str] | None = None, graph: Any = None) -> Snapshot:
    """A snapshot from columns (vectorised; no per-edge Python). Nodes are renumbered in
    topological order: use :attr:`Snapshot.index` / :attr:`Snapshot.refs`, not the
    positions of the input columns."""
    n = len(nodes.refs)
    if len(edges) and (min(edges.src.min(), edges.dst.min()) < 0
                       or max(edges.src.max(), edges.dst.max()) >= n):
        raise ValueError(f"edge endpoints must be node indices in [0, {n})")
    edges, kept = _clean_edges(edges)
    if edge_refs is not None:
        edge_refs = [edge_refs[i] for i in kept]
    changes = changes if changes is not None else ChangeTable.empty()
    if len(changes):
        early = valid_at - window if window is not None else np.iinfo(np.int64).min
        changes = changes.select((changes.time <= valid_at) & (changes.time >= early))
    comp, cyclic, order, pos = topological_order(n, edges.src, edges.dst)
    nodes, edges, changes, alerts = _renumber(
        nodes, edges, changes, alerts if alerts is not None else AlertTable.empty(), order, pos)
    comp, cyclic = comp[order], cyclic[order]
    order = pos = np.arange(n, dtype=np.int32)
    out_ptr, out_idx, out_eid = _csr(edges.src, edges.dst, n)
    in_ptr, in_idx, in_eid = _csr(edges.dst, edges.src, n)
    component = np.isin(nodes.kind, _COMPONENT_CODES)
    has_callers = np.bincount(edges.dst[edges.kind == 0], minlength=n) > 0
    index = {r: i for i, r in enumerate(nodes.refs)}
    snap = Snapshot(valid_at, known_at, window, nodes, edges, edge_refs, changes, alerts, index,
                    component, _traffic(nodes, component, has_callers), out_ptr,
                    out_idx.astype(np.int32), out_eid, in_ptr, in_idx.astype(np.int32),
                    in_eid, comp, cyclic, order, pos, graph,
                    np.array([index.get(r, -1) for r in changes.refs], np.int32))
    object.__setattr__(snap, "change_q", snap.change_priors())
    return snap


class SnapshotCache:
    """Recent snapshots of one store, dropped when its revision moves."""

    def __init__(self, size: int = 8) -> None:
        self.size = size
        self._items: OrderedDict[tuple[Any, ...], Snapshot] = OrderedDict()
        self._revision: int | None = None
        self._lock = threading.Lock()

    def get(self, revision: int, key: tuple[Any, ...]) -> Snapshot | None:
        with self._lock:
            if revision != self._revision:
                self._items.clear()
                self._revision = revision
                return None
            snap = self._items.get(key)
            if snap is not None:
                self._items.move_to_end(key)
            return snap

    def put(self, revision: int, key: tuple[Any, ...], snap: Snapshot) -> None:
        with self._lock:
            if revision != self._revision:
                self._items.clear()
                self._revision = revision
            self._items[key] = snap
            while len(self._items) > self.size:
                self._items.popitem(last=False)

