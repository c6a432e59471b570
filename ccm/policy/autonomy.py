"""Earned autonomy: the per (tenant, action type, target) ladder advisory -> review ->
autonomous, moved by recorded outcomes (see the ``earned_autonomy`` rule)."""

from __future__ import annotations

from typing import Any

from ccm.policy.records import update_record
from ccm.policy.rules.oversight import LEVELS, EarnedAutonomy
from ccm.store import Store

AUTONOMY = "autonomy"
_SEEN = 200


def autonomy_key(tenant: str, action: str, target: str) -> str:
    return f"{tenant}|{action}|{target}"


def record_outcome(store: Store, rule: EarnedAutonomy, risk: str, key: str, action_id: str,
                   healthy: bool, now: int) -> dict[str, Any]:
    """Count one outcome (once per action id): promote after ``promote_after`` clean
    outcomes in a row, demote on a failure."""

    def change(doc: dict[str, Any]) -> bool:
        seen = doc.setdefault("seen", [])
        if action_id in seen:
            return False
        seen.append(action_id)
        del seen[:-_SEEN]
        level = rule.level_for(risk, doc)
        if healthy:
            doc["clean"] = int(doc.get("clean", 0)) + 1
            if doc["clean"] >= rule.promote_after and level != "autonomous":
                level = LEVELS[LEVELS.index(level) + 1]
                doc["clean"] = 0
        else:
            doc["failures"] = int(doc.get("failures", 0)) + 1
            doc["clean"] = 0
            if rule.demote_to == "advisory":
                level = "advisory"
            elif level != "advisory":
                level = LEVELS[LEVELS.index(level) - 1]
        doc.update(level=level, at=now)
        return True

    return update_record(store, AUTONOMY, key, change)


def set_level(store: Store, key: str, level: str, now: int, by: str) -> dict[str, Any]:
    """Set a level by hand (an admin change; callers audit it)."""
    if level not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)}")

    def change(doc: dict[str, Any]) -> None:
        doc.update(level=level, clean=0, at=now, set_by=by)

    return update_record(store, AUTONOMY, key, change)
