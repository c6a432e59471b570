"""Reusing the engine's snapshot of "now" across requests.

The engine compiles the graph at a time into a snapshot and caches it by exact
time, so every request about "now" (a new microsecond each time) would compile
the whole graph again: on 10,000 services that is most of a request's time. A
:class:`RecentSnapshots` keeps the latest compiled snapshot and answers a later
time with it while the store's revision is unchanged and the snapshot is at most
``reuse`` microseconds old (the control plane reuses its graph reads the same
way). Only a fact recorded in advance to start or end inside that window could be
seen late; any write moves the revision and drops the snapshot. One request
compiles while concurrent ones wait for it (no stampede).
"""

from __future__ import annotations

import threading
from typing import Any

__all__ = ["RecentSnapshots", "SnapshotReuse"]


class RecentSnapshots:
    """The latest snapshot per (known_at, window), reused for later times (see above)."""

    def __init__(self, reuse: int) -> None:
        self.reuse = reuse
        self._lock = threading.Lock()
        self._latest: dict[tuple[Any, ...], tuple[int, int, Any]] = {}
        self._building: dict[tuple[Any, ...], threading.Lock] = {}

    def get(self, store: Any, valid_at: int, known_at: int | None = None,
            window: int | None = None) -> Any:
        key = (known_at, window)
        hit = self._reusable(store.revision(), key, valid_at)
        if hit is not None:
            return hit
        with self._lock:
            build_lock = self._building.setdefault(key, threading.Lock())
        with build_lock:
            revision = store.revision()
            hit = self._reusable(revision, key, valid_at)
            if hit is not None:
                return hit
            snap = store.snapshot(valid_at, known_at, window)
            with self._lock:
                self._latest[key] = (revision, valid_at, snap)
            return snap

    def _reusable(self, revision: int, key: tuple[Any, ...], valid_at: int) -> Any:
        with self._lock:
            cached = self._latest.get(key)
        if cached is None:
            return None
        rev, at, snap = cached
        return snap if rev == revision and 0 <= valid_at - at <= self.reuse else None


class SnapshotReuse:
    """A store whose ``snapshot()`` goes through a :class:`RecentSnapshots`; everything
    else is the store's own (hand it to code that takes a store)."""

    def __init__(self, store: Any, cache: RecentSnapshots) -> None:
        self._store = store
        self._cache = cache

    def snapshot(self, valid_at: int | None = None, known_at: int | None = None,
                 window: int | None = None) -> Any:
        if valid_at is None:
            return self._store.snapshot(valid_at, known_at, window)
        return self._cache.get(self._store, valid_at, known_at, window)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)
