"""Fewer garbage-collector passes while ingest builds and drops many small objects.

Ingest allocates a few dicts and facts per record and keeps most of them only
for one batch; with CPython's default thresholds the cyclic collector runs every
700 allocations and, as the process's live objects grow, full collections cost
a sizeable share of an ingest's time. :func:`fewer_collections` raises the
first-generation threshold for the duration of a run (nothing is left
uncollected: garbage is collected, just in larger steps) and restores the
previous setting when the last concurrent run ends.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

#: allocations between young-generation collections during an ingest (default 700)
INGEST_GC_THRESHOLD = 50_000

_lock = threading.Lock()
_active = 0
_saved: tuple[int, ...] = ()


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Run the body with a higher young-generation GC threshold (nests, thread-safe)."""
    global _active, _saved
    with _lock:
        if _active == 0:
            _saved = gc.get_threshold()
            if _saved[0] and _saved[0] < INGEST_GC_THRESHOLD:  # 0: collection disabled
                gc.set_threshold(INGEST_GC_THRESHOLD, *_saved[1:])
        _active += 1
    try:
        yield
    finally:
        with _lock:
            _active -= 1
            if _active == 0:
                gc.set_threshold(*_saved)
