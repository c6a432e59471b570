"""Durable action records: the lifecycle state of each action, in the store.

Every transition is a compare-and-set on the record's revision
(``put_record(..., expected_rev=...)``): two processes racing on one action
cannot both move it, and repeating a transition that already happened is a
no-op that returns the current state.

States: ``proposed -> evaluated -> approved -> executing -> executed | failed ->
outcome -> reverting -> closed``; ``refused`` ends an action the policy refused;
``unknown`` is an execution whose process died before it reported (a person records
its outcome).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, cast

from ccm.audit.redact import Sealer
from ccm.errors import Conflict, NotFound
from ccm.policy.proposal import Proposal
from ccm.policy.types import Needs, Verdict
from ccm.store import Store
from ccm.store.base import Record

COLLECTION = "actions"
STATES = ("proposed", "evaluated", "approved", "refused", "executing", "executed", "failed",
          "unknown", "outcome", "reverting", "closed")
FINAL = frozenset({"refused", "closed"})
RAN = frozenset({"executing", "executed", "failed", "unknown", "outcome", "reverting",
                 "closed"})
_RETRIES = 50


@dataclass(frozen=True)
class ActionRecord:
    """One action's stored lifecycle document and its revision."""

    doc: dict[str, Any]
    rev: int

    @property
    def id(self) -> str:
        return str(self.doc["id"])

    @property
    def state(self) -> str:
        return str(self.doc["state"])

    @property
    def proposal(self) -> Proposal:
        return Proposal.from_dict(self.doc["proposal"])

    @property
    def verdict(self) -> Verdict | None:
        raw = self.doc.get("verdict")
        return Verdict.from_dict(raw) if raw else None

    @property
    def approvals(self) -> list[dict[str, Any]]:
        return list(self.doc.get("approvals", []))

    def to_dict(self) -> dict[str, Any]:
        return copy.deepcopy(self.doc)


class SealedRecords:
    """``store``, with the action records' secret values sealed at rest (see
    :class:`~ccm.audit.redact.Sealer`): written sealed, read back opened. Everything else
    passes through unchanged."""

    def __init__(self, store: Store, sealer: Sealer) -> None:
        self._store = store
        self._sealer = sealer

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def put_record(self, collection: str, key: str, doc: dict[str, Any], *,
                   expected_rev: int | None = None) -> int:
        if collection == COLLECTION:
            doc = self._sealer(doc)
        return self._store.put_record(collection, key, doc, expected_rev=expected_rev)

    def get_record(self, collection: str, key: str) -> Record | None:
        rec = self._store.get_record(collection, key)
        return self._open(rec) if rec is not None and collection == COLLECTION else rec

    def list_records(self, collection: str) -> list[Record]:
        recs = self._store.list_records(collection)
        return [self._open(r) for r in recs] if collection == COLLECTION else recs

    def _open(self, rec: Record) -> Record:
        return replace(rec, doc=self._sealer.unseal(rec.doc))


def sealed(store: Store, sealer: Sealer | None) -> Store:
    """``store`` with action records sealed by ``sealer`` (None: ``store`` itself)."""
    return store if sealer is None else cast(Store, SealedRecords(store, sealer))


def load(store: Store, action_id: str) -> ActionRecord:
    rec = store.get_record(COLLECTION, action_id)
    if rec is None:
        raise NotFound(f"no action {action_id!r}")
    return ActionRecord(rec.doc, rec.rev)


def transition(store: Store, action_id: str, allowed: frozenset[str] | set[str],
               change: Callable[[dict[str, Any]], bool | None], *, now: int,
               by: str) -> tuple[ActionRecord, bool]:
    """Apply ``change`` if the action is in one of the ``allowed`` states.

    Returns the record and whether this call changed it. ``change`` edits the
    document (setting ``state`` to move it) and may return False to do nothing.
    """
    for _ in range(_RETRIES):
        current = load(store, action_id)
        if current.state not in allowed:
            return current, False
        doc = copy.deepcopy(current.doc)
        if change(doc) is False:
            return current, False
        if doc["state"] != current.state:
            doc.setdefault("history", []).append({"state": doc["state"], "at": now, "by": by})
        doc["updated_at"] = now
        try:
            rev = store.put_record(COLLECTION, action_id, doc, expected_rev=current.rev)
        except Conflict:
            continue
        return ActionRecord(doc, rev), True
    raise Conflict(f"action {action_id} kept changing under {_RETRIES} attempts: retry")


def approvals_satisfy(needs: Needs, approvals: list[dict[str, Any]], proposer: str
                      ) -> tuple[bool, str]:
    """Whether the approvals meet ``needs`` (distinct identities, never the proposer)."""
    valid = {a["by"]: a for a in approvals if a["by"] != proposer}
    missing = []
    if len(valid) < needs.approvals:
        missing.append(f"{needs.approvals - len(valid)} more approval"
                       f"{'s' if needs.approvals - len(valid) > 1 else ''}")
    if needs.human and not any(a.get("kind") == "human" for a in valid.values()):
        missing.append("a human approval")
    if needs.signature and not any(a.get("kind") == "human" and a.get("signed")
                                   for a in valid.values()):
        missing.append("a signed human approval")
    return not missing, ", ".join(missing)
