"""Verdicts: what each rule says about an action, and the strictest of them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ccm.policy.impact import ImpactSummary

PROCEED, REVIEW, REFUSE = "proceed", "review", "refuse"
DECISIONS = (PROCEED, REVIEW, REFUSE)
RANK = {PROCEED: 0, REVIEW: 1, REFUSE: 2}


@dataclass(frozen=True, slots=True)
class Needs:
    """What a ``review`` decision needs before the action may execute."""

    approvals: int = 0
    human: bool = False
    signature: bool = False

    def __or__(self, other: Needs) -> Needs:
        return Needs(max(self.approvals, other.approvals), self.human or other.human,
                     self.signature or other.signature)

    def describe(self) -> str:
        if not self.approvals:
            return "nothing"
        who = "human " if self.human else ""
        signed = ", one of them a signed human approval" if self.signature else ""
        return f"{self.approvals} {who}approval{'s' if self.approvals > 1 else ''}{signed}"

    def to_dict(self) -> dict[str, Any]:
        return {"approvals": self.approvals, "human": self.human, "signature": self.signature}

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Needs:
        return cls(int(raw.get("approvals", 0)), bool(raw.get("human")),
                   bool(raw.get("signature")))


NO_NEEDS = Needs()


@dataclass(frozen=True, slots=True)
class RuleResult:
    """One rule's decision about one action, with its reason."""

    rule: str
    type: str
    decision: str
    reason: str
    needs: Needs = NO_NEEDS
    data: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"rule": self.rule, "type": self.type,
                               "decision": self.decision, "reason": self.reason}
        if self.needs.approvals:
            out["needs"] = self.needs.to_dict()
        if self.data:
            out["data"] = dict(self.data)
        return out

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> RuleResult:
        return cls(raw["rule"], raw["type"], raw["decision"], raw["reason"],
                   Needs.from_dict(raw.get("needs", {})), raw.get("data", {}))


@dataclass(frozen=True)
class Verdict:
    """The strictest rule's decision, every rule's reason, and the predicted impact."""

    decision: str
    results: tuple[RuleResult, ...]
    impact: ImpactSummary | None
    needs: Needs = NO_NEEDS
    dry_run: bool = False
    evaluated_at: int = 0
    phase: str = "propose"

    @classmethod
    def of(cls, results: Iterable[RuleResult], impact: ImpactSummary | None, *,
           evaluated_at: int = 0, phase: str = "propose") -> Verdict:
        results = tuple(results)
        decision = PROCEED
        needs = NO_NEEDS
        dry_run = False
        for r in results:
            if RANK[r.decision] > RANK[decision]:
                decision = r.decision
            if r.decision == REVIEW:
                needs = needs | (r.needs if r.needs.approvals else Needs(1))
            dry_run = dry_run or bool(r.data.get("dry_run"))
        return cls(decision, results, impact, needs, dry_run, evaluated_at, phase)

    @property
    def reasons(self) -> list[str]:
        return [f"{r.rule}: {r.decision}: {r.reason}" for r in self.results]

    def by_decision(self, decision: str) -> list[RuleResult]:
        return [r for r in self.results if r.decision == decision]

    def to_dict(self) -> dict[str, Any]:
        return {"decision": self.decision, "needs": self.needs.to_dict(),
                "dry_run": self.dry_run, "evaluated_at": self.evaluated_at,
                "phase": self.phase, "results": [r.to_dict() for r in self.results],
                "impact": self.impact.to_dict() if self.impact else None}

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Verdict:
        impact = ImpactSummary.from_dict(raw["impact"]) if raw.get("impact") else None
        return cls(raw["decision"], tuple(RuleResult.from_dict(r) for r in raw["results"]),
                   impact, Needs.from_dict(raw.get("needs", {})), bool(raw.get("dry_run")),
                   int(raw.get("evaluated_at", 0)), str(raw.get("phase", "propose")))
