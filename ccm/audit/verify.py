"""Verification of the audit chain: in the store, or in an exported JSONL file.

Each entry must (1) hash to its ``hash`` (any changed field breaks it), (2) carry a
valid Ed25519 signature of that hash by a trusted key, (3) name the previous
entry's hash in ``prev``, and (4) follow it in ``seq`` with no gap. In the store
the row's own sequence number must match the entry's, and the signed head
record must point at the last entry (so deleting the tail is detected too).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ccm.audit.canonical import ZERO_HASH, digest
from ccm.audit.keys import key_id, public_key_from_b64, public_raw, verify_signature
from ccm.audit.log import HEAD, KEYS, RECORDS, STREAM, entry_body, head_payload
from ccm.audit.witness import latest_head, witness_problem
from ccm.store import Store

_REQUIRED = ("v", "seq", "t", "kind", "actor", "subject", "data", "prev", "key_id", "hash",
             "sig")
MAX_PROBLEMS = 20


@dataclass
class VerifyReport:
    """The result of a verification: ``ok``, the first bad entry, and every problem."""

    entries: int = 0
    first_bad: int | None = None
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    last_seq: int = 0
    last_hash: str = ZERO_HASH
    keys: list[str] = field(default_factory=list)
    #: every entry's hash by sequence number (to compare with a witnessed head)
    hashes: dict[int, str] = field(default_factory=dict, repr=False)

    @property
    def ok(self) -> bool:
        return not self.problems

    def bad(self, seq: int, what: str) -> None:
        if self.first_bad is None:
            self.first_bad = seq
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(f"entry {seq}: {what}")

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "entries": self.entries, "first_bad": self.first_bad,
                "problems": self.problems, "notes": self.notes, "last_seq": self.last_seq,
                "last_hash": self.last_hash, "keys": self.keys}


def verify_entries(rows: Iterable[tuple[int | None, Any]],
                   trusted: Mapping[str, str]) -> VerifyReport:
    """Check a sequence of ``(row_seq, entry)`` pairs (``row_seq`` None for files).

    ``trusted`` maps key ids to base64 public keys.
    """
    report = VerifyReport(keys=sorted(trusted))
    prev_hash, expected = ZERO_HASH, 1
    for position, (row_seq, entry) in enumerate(rows, start=1):
        report.entries += 1
        where = row_seq if row_seq is not None else expected
        if not isinstance(entry, Mapping) or any(k not in entry for k in _REQUIRED):
            missing = [k for k in _REQUIRED if not isinstance(entry, Mapping) or k not in entry]
            report.bad(where, f"malformed entry (missing {', '.join(missing)})")
            expected += 1
            continue
        seq = entry["seq"]
        if row_seq is not None and seq != row_seq:
            report.bad(row_seq, f"the row at seq {row_seq} holds an entry claiming seq {seq} "
                                "(entries moved or reordered)")
        elif seq != expected:
            what = (f"entries {expected}..{seq - 1} are missing" if isinstance(seq, int)
                    and seq > expected else f"out of order (expected seq {expected})")
            report.bad(expected if isinstance(seq, int) and seq > expected else where,
                       f"{what} (found seq {seq} at position {position})")
        _check_one(report, where, entry, prev_hash, trusted)
        prev_hash = entry["hash"]
        expected = (seq + 1) if isinstance(seq, int) else expected + 1
        report.last_seq, report.last_hash = where, entry["hash"]
        report.hashes[where] = str(entry["hash"])
    return report


def check_witness(report: VerifyReport, witness: Path | None) -> None:
    """Compare the verified log with the latest head in the ``witness`` file."""
    if witness is None:
        return
    head = latest_head(witness)
    if head is None:
        report.notes.append(f"the witness {witness} holds no head yet")
        return
    problem = witness_problem(head, report.hashes, report.last_seq)
    if problem:
        report.bad(min(int(head["seq"]), report.last_seq + 1), problem)


def _check_one(report: VerifyReport, seq: int, entry: Mapping[str, Any], prev_hash: str,
               trusted: Mapping[str, str]) -> None:
    try:
        recomputed = digest(entry_body(entry))
    except (TypeError, ValueError):
        recomputed = ""
    if recomputed != entry["hash"]:
        report.bad(seq, "content does not match its hash (a field was changed after signing)")
    key = trusted.get(str(entry["key_id"]))
    if key is None:
        report.bad(seq, f"signed by key {entry['key_id']!r}, which is not trusted")
    elif not verify_signature(key, str(entry["sig"]), str(entry["hash"]).encode("ascii")):
        report.bad(seq, "signature does not verify")
    if entry["prev"] != prev_hash:
        report.bad(seq, "does not link to the previous entry (prev hash differs: an entry "
                        "before it was changed, removed or reordered)")


def pinned_keys(keys: Iterable[str]) -> dict[str, str]:
    """``{key id: key}`` for base64 public keys."""
    return {key_id(public_raw(public_key_from_b64(k))): k for k in keys}


UNPINNED = ("no key is pinned, so only the keys the store itself records were trusted "
            "(whoever can rewrite the store could have re-signed the log with a key of their "
            "own): pin the audit key (--public-key, CCM_AUDIT_KEY), or accept the recorded "
            "keys explicitly (--trust-store-keys)")


def trusted_keys(store: Store, pinned: Iterable[str] = ()) -> tuple[dict[str, str], list[str]]:
    """Keys to trust: the pinned ones (base64), else the keys recorded in the store."""
    pinned = list(pinned)
    if pinned:
        return pinned_keys(pinned), []
    found = {r.key: str(r.doc.get("public_key", "")) for r in store.list_records(KEYS)}
    note = ("trusting the public keys recorded in the store itself; pin the expected key "
            "with --public-key (or set CCM_AUDIT_KEY) to rule out a re-signed log")
    return found, [note] if found else []


def verify_store(store: Store, pinned: Iterable[str] = (), witness: Path | None = None,
                 trust_store_keys: bool = True) -> VerifyReport:
    """Verify the whole audit chain in ``store``, its signed head and, with a
    ``witness`` file, the latest head witnessed outside the store. Without ``pinned``
    keys the keys the store records are trusted, with a note; with ``trust_store_keys``
    False that is a problem (:data:`UNPINNED`) and the report is not ok."""
    pinned = list(pinned)
    trusted, notes = trusted_keys(store, pinned)
    report = verify_entries(store.read_log(STREAM), trusted)
    report.notes.extend(notes)
    _check_head(store, report, trusted)
    check_witness(report, witness)
    if not pinned and not trust_store_keys:
        report.problems.append(UNPINNED)
    return report


def _check_head(store: Store, report: VerifyReport, trusted: Mapping[str, str]) -> None:
    rec = store.get_record(RECORDS, HEAD)
    if rec is None:
        if report.entries:
            report.bad(report.last_seq, "the signed head record is missing")
        return
    head = rec.doc
    seq, h = head.get("seq"), head.get("hash")
    key = trusted.get(str(head.get("key_id")))
    if not isinstance(seq, int) or not isinstance(h, str) or key is None or \
            not verify_signature(key, str(head.get("sig", "")), head_payload(seq, h)):
        report.bad(report.last_seq, "the signed head record does not verify")
        return
    if seq > report.last_seq:
        report.bad(report.last_seq + 1, f"entries {report.last_seq + 1}..{seq} are missing "
                                        "(the signed head says the log reaches seq "
                                        f"{seq})")
    elif seq < report.last_seq:
        report.notes.append(f"entries after {seq} were appended after the head was last "
                            "signed (an interrupted append); they verify by the chain")
    else:
        if h != report.last_hash:
            report.bad(seq, "the last entry's hash differs from the signed head's")


def read_jsonl(path: Path) -> tuple[list[tuple[None, Any]], list[str]]:
    rows: list[tuple[None, Any]] = []
    errors: list[str] = []
    with path.open("r", encoding="utf-8") as fh:
        for n, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                rows.append((None, json.loads(line)))
            except json.JSONDecodeError as exc:
                errors.append(f"{path}:{n}: not JSON ({exc.msg})")
                rows.append((None, None))
    return rows, errors


def verify_file(path: str | Path, public_keys: Iterable[str],
                expect_head: str | None = None, witness: Path | None = None) -> VerifyReport:
    """Verify an exported JSONL file on its own, with the given public keys (base64).

    ``expect_head`` (``SEQ:HASH``, printed by ``ccm audit export``) or the ``witness``
    file also proves the file was not cut short.
    """
    trusted = pinned_keys(public_keys)
    rows, errors = read_jsonl(Path(path))
    report = verify_entries(rows, trusted)
    report.problems[:0] = errors
    if expect_head:
        seq_text, _, h = expect_head.partition(":")
        if not seq_text.isdigit() or int(seq_text) != report.last_seq or h != report.last_hash:
            report.bad(report.last_seq, f"the file ends at {report.last_seq}:"
                                        f"{report.last_hash[:16]}..., not at the expected "
                                        f"head {expect_head[:40]}")
    check_witness(report, witness)
    return report
