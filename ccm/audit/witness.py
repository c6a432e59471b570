"""The audit witness: every signed head, also appended outside the store.

A store's signed head proves the log was not cut short only while nobody can put an
older head back. So every head CCM signs is also appended, as one JSON line, to a
witness file the operator keeps elsewhere (``CCM_AUDIT_WITNESS``: another disk, an
append-only mount, a file shipped to log storage), in the spirit of Certificate
Transparency's witnesses. Verification compares the log with the latest witnessed
head: a log that ends before it, or whose entry at its sequence number has another
hash, was rolled back, cut or rewritten, whatever the store's own head says.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ccm.errors import ConfigError

__all__ = ["WITNESS_ENV", "append_head", "latest_head", "witness_from_env", "witness_problem"]

WITNESS_ENV = "CCM_AUDIT_WITNESS"


def witness_from_env() -> Path | None:
    """The witness file named by ``$CCM_AUDIT_WITNESS`` (None: no witness)."""
    value = os.environ.get(WITNESS_ENV, "").strip()
    return Path(value).expanduser() if value else None


def append_head(path: Path, head: dict[str, Any]) -> None:
    """Append a signed head (``seq``, ``hash``, ``key_id``, ``sig``) to the witness file,
    flushed to disk before returning."""
    line = json.dumps({k: head[k] for k in ("seq", "hash", "key_id", "sig")},
                      sort_keys=True) + "\n"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.write(fd, line.encode("ascii"))
        os.fsync(fd)
    finally:
        os.close(fd)


def latest_head(path: Path) -> dict[str, Any] | None:
    """The witnessed head with the highest sequence number (None: the file holds none)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError(f"cannot read the audit witness {path} ({WITNESS_ENV}): "
                          f"{exc.strerror}") from None
    best: dict[str, Any] | None = None
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            head = json.loads(line)
        except json.JSONDecodeError:
            raise ConfigError(f"{path}:{n}: not a witnessed head (not JSON)") from None
        if not isinstance(head, dict) or not isinstance(head.get("seq"), int) or \
                not isinstance(head.get("hash"), str):
            raise ConfigError(f"{path}:{n}: not a witnessed head (needs seq and hash)")
        if best is None or head["seq"] > best["seq"]:
            best = head
    return best


def witness_problem(witnessed: dict[str, Any], hashes: dict[int, str], last_seq: int
                    ) -> str | None:
    """What is wrong with a log (its entries' ``hashes`` by sequence number, ending at
    ``last_seq``) against the ``witnessed`` head, or None."""
    seq, h = witnessed["seq"], witnessed["hash"]
    if seq > last_seq:
        return (f"the log ends at entry {last_seq}, but the witness saw it reach {seq}: "
                "entries were cut, rolled back or the log deleted")
    if hashes.get(seq) != h:
        return (f"entry {seq} is not the entry the witness saw (hash {h[:16]}...): the log "
                "was rewritten")
    return None
