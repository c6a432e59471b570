"""The Store protocol and the write path both backends share.

A backend implements a handful of primitives inside one transaction
(:class:`Txn`); :class:`VersionedStore` does validation, endpoint checks and
the versioning algebra (:mod:`ccm.store.timeline`) once, for every backend.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from json.encoder import c_make_encoder, encode_basestring  # type: ignore[attr-defined]
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from ccm.errors import BatchRejected, Conflict, NotFound
from ccm.store.timeline import Piece, assert_content, close_at, reconcile
from ccm.store.types import (
    EdgeVersion,
    Graph,
    GraphDiff,
    History,
    NodeVersion,
    WriteResult,
    diff_graphs,
)
from graph_schema import Close, EdgeFact, FactError, NodeFact, validate
from graph_schema.timeutil import KNOWN_NOW, OPEN, now_micros

if TYPE_CHECKING:
    from ccm.engine.snapshot import Snapshot

Clock = Callable[[], int]


@dataclass(frozen=True, slots=True)
class Record:
    """A control-plane document (an action, a grant, a switch) with its revision."""

    key: str
    doc: dict[str, Any]
    rev: int
    updated_at: int


@runtime_checkable
class Store(Protocol):
    """What every CCM store offers. See :class:`VersionedStore` for the semantics."""

    uri: str

    def write(self, facts: Iterable[Any], *, recorded_at: int | None = None,
              validated: bool = False, parts: Sequence[int] | None = None) -> WriteResult: ...
    def graph(self, valid_at: int | None = None, known_at: int | None = None) -> Graph: ...
    def snapshot(self, valid_at: int | None = None, known_at: int | None = None,
                 window: int | None = None) -> Snapshot: ...
    def history(self, ref: str, known_at: int | None = None) -> History: ...
    def diff(self, t1: int, t2: int, known_at: int | None = None) -> GraphDiff: ...
    def open_fact_ids(self, source: str, valid_at: int) -> set[str]: ...
    def open_fact_ids_by_source(self, times: Mapping[str, int]) -> dict[str, set[str]]: ...
    def versions_at(self, fact_ids: Iterable[str], valid_at: int
                    ) -> dict[str, NodeVersion | EdgeVersion]: ...
    def versions_at_times(self, items: Iterable[tuple[str, int]]
                          ) -> dict[tuple[str, int], NodeVersion | EdgeVersion]: ...
    def find_refs(self, names: Iterable[str]) -> dict[str, list[str]]: ...
    def refs(self, kind: str | None = None) -> list[str]: ...
    def revision(self) -> int: ...
    def stats(self) -> dict[str, int]: ...
    def put_record(self, collection: str, key: str, doc: dict[str, Any], *,
                   expected_rev: int | None = None) -> int: ...
    def get_record(self, collection: str, key: str) -> Record | None: ...
    def list_records(self, collection: str) -> list[Record]: ...
    def append_log(self, stream: str,
                   build: Callable[[dict[str, Any] | None, int], dict[str, Any]]
                   ) -> tuple[int, dict[str, Any]]: ...
    def read_log(self, stream: str, after: int = 0,
                 limit: int | None = None) -> list[tuple[int, dict[str, Any]]]: ...
    def ping(self) -> None: ...
    def close(self) -> None: ...


class Txn(Protocol):
    """The primitives a backend provides inside one write transaction."""

    def last_recorded_at(self) -> int: ...
    def known_entities(self, refs: Sequence[str]) -> set[str]: ...
    def live_rows(self, node_refs: Sequence[str],
                  edge_ids: Sequence[str]) -> dict[str, list[Piece]]: ...
    def incident_edge_ids(self, refs: Sequence[str]) -> set[str]: ...
    def apply(self, entities: list[tuple[str, str, str]],
              node_rows: list[tuple[str, Piece]],
              edge_rows: list[tuple[str, str, str, Piece]],
              superseded_nodes: list[int], superseded_edges: list[tuple[str, int]],
              recorded_at: int) -> None: ...


def _not_json(o: Any) -> Any:
    raise TypeError(f"not JSON serializable: {o!r}")


_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                              check_circular=False)  # attrs are validated: no cycles
# the same encoding, built once (json.dumps builds an encoder per call: half the cost)
_C_CANONICAL = c_make_encoder(None, _not_json, encode_basestring, None, ":", ",", True, False,
                              True) if c_make_encoder is not None else None
_EMPTY_ATTRS = ("{}", hashlib.blake2b(b"{}", digest_size=8).hexdigest())


def canonical_attrs(attrs: Any) -> tuple[str, str]:
    """The canonical JSON of attributes and its content hash."""
    if not attrs:
        return _EMPTY_ATTRS
    text = "".join(_C_CANONICAL(attrs, 0)) if _C_CANONICAL is not None \
        else _CANONICAL.encode(attrs)
    return text, hashlib.blake2b(text.encode("utf-8"), digest_size=8).hexdigest()


def split_edge_id(fact_id: str) -> tuple[str, str, str]:
    src, kind, dst = fact_id.split("|", 2)
    return src, kind, dst


class VersionedStore:
    """Shared behaviour of the stores: the write path, graph filtering, diff.

    Backends implement ``_transaction()`` returning a context manager that
    yields a :class:`Txn`, and the read primitives ``_graph_rows``,
    ``_history_rows``.
    """

    uri: str = ""

    def __init__(self, clock: Clock | None = None) -> None:
        self._clock: Clock = clock or now_micros
        self._snapshots: Any = None

    # -- backend hooks -------------------------------------------------------------
    def _transaction(self) -> AbstractContextManager[Txn]:
        raise NotImplementedError

    def _graph_rows(self, valid_at: int, known_at: int
                    ) -> tuple[list[NodeVersion], list[EdgeVersion]]:
        raise NotImplementedError

    def _history_rows(self, ref: str, known_at: int
                      ) -> tuple[list[NodeVersion], list[EdgeVersion]] | None:
        raise NotImplementedError

    def _live_versions(self, fact_ids: Sequence[str]
                       ) -> dict[str, list[NodeVersion | EdgeVersion]]:
        """Every live (not superseded) version of each fact, by fact id."""
        raise NotImplementedError

    # -- writes ----------------------------------------------------------------------
    def write(self, facts: Iterable[Any], *, recorded_at: int | None = None,
              validated: bool = False, parts: Sequence[int] | None = None) -> WriteResult:
        """Write one batch of facts atomically: all of it, or (on any error) none of it.

        Facts are validated against the schema (``validated=True`` says the caller
        passes facts returned by :func:`graph_schema.validate`, as the ingest
        pipeline does, and skips that step); an edge must end at nodes that exist
        (in the store or in this batch). A bad fact raises
        :class:`~ccm.errors.BatchRejected` naming it, its field and its value.
        ``parts`` (sizes of consecutive runs of ``facts``, summing to their number)
        asks for the counts of each run too, in ``result.parts``: several batches
        written as one transaction.
        """
        batch = list(facts)
        checked: list[NodeFact | EdgeFact | Close]
        if validated:
            checked = batch
        else:
            checked = []
            for i, fact in enumerate(batch):
                try:
                    checked.append(validate(fact, i))
                except FactError as exc:
                    raise BatchRejected(exc, i, len(batch)) from None
        sizes = list(parts) if parts is not None else [len(checked)]
        if sum(sizes) != len(checked) or any(n < 0 for n in sizes):
            raise ValueError(f"parts {sizes} do not add up to the {len(checked)} facts")
        if not checked:
            return WriteResult(recorded_at=recorded_at,
                               parts=[WriteResult() for _ in sizes] if parts is not None else [])
        with self._transaction() as tx:
            now = self._recorded_at(tx, recorded_at)
            results = self._plan_and_apply(tx, checked, len(batch), now, sizes)
        total = WriteResult(recorded_at=now)
        for r in results:
            total.added += r.added
            total.unchanged += r.unchanged
            total.closed += r.closed
        if parts is not None:
            total.parts = results
        return total

    def _recorded_at(self, tx: Txn, requested: int | None) -> int:
        last = tx.last_recorded_at()
        if requested is not None:
            if requested < last:
                raise Conflict(f"recorded_at {requested} is before the store's latest write "
                               f"({last}); knowledge time only moves forward")
            return requested
        return max(self._clock(), last)

    def _plan_and_apply(self, tx: Txn, facts: list[NodeFact | EdgeFact | Close],
                        total: int, now: int, sizes: list[int]) -> list[WriteResult]:
        node_refs: dict[str, NodeFact] = {}
        endpoints: dict[str, tuple[int, EdgeFact, str]] = {}
        closes_nodes: list[str] = []
        edges: dict[str, EdgeFact] = {}
        close_edges: set[str] = set()
        batch_edges_of: dict[str, set[str]] = {}
        for i, f in enumerate(facts):
            if isinstance(f, NodeFact):
                node_refs.setdefault(f"{f.kind}:{f.name}", f)
            elif isinstance(f, EdgeFact):
                fid = f"{f.src}|{f.kind}|{f.dst}"
                edges.setdefault(fid, f)
                if f.src not in endpoints:
                    endpoints[f.src] = (i, f, "from")
                if f.dst not in endpoints:
                    endpoints[f.dst] = (i, f, "to")
                batch_edges_of.setdefault(f.src, set()).add(fid)
                batch_edges_of.setdefault(f.dst, set()).add(fid)
            elif "|" in f.fact_id:
                close_edges.add(f.fact_id)
            else:
                closes_nodes.append(f.fact_id)
        wanted = sorted(set(node_refs) | set(endpoints) | set(closes_nodes))
        known = tx.known_entities(wanted)
        for ref_, (i, f, field_name) in endpoints.items():
            if ref_ not in known and ref_ not in node_refs:
                err = FactError(f.origin or f"fact {i} ({f.describe()})", field_name, ref_,
                                "unknown node: write the node first, or in the same batch")
                raise BatchRejected(err, i, total)
        incident = tx.incident_edge_ids(closes_nodes) if closes_nodes else set()
        # only facts whose nodes existed before this batch can have stored versions
        old_edges = {fid for fid, f in edges.items() if f.src in known and f.dst in known}
        original = tx.live_rows(
            sorted({r for r in node_refs if r in known} | set(closes_nodes)),
            sorted(old_edges | close_edges | incident))
        timelines = {k: list(v) for k, v in original.items()}
        results = [WriteResult() for _ in sizes]
        part, left = 0, sizes[0]
        for i, f in enumerate(facts):
            while left == 0:
                part += 1
                left = sizes[part]
            left -= 1
            if isinstance(f, Close):
                self._apply_close(f, i, total, known, incident, batch_edges_of, timelines,
                                  results[part], tx)
                continue
            self._assert(f, timelines, results[part])
        self._apply(tx, node_refs, known, original, timelines, now)
        return results

    @staticmethod
    def _assert(f: NodeFact | EdgeFact, timelines: dict[str, list[Piece]],
                result: WriteResult) -> None:
        attrs_json, h = canonical_attrs(f.attrs)
        fid = f"{f.kind}:{f.name}" if isinstance(f, NodeFact) else f"{f.src}|{f.kind}|{f.dst}"
        piece = Piece(f.valid_from, OPEN if f.valid_to is None else f.valid_to, h,
                      attrs_json, f.source, f.origin)
        pieces = timelines.get(fid)
        if not pieces:  # a fact with no versions yet: nothing to cut or merge
            timelines[fid] = [piece]
            result.added += 1
            return
        out = assert_content(pieces, piece, f.valid_to is not None)
        timelines[fid] = out.pieces
        if out.changed:
            result.added += 1
            result.closed += int(out.ended_version)
        else:
            result.unchanged += 1

    def _apply_close(self, f: Close, i: int, total: int, known: set[str], incident: set[str],
                     batch_edges_of: dict[str, set[str]],
                     timelines: dict[str, list[Piece]], result: WriteResult, tx: Txn) -> None:
        is_edge = "|" in f.fact_id
        if not is_edge and f.fact_id not in known and f.fact_id not in timelines:
            err = FactError(f.origin or f"fact {i} ({f.describe()})", "fact_id", f.fact_id,
                            "no such node in the store")
            raise BatchRejected(err, i, total)
        if is_edge and f.fact_id not in timelines:
            err = FactError(f.origin or f"fact {i} ({f.describe()})", "fact_id", f.fact_id,
                            "no such edge in the store")
            raise BatchRejected(err, i, total)
        targets = [f.fact_id]
        if not is_edge:
            targets += sorted(
                e for e in (incident | batch_edges_of.get(f.fact_id, set()))
                if f.fact_id in split_edge_id(e)[::2]
            )
        changed_any = False
        for fid in targets:
            out = close_at(timelines.get(fid, []), f.at)
            if out.changed:
                timelines[fid] = out.pieces
                result.closed += 1
                changed_any = True
        if not changed_any:
            result.unchanged += 1

    def _apply(self, tx: Txn, node_refs: dict[str, NodeFact], known: set[str],
               original: dict[str, list[Piece]], timelines: dict[str, list[Piece]],
               now: int) -> None:
        entities = [(r, f.kind, f.name) for r, f in node_refs.items() if r not in known]
        node_rows: list[tuple[str, Piece]] = []
        edge_rows: list[tuple[str, str, str, Piece]] = []
        sup_nodes: list[int] = []
        sup_edges: list[tuple[str, int]] = []
        for fid, pieces in timelines.items():
            old = original.get(fid)
            supersede, inserts = reconcile(old, pieces) if old else ([], pieces)
            if "|" in fid:
                src, kind, dst = split_edge_id(fid)
                sup_edges.extend((kind, s) for s in supersede)
                edge_rows.extend((kind, src, dst, p) for p in inserts)
            else:
                sup_nodes.extend(supersede)
                node_rows.extend((fid, p) for p in inserts)
        if entities or node_rows or edge_rows or sup_nodes or sup_edges:
            tx.apply(entities, node_rows, edge_rows, sup_nodes, sup_edges, now)

    # -- reads -----------------------------------------------------------------------
    def versions_at(self, fact_ids: Iterable[str], valid_at: int
                    ) -> dict[str, NodeVersion | EdgeVersion]:
        """The version of each fact true at ``valid_at`` (as known now), by fact id."""
        found = self.versions_at_times((fid, valid_at) for fid in fact_ids)
        return {fid: v for (fid, _), v in found.items()}

    def versions_at_times(self, items: Iterable[tuple[str, int]]
                          ) -> dict[tuple[str, int], NodeVersion | EdgeVersion]:
        """For each ``(fact id, time)``, the version of the fact true then (as known
        now): one query for facts asked about at many different times."""
        wanted = set(items)
        live = self._live_versions(sorted({fid for fid, _ in wanted}))
        out: dict[tuple[str, int], NodeVersion | EdgeVersion] = {}
        for fid, t in wanted:
            for v in live.get(fid, ()):
                if v.valid_from <= t < v.valid_to:
                    out[(fid, t)] = v
                    break
        return out

    def now(self) -> int:
        """The store clock's current time (microseconds, UTC)."""
        return self._clock()

    def graph(self, valid_at: int | None = None, known_at: int | None = None) -> Graph:
        """The graph true at ``valid_at`` (default: now) as known at ``known_at``
        (default: everything recorded so far)."""
        t = self._clock() if valid_at is None else valid_at
        k = KNOWN_NOW if known_at is None else known_at
        nodes, edges = self._graph_rows(t, k)
        g = Graph(t, k, {n.ref: n for n in nodes})
        present = g.nodes
        g.edges = {e.fact_id: e for e in edges if e.src in present and e.dst in present}
        return g

    def snapshot(self, valid_at: int | None = None, known_at: int | None = None,
                 window: int | None = None) -> Snapshot:
        """The graph at ``valid_at`` (default: now) as known at ``known_at``, compiled into
        arrays for the engine (:class:`ccm.engine.snapshot.Snapshot`), with the changes of
        the last ``window`` microseconds (default: all). Cached while :meth:`revision` and
        the arguments are unchanged."""
        from ccm.engine.collect import snapshot_of
        from ccm.engine.snapshot import SnapshotCache

        if self._snapshots is None:
            self._snapshots = SnapshotCache()
        t = self._clock() if valid_at is None else valid_at
        return snapshot_of(self, self._snapshots, t, known_at, window)

    def history(self, ref: str, known_at: int | None = None) -> History:
        """Every version of node ``ref`` and of its edges, as known at ``known_at``."""
        k = KNOWN_NOW if known_at is None else known_at
        rows = self._history_rows(ref, k)
        if rows is None:
            raise NotFound(f"no node {ref!r} in the store")
        nodes, edges = rows
        nodes.sort(key=lambda v: (v.valid_from, v.seq))
        edges.sort(key=lambda v: (v.valid_from, v.fact_id, v.seq))
        return History(ref, k, nodes, edges)

    def diff(self, t1: int, t2: int, known_at: int | None = None) -> GraphDiff:
        """Facts added, removed and changed between valid times ``t1`` and ``t2``."""
        k = KNOWN_NOW if known_at is None else known_at
        return diff_graphs(self.graph(t1, k), self.graph(t2, k))

    def __enter__(self) -> VersionedStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()  # type: ignore[attr-defined]


def chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]
