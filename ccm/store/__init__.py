"""ccm.store: the time-versioned graph, in SQLite (default) or Neo4j.

>>> from ccm.store import open_store
>>> store = open_store()          # $CCM_STORE, else ~/.local/share/ccm/ccm.sqlite  # doctest: +SKIP
"""

from __future__ import annotations

import os
from pathlib import Path

from ccm.store.base import Clock, Record, Store, VersionedStore
from ccm.store.embedded import EmbeddedStore, default_store_path
from ccm.store.types import (
    EdgeVersion,
    Graph,
    GraphDiff,
    History,
    Mark,
    NodeVersion,
    WriteResult,
)

__all__ = [
    "Clock", "EdgeVersion", "EmbeddedStore", "Graph", "GraphDiff", "History", "Mark",
    "NodeVersion", "Record", "Store", "VersionedStore", "WriteResult", "default_store_path", "open_store",
]

_NEO4J_SCHEMES = ("bolt://", "bolt+s://", "bolt+ssc://", "neo4j://", "neo4j+s://", "neo4j+ssc://")


def open_store(location: str | Path | None = None, *, clock: Clock | None = None) -> Store:
    """Open the store at ``location``.

    ``location`` is a file path or ``sqlite:///path`` (embedded), a ``bolt://`` or
    ``neo4j://`` URI, or the word ``neo4j`` (use ``NEO4J_URI``). When None it is
    ``$CCM_STORE``, else the embedded default (:func:`default_store_path`).
    """
    loc = str(location) if location is not None else os.environ.get("CCM_STORE", "")
    if loc == "neo4j" or loc.startswith(_NEO4J_SCHEMES):
        from ccm.store.neo4j import Neo4jStore

        return Neo4jStore(None if loc == "neo4j" else loc, clock=clock)
    if loc.startswith("sqlite://"):
        loc = loc[len("sqlite://"):]
    return EmbeddedStore(loc or None, clock=clock)
