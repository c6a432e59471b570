"""The garbage-collector tuning a process that owns itself may choose.

Two settings help a long-running server and a large ingest (see
:mod:`ccm.engine.longlived` and :mod:`ingest.gcpause`): freezing large long-lived
graphs out of the collector's way, and fewer young-generation collections while
ingest builds and drops many small objects. Both change the whole process, so they
are off in the library; ``ccm serve`` and ``ccm ingest`` turn them on (their
``--gc-tuning/--no-gc-tuning`` option, on by default; the API's ``CCM_GC_TUNING``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from ccm.engine import longlived
from ingest import gcpause

__all__ = ["owned_collector"]


@contextmanager
def owned_collector(on: bool = True) -> Iterator[None]:
    """Within the body, tune the collector (``on``) or leave it alone; the previous
    choice is restored after."""
    frozen, paused = longlived.enable(on), gcpause.enable(on)
    try:
        yield
    finally:
        longlived.enable(frozen)
        gcpause.enable(paused)
