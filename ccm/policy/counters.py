"""Counters the rules read: recent proposals per target and per agent (rate limits),
per session (circuit breakers), and an agent's recent activity (drift detection).

Each is a record holding recent events, updated once per proposal (idempotent:
an action id is only counted once) and pruned to ``keep_for``.
"""

from __future__ import annotations

from typing import Any

from ccm.policy.proposal import Proposal
from ccm.policy.records import update_record
from ccm.store import Store

RATE, SESSIONS, ACTIVITY = "rate", "sessions", "activity"
DEFAULT_KEEP = 24 * 3600 * 1_000_000


def session_key(p: Proposal) -> str:
    return f"{p.tenant}|{p.agent}|{p.session}"


def note_proposal(store: Store, p: Proposal, action_id: str, proposed_at: int,
                  keep_for: int = DEFAULT_KEEP) -> None:
    """Count one proposal in every counter it belongs to."""
    since = proposed_at - keep_for

    def add_rate(doc: dict[str, Any]) -> bool:
        events = [e for e in doc.get("events", []) if e[0] > since]
        if any(e[1] == action_id for e in events):
            return False
        doc["events"] = [*events, [proposed_at, action_id]]
        return True

    for scope in (p.target, f"agent:{p.agent}"):
        update_record(store, RATE, scope, add_rate)

    def add_activity(doc: dict[str, Any]) -> bool:
        events = [e for e in doc.get("events", []) if e["t"] > since]
        if any(e["id"] == action_id for e in events):
            return False
        doc["events"] = [*events, {"t": proposed_at, "id": action_id, "action": p.action,
                                   "session": p.session, "step": p.step,
                                   "plan_length": p.plan_length}]
        return True

    update_record(store, ACTIVITY, p.agent, add_activity)
    if p.session:
        def add_call(doc: dict[str, Any]) -> bool:
            calls = doc.setdefault("calls", [])
            if action_id in calls:
                return False
            calls.append(action_id)
            return True

        update_record(store, SESSIONS, session_key(p), add_call,
                      {"calls": [], "failed": None})


def mark_session_failed(store: Store, p: Proposal, action_id: str) -> None:
    """A step of the session failed: circuit breakers stop the rest of it."""
    if not p.session:
        return

    def fail(doc: dict[str, Any]) -> bool:
        if doc.get("failed"):
            return False
        doc["failed"] = action_id
        return True

    update_record(store, SESSIONS, session_key(p), fail, {"calls": [], "failed": None})
