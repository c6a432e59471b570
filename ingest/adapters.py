"""The registry of ingest adapters, in detection order.

To add a format: write ``ingest/<format>.py`` with a class providing ``name``,
``description``, ``order``, ``sniff(path, head)`` and ``read(path, ctx)`` (see
:class:`ingest.core.Adapter`), and list it here.
"""

from __future__ import annotations

from ingest import native
from ingest.core import Adapter

ADAPTERS: tuple[Adapter, ...] = (
    *native.ADAPTERS,
)
