"""What a rule sees: the proposal, its registered spec, the predicted impact, and the
control-plane state read from the store (switches, grants, counters, identities)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

from ccm.policy.identities import IdentityRecord
from ccm.policy.impact import ImpactSummary
from ccm.policy.proposal import Proposal
from ccm.policy.registry import ActionSpec
from graph_schema import format_time


@dataclass(frozen=True, slots=True)
class Grant:
    """Sandbox write access: ``agent`` may run ``actions`` on ``targets`` until
    ``expires_at``, unless revoked. Targets and actions are glob patterns
    (``service:cart*``, ``*``)."""

    id: str
    agent: str
    actions: tuple[str, ...]
    targets: tuple[str, ...]
    expires_at: int
    created_at: int = 0
    granted_by: str = ""
    revoked_at: int | None = None
    reason: str = ""

    def covers(self, action: str, target: str) -> bool:
        return (any(fnmatchcase(action, p) for p in self.actions)
                and any(fnmatchcase(target, p) for p in self.targets))

    def status(self, now: int) -> str:
        if self.revoked_at is not None and self.revoked_at <= now:
            return "revoked"
        if now >= self.expires_at:
            return "expired"
        return "active"

    def describe(self, now: int) -> str:
        status = self.status(now)
        if status == "revoked":
            return f"grant {self.id} was revoked at {format_time(self.revoked_at)}"
        if status == "expired":
            return f"grant {self.id} expired at {format_time(self.expires_at)}"
        return f"grant {self.id} (by {self.granted_by or '?'}) until {format_time(self.expires_at)}"

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "agent": self.agent, "actions": list(self.actions),
                "targets": list(self.targets), "expires_at": self.expires_at,
                "created_at": self.created_at, "granted_by": self.granted_by,
                "revoked_at": self.revoked_at, "reason": self.reason}

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Grant:
        return cls(raw["id"], raw["agent"], tuple(raw["actions"]), tuple(raw["targets"]),
                   int(raw["expires_at"]), int(raw.get("created_at", 0)),
                   str(raw.get("granted_by", "")), raw.get("revoked_at"),
                   str(raw.get("reason", "")))


@dataclass(frozen=True, slots=True)
class Switch:
    """A kill switch: ``scope`` is ``global``, ``service:<name>`` (any node
    reference), ``agent:<id>`` or ``action:<type>``."""

    scope: str
    paused: bool = False
    dry_run: bool = False
    by: str = ""
    reason: str = ""
    at: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"scope": self.scope, "paused": self.paused, "dry_run": self.dry_run,
                "by": self.by, "reason": self.reason, "at": self.at}

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Switch:
        return cls(raw["scope"], bool(raw.get("paused")), bool(raw.get("dry_run")),
                   str(raw.get("by", "")), str(raw.get("reason", "")), int(raw.get("at", 0)))


@dataclass(frozen=True)
class PolicyState:
    """Control-plane state for one evaluation (loaded by :mod:`ccm.policy.state`)."""

    identity: IdentityRecord | None = None
    switches: Mapping[str, Switch] = field(default_factory=dict)
    grants: Sequence[Grant] = ()
    #: scope (a target reference or ``agent:<id>``) -> [(proposed_at, action id)]
    rate_events: Mapping[str, Sequence[tuple[int, str]]] = field(default_factory=dict)
    #: action ids of the session in proposal order, and the failed one if any
    session_calls: Sequence[str] = ()
    session_failed: str | None = None
    #: the agent's recent proposals: {t, action, session, step, plan_length}
    activity: Sequence[Mapping[str, Any]] = ()
    #: earned-autonomy ladder for (action, target): {level, clean, failures}
    autonomy: Mapping[str, Any] | None = None
    audit_ready: bool = False
    memory_enabled: bool = True
    target_exists: bool = True
    target_attrs: Mapping[str, Any] = field(default_factory=dict)
    #: node reference -> trust zone name (target and predicted impacted nodes)
    zones: Mapping[str, str] = field(default_factory=dict)
    zone_trust: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class EvalContext:
    """Everything one evaluation of the policy reads."""

    proposal: Proposal
    action_id: str
    spec: ActionSpec | None
    impact: ImpactSummary | None
    state: PolicyState
    now: int
    proposed_at: int
    phase: str = "propose"
