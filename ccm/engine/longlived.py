"""Keeping big, long-lived structures out of Python's cyclic garbage collector.

A compiled snapshot keeps its graph (one object per node and edge version), and the
control plane caches a graph read too: on 10,000 services that is about 250,000
objects, and every full collection walks all of them, stopping every thread for
about 100 ms (measured: one such pause per few hundred requests under load, the
largest single term of the API's p99). These objects live until the store changes
and are freed by reference counting, so after building one, :func:`settle` runs
one full collection (no garbage is kept) and moves everything that survives into
the collector's permanent generation (``gc.freeze``), which later collections skip.
Each settle first unfreezes what an earlier one froze, so garbage in reference
cycles among frozen objects (a replaced graph, say) is still collected then, and
frozen objects never accumulate beyond one build. Small graphs are left alone:
scanning them costs nothing worth a collection.

Freezing and unfreezing are the whole process's (an unfreeze thaws what a host
froze), so :func:`settle` does nothing unless the process opted in with
:func:`enable`: ``ccm serve`` and ``ccm ingest`` do (through
:func:`ccm.ops.collector.owned_collector`); a library call leaves the collector alone.
"""

from __future__ import annotations

import gc
import threading

__all__ = ["LARGE", "enable", "settle"]

#: graphs of at least this many node and edge versions are settled after a build
LARGE = 20_000

_lock = threading.Lock()
#: whether this process opted in (off: :func:`settle` does nothing)
_enabled = False


def enable(on: bool = True) -> bool:
    """Let :func:`settle` freeze large structures in this process (``on``) or not;
    returns the previous setting."""
    global _enabled
    with _lock:
        before, _enabled = _enabled, on
    return before


def settle(versions: int) -> bool:
    """After building a structure of ``versions`` node and edge versions that will be
    kept: collect once and freeze what survives, when it is large and the process
    opted in (:func:`enable`). Returns whether it did."""
    if versions < LARGE or not _enabled:
        return False
    with _lock:
        gc.unfreeze()
        gc.collect()
        gc.freeze()
    return True
