"""Ingest one case into a fresh store with the project's own ingest.

Every case gets a new :class:`~ccm.store.EmbeddedStore` (the real SQLite store) in
a temporary folder, on ``/dev/shm`` when the machine has one (a memory-backed file
system: the store's ``fsync`` per batch then costs nothing) and removed afterwards.
Files without times of their own are read as valid from the beginning of time, as
the case format says. A rejected record makes the case invalid: the error names the
case, the file and the ingest error (field and value).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ccm.bench.cases import Case
from ccm.errors import CaseInvalid
from ccm.store import EmbeddedStore
from graph_schema import BEGINNING
from ingest import ingest_paths

__all__ = ["default_tmp_dir", "replay_case", "replayed"]


def default_tmp_dir() -> str | None:
    """``/dev/shm`` when it is a writable folder, else None (the system default)."""
    shm = "/dev/shm"
    return shm if os.path.isdir(shm) and os.access(shm, os.W_OK) else None


def replay_case(case: Case, path: str | Path) -> EmbeddedStore:
    """A new store at ``path`` holding ``case``'s topology, changes and alerts (the caller
    closes it). A rejected record raises :class:`CaseInvalid` naming the file."""
    store = EmbeddedStore(path)
    try:
        report = ingest_paths(store, case.files, at=BEGINNING)
        for f in report.files:
            if f.errors:
                rel = os.path.relpath(f.path, case.path)
                raise CaseInvalid(case.id, rel, "", "ingest rejected it: " + f.errors[0])
    except BaseException:
        store.close()
        raise
    return store


@contextmanager
def replayed(case: Case, tmp_dir: str | None = None) -> Iterator[EmbeddedStore]:
    """A fresh store holding ``case``'s topology, changes and alerts, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="ccm-bench-", dir=tmp_dir) as folder:
        store = replay_case(case, Path(folder) / "case.sqlite")
        try:
            yield store
        finally:
            store.close()
