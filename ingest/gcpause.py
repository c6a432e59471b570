"""Fewer garbage-collector passes while ingest builds and drops many small objects.

Ingest allocates a few dicts and facts per record and keeps most of them only
for one batch; with CPython's default thresholds the cyclic collector runs every
700 allocations and, as the process's live objects grow, full collections cost
a sizeable share of an ingest's time. :func:`fewer_collections` raises the
first-generation threshold for the duration of a run (nothing is left
uncollected: garbage is collected, just in larger steps) and restores the
previous setting when the last concurrent run ends.

The threshold is the whole process's, so a library call leaves it alone: only a
process that owns itself turns this on (:func:`enable`; ``ccm ingest`` and ``ccm
serve`` do, through :func:`ccm.ops.collector.owned_collector`, and the ingest writer
process does).
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
#: whether this process opted in (off: :func:`fewer_collections` changes nothing)
_enabled = False


def enable(on: bool = True) -> bool:
    """Let :func:`fewer_collections` raise the threshold in this process (``on``) or
    not; returns the previous setting."""
    global _enabled
    with _lock:
        before, _enabled = _enabled, on
    return before


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Run the body with a higher young-generation GC threshold (nests, thread-safe),
    when the process opted in (:func:`enable`); else run it as it is."""
    global _active, _saved
    with _lock:
        if _active == 0 and not _enabled:
            _saved = ()
        elif _active == 0:
            _saved = gc.get_threshold()
            if _saved[0] and _saved[0] < INGEST_GC_THRESHOLD:  # 0: collection disabled
                gc.set_threshold(INGEST_GC_THRESHOLD, *_saved[1:])
        _active += 1
    try:
        yield
    finally:
        with _lock:
            _active -= 1
            if _active == 0 and _saved:
                gc.set_threshold(*_saved)
