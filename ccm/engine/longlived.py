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
"""

from __future__ import annotations

import gc
import threading

__all__ = ["LARGE", "settle"]

#: graphs of at least this many node and edge versions are settled after a build
LARGE = 20_000

_lock = threading.Lock()


def settle(versions: int) -> bool:
    """After building a structure of ``versions`` node and edge versions that will be
    kept: collect once and freeze what survives, when it is large. Returns whether it
    did."""
    if versions < LARGE:
        return False
    with _lock:
        gc.unfreeze()
        gc.collect()
        gc.freeze()
    return True
