"""The engine's snapshot of "now", kept live across requests and writes.

The engine compiles the graph at a time into a snapshot; compiling it is most of a
request's time on a large graph. A :class:`RecentSnapshots` keeps the latest
compiled snapshots per ``(known_at, window)`` and answers with one of them:

- a request at a time ``valid_at`` within ``reuse`` microseconds after the valid
  time of a snapshot's full build is answered with it while the store's revision
  is unchanged (each request reads the revision: one small query);
- when the revision moved, the facts written since (``store.touched_since``) are
  read at the request's time and patched into the snapshot
  (:func:`ccm.engine.delta.patch_snapshot`): alerts and changes arriving or ending
  and edge attributes moving cost no compilation; a delta of more than
  ``max_delta`` facts, or one that touches what is not patched (components,
  configuration values, propagation edges arriving or ending), builds the snapshot
  again.

So an answer includes every write acknowledged before its request began (read your
writes, for every client). What can be late, for at most ``reuse``: a fact recorded
in advance to start or end inside that window and not written since. Questions
as known at a past time (``known_at``) are built again after any write. One request
builds or patches while concurrent ones wait for it (no stampede).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from ccm.engine.delta import LiveIndex, patch_snapshot

__all__ = ["RecentSnapshots", "SnapshotReuse"]

#: snapshots kept per (known_at, window): "now" and a few fixed times asked about
KEEP = 4


@dataclass
class _Entry:
    revision: int
    recorded_at: int
    built_at: int  # the valid time of the full build: reuse is bounded from it
    snap: Any
    live: LiveIndex | None = None


class RecentSnapshots:
    """The latest snapshots per (known_at, window), reused for later times and patched
    with the writes since (see above)."""

    def __init__(self, reuse: int, max_delta: int = 5_000) -> None:
        self.reuse = reuse
        self.max_delta = max_delta
        self._lock = threading.Lock()
        self._entries: dict[tuple[Any, ...], list[_Entry]] = {}
        self._building: dict[tuple[Any, ...], threading.Lock] = {}
        #: how the snapshots asked for were made: reused, patched, built
        self.counts = {"reused": 0, "patched": 0, "built": 0}

    def get(self, store: Any, valid_at: int, known_at: int | None = None,
            window: int | None = None) -> Any:
        key = (known_at, window)
        entry = self._entry(key, valid_at)
        if entry is not None and entry.revision == store.revision():
            return self._count("reused", entry.snap)
        with self._lock:
            build_lock = self._building.setdefault(key, threading.Lock())
        with build_lock:
            mark = store.mark()
            entry = self._entry(key, valid_at)
            if entry is not None and entry.revision == mark.revision:
                return self._count("reused", entry.snap)
            if entry is not None and known_at is None:
                snap = self._patched(store, entry, mark, valid_at)
                if snap is not None:
                    return self._count("patched", snap)
            snap = store.snapshot(valid_at, known_at, window)
            with self._lock:
                entries = self._entries.setdefault(key, [])
                if entry is not None:
                    entries.remove(entry)
                entries.insert(0, _Entry(mark.revision, mark.recorded_at, valid_at, snap))
                del entries[KEEP:]
            return self._count("built", snap)

    def _entry(self, key: tuple[Any, ...], valid_at: int) -> _Entry | None:
        with self._lock:
            return next((e for e in self._entries.get(key, ())
                         if 0 <= valid_at - e.built_at <= self.reuse), None)

    def _patched(self, store: Any, entry: _Entry, mark: Any, valid_at: int) -> Any:
        touched = store.touched_since(entry.recorded_at)
        if len(touched) > self.max_delta:
            return None
        at = max(valid_at, entry.snap.valid_at)
        versions = store.versions_at(touched, at)
        graph = entry.snap.graph
        # a node that (re)appears brings back the edges the store kept while it was
        # not valid (a graph shows an edge only while both its ends are): read them too
        appeared = [f for f in touched if "|" not in f and versions.get(f) is not None
                    and graph is not None and f not in graph.nodes]
        if appeared:
            more = {f"{e.src}|{e.kind}|{e.dst}" for ref in appeared
                    for e in store.history(ref).edges} - set(touched)
            if more:
                touched = sorted(set(touched) | more)
                versions = store.versions_at(touched, at)
        live = entry.live or LiveIndex.of(entry.snap)
        out = patch_snapshot(entry.snap, live, touched, versions, at, mark.revision)
        if out is None:
            return None
        with self._lock:
            entry.snap, entry.live = out
            entry.revision, entry.recorded_at = mark.revision, mark.recorded_at
        return out[0]

    def _count(self, how: str, snap: Any) -> Any:
        with self._lock:
            self.counts[how] += 1
        return snap


class SnapshotReuse:
    """A store whose ``snapshot()`` goes through a :class:`RecentSnapshots`, and whose
    ``graph()`` of a time as known now is the graph of that live snapshot (so the
    control plane's and memory's graph reads are patched too, not read again after
    every write); everything else is the store's own (hand it to code that takes a
    store)."""

    #: the graphs it returns are kept out of Python's cyclic collector already (the
    #: snapshot's build settled them: :func:`ccm.engine.longlived.settle`)
    settled_graphs = True

    def __init__(self, store: Any, cache: RecentSnapshots) -> None:
        self._store = store
        self._cache = cache

    def graph(self, valid_at: int | None = None, known_at: int | None = None) -> Any:
        if valid_at is None or known_at is not None:
            return self._store.graph(valid_at, known_at)
        snap = self._cache.get(self._store, valid_at)
        return snap.graph if snap.graph is not None else self._store.graph(valid_at)

    def snapshot(self, valid_at: int | None = None, known_at: int | None = None,
                 window: int | None = None) -> Any:
        if valid_at is None:
            return self._store.snapshot(valid_at, known_at, window)
        return self._cache.get(self._store, valid_at, known_at, window)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)
