"""Export of the audit log as JSONL (one entry per line, canonical JSON)."""

from __future__ import annotations

from pathlib import Path
from typing import IO

from ccm.audit.canonical import ZERO_HASH, canonical_json
from ccm.audit.log import STREAM
from ccm.store import Store


def export_jsonl(store: Store, out: IO[bytes]) -> tuple[int, str]:
    """Write every entry to ``out``; return the head ``(last seq, hash)``."""
    last_seq, last_hash = 0, ZERO_HASH
    for seq, entry in store.read_log(STREAM):
        out.write(canonical_json(entry) + b"\n")
        last_seq, last_hash = seq, str(entry.get("hash", ""))
    return last_seq, last_hash


def export_file(store: Store, path: str | Path) -> tuple[int, str]:
    with Path(path).open("wb") as fh:
        return export_jsonl(store, fh)
