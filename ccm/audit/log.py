"""The audit log: append-only entries, hash-chained and Ed25519-signed.

Every entry is a JSON object (see ``docs/audit.md``)::

    {"v": 1, "seq": 7, "t": <µs>, "time": "2026-04-01T00:00:07Z", "kind": "approval",
     "actor": {"id": "alice", "kind": "human"}, "subject": "act-3f2a...", "data": {...},
     "prev": "<sha256 of entry 6>", "key_id": "<16 hex>",
     "hash": "<sha256 of the canonical JSON of every field above>",
     "sig": "<base64 Ed25519 signature of the hash's ASCII hex>"}

Entries are appended with ``store.append_log("audit", build)``, so reading the
previous entry and writing the next happen in one transaction. After each
append the signed *head* (last seq and hash) is stored as the record
``audit/head``: deleting entries from the end is then detected too.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ccm.audit.canonical import ZERO_HASH, canonical_json, digest
from ccm.audit.keys import Signer, verify_signature
from ccm.audit.redact import RedactionConfig, Redactor
from ccm.audit.witness import append_head
from ccm.errors import AuditUnavailable, Conflict
from ccm.store import Clock, Store
from graph_schema import format_time
from graph_schema.timeutil import now_micros

STREAM = "audit"
RECORDS = "audit"
KEYS = "audit_keys"
HEAD = "head"
VERSION = 1
ENTRY_KINDS = ("proposal", "verdict", "approval", "execution", "execution_refused",
               "executed", "outcome", "revert", "close", "admin", "alarm", "ingest")


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acted: an agent (with its model), a human, or CCM itself (``system``)."""

    id: str
    kind: str = "agent"
    model: str = ""
    model_version: str = ""

    def to_dict(self) -> dict[str, str]:
        out = {"id": self.id, "kind": self.kind}
        if self.model:
            out["model"] = self.model
        if self.model_version:
            out["model_version"] = self.model_version
        return out


SYSTEM = Actor("ccm", "system")


def entry_body(entry: Mapping[str, Any]) -> dict[str, Any]:
    """The part of an entry its hash covers: everything but ``hash`` and ``sig``."""
    return {k: v for k, v in entry.items() if k not in ("hash", "sig")}


def head_payload(seq: int, entry_hash: str) -> bytes:
    return canonical_json({"stream": STREAM, "seq": seq, "hash": entry_hash})


@dataclass
class AuditLog:
    """Appends signed entries to a store's audit stream.

    ``signer`` None means no key is configured: :meth:`append` then raises
    :class:`~ccm.errors.AuditUnavailable`, and nothing that needs an audit entry
    can happen.
    """

    store: Store
    signer: Signer | None
    clock: Clock = field(default=now_micros)
    #: more secret key and value patterns (the policy's ``redaction`` section)
    redaction: RedactionConfig | None = None
    #: a file every signed head is also appended to (ccm.audit.witness)
    witness: Path | None = None
    redactor: Redactor = field(init=False)
    _key_recorded: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        self.redactor = Redactor(self.signer.secret_material() if self.signer else None,
                                 self.redaction)

    @property
    def ready(self) -> bool:
        return self.signer is not None

    def append(self, kind: str, actor: Actor, subject: str,
               data: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Write one signed entry and return it (after checking its signature)."""
        signer = self.signer
        if signer is None:
            raise AuditUnavailable(
                "no audit signing key: set CCM_AUDIT_KEY (base64 raw Ed25519 private key) or "
                "CCM_AUDIT_KEY_FILE; nothing is executed without a signed audit entry")
        if kind not in ENTRY_KINDS:
            raise ValueError(f"unknown audit entry kind {kind!r}")
        self._record_key(signer)
        t = self.clock()
        clean = self.redactor(dict(data or {}))

        def build(prev: dict[str, Any] | None, seq: int) -> dict[str, Any]:
            body = {"v": VERSION, "seq": seq, "t": t, "time": format_time(t), "kind": kind,
                    "actor": actor.to_dict(), "subject": subject, "data": clean,
                    "prev": prev["hash"] if prev else ZERO_HASH, "key_id": signer.key_id}
            h = digest(body)
            return {**body, "hash": h, "sig": signer.sign(h.encode("ascii"))}

        seq, entry = self.store.append_log(STREAM, build)
        if not verify_signature(signer.public_b64, entry["sig"], entry["hash"].encode("ascii")):
            raise AuditUnavailable(f"audit entry {seq} did not verify after writing")
        self._advance_head(signer, seq, entry["hash"])
        return entry

    def _record_key(self, signer: Signer) -> None:
        if self._key_recorded:
            return
        if self.store.get_record(KEYS, signer.key_id) is None:
            with contextlib.suppress(Conflict):
                self.store.put_record(KEYS, signer.key_id, {
                    "public_key": signer.public_b64, "first_used": self.clock(),
                    "ephemeral": signer.ephemeral_key}, expected_rev=0)
        self._key_recorded = True

    def _advance_head(self, signer: Signer, seq: int, entry_hash: str) -> None:
        for _ in range(20):
            rec = self.store.get_record(RECORDS, HEAD)
            if rec is not None and int(rec.doc.get("seq", 0)) >= seq:
                return
            doc = {"seq": seq, "hash": entry_hash, "key_id": signer.key_id,
                   "sig": signer.sign(head_payload(seq, entry_hash))}
            try:
                self.store.put_record(RECORDS, HEAD, doc, expected_rev=rec.rev if rec else 0)
            except Conflict:
                continue
            if self.witness is not None:
                append_head(self.witness, doc)
            return

    def entries(self, after: int = 0, limit: int | None = None) -> list[dict[str, Any]]:
        return [doc for _, doc in self.store.read_log(STREAM, after, limit)]


def entries_about(store: Store, subject: str) -> list[dict[str, Any]]:
    """Every audit entry whose subject is ``subject`` (an action id, a grant id...)."""
    return [doc for _, doc in store.read_log(STREAM) if doc.get("subject") == subject]
