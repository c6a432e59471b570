"""The Store protocol and the write path both backends share.

A backend implements a handful of primitives inside one transaction
(:class:`Txn`); :class:`VersionedStore` does validation, endpoint checks and
the versioning algebra (:mod:`ccm.store.timeline`) once, for every backend.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from ccm.errors import BatchRejected, Conflict, NotFound
from ccm.store.plan import Plan, Txn, canonical_attrs, split_edge_id
from ccm.store.types import (
    EdgeVersion,
    Graph,
    GraphDiff,
    History,
    Mark,
    NodeVersion,
    WriteResult,
    diff_graphs,
)
from graph_schema import Close, EdgeFact, FactError, NodeFact, validate
from graph_schema.timeutil import KNOWN_NOW, now_micros

if TYPE_CHECKING:
    from ccm.engine.snapshot import Snapshot

Clock = Callable[[], int]

__all__ = ["Clock", "Record", "Store", "Txn", "VersionedStore", "canonical_attrs", "chunks",
           "split_edge_id"]


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
    def mark(self) -> Mark: ...
    def touched_since(self, recorded_at: int) -> set[str]: ...
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

    def mark(self) -> Mark:
        """The store's revision and its latest write's ``recorded_at``, read together."""
        raise NotImplementedError

    def touched_since(self, recorded_at: int) -> set[str]:
        """The delta since a write: the ids of the facts with a version recorded, or
        superseded, at or after ``recorded_at`` (a later write can share a write's
        ``recorded_at``, so the bound is inclusive: a fact may come again)."""
        raise NotImplementedError

    # -- writes ----------------------------------------------------------------------
    def write(self, facts: Iterable[Any], *, recorded_at: int | None = None,
              validated: bool = False, parts: Sequence[int] | None = None,
              canon: Sequence[tuple[str, str] | None] | None = None) -> WriteResult:
        """Write one batch of facts atomically: all of it, or (on any error) none of it.

        Facts are validated against the schema (``validated=True`` says the caller
        passes facts returned by :func:`graph_schema.validate`, as the ingest
        pipeline does, and skips that step); an edge must end at nodes that exist
        (in the store or in this batch). A bad fact raises
        :class:`~ccm.errors.BatchRejected` naming it, its field and its value.
        ``parts`` (sizes of consecutive runs of ``facts``, summing to their number)
        asks for the counts of each run too, in ``result.parts``: several batches
        written as one transaction. ``canon`` (with ``validated``) gives each fact's
        :func:`canonical_attrs` of its attributes (or None), computed by the caller.
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
            plan = Plan(tx, checked, len(batch), canon if validated else None)
            results = plan.run(sizes)
            plan.apply(now)
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
