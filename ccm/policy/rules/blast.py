"""Blast radius bounded: the predicted p95 of impacted entrypoint traffic and of
impacted services must stay under per-tier thresholds."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ccm.policy.context import EvalContext
from ccm.policy.rules.base import Rule
from ccm.policy.types import PROCEED, RANK, REFUSE, REVIEW, Needs, RuleResult


class Bound(BaseModel):
    """Above ``review`` needs review; above ``refuse`` is refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    review: float = Field(ge=0)
    refuse: float = Field(ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> Bound:
        if self.refuse < self.review:
            raise ValueError("refuse must be at least review")
        return self

    def decision(self, value: float) -> str:
        if value > self.refuse:
            return REFUSE
        return REVIEW if value > self.review else PROCEED


class TierBounds(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    traffic: Bound
    services: Bound


DEFAULT_TIERS = {
    "critical": TierBounds(traffic=Bound(review=0.01, refuse=0.10),
                           services=Bound(review=1, refuse=4)),
    "high": TierBounds(traffic=Bound(review=0.05, refuse=0.20),
                       services=Bound(review=2, refuse=6)),
    "medium": TierBounds(traffic=Bound(review=0.10, refuse=0.35),
                         services=Bound(review=3, refuse=8)),
    "low": TierBounds(traffic=Bound(review=0.25, refuse=0.60),
                      services=Bound(review=5, refuse=12)),
}


class BlastRadius(Rule):
    """Per tier (the target's ``tier`` attribute, else ``default_tier``): p95 of the
    predicted impacted entrypoint traffic share (0..1) and of impacted services.

    ``basis: risk`` (default) bounds the p95 over every outcome of the action, which
    weighs the failing case by ``p_fail`` (:meth:`ImpactSummary.risk_p95`);
    ``basis: if_failed`` bounds the p95 of the failing case alone."""

    type: Literal["blast_radius"] = "blast_radius"
    basis: Literal["risk", "if_failed"] = "risk"
    tiers: dict[str, TierBounds] = Field(default_factory=lambda: dict(DEFAULT_TIERS))
    default_tier: str = "medium"
    missing_impact: Literal["proceed", "review", "refuse"] = "review"
    approvals: int = Field(default=1, ge=1)
    STATIC = True

    @model_validator(mode="after")
    def _has_default(self) -> BlastRadius:
        if self.default_tier not in self.tiers:
            raise ValueError(f"default_tier {self.default_tier!r} has no thresholds in tiers")
        return self

    def evaluate(self, ctx: EvalContext) -> RuleResult:
        impact = ctx.impact
        if impact is None:
            return self.decide(self.missing_impact, "no impact prediction is available",
                               Needs(self.approvals))
        tier = str(ctx.state.target_attrs.get("tier") or self.default_tier)
        bounds = self.tiers.get(tier) or self.tiers[self.default_tier]
        if self.basis == "risk":
            traffic, services = impact.risk_p95("traffic"), impact.risk_p95("services")
        else:
            traffic, services = impact.traffic_p95, impact.services_p95
        t_dec = bounds.traffic.decision(traffic)
        s_dec = bounds.services.decision(services)
        decision = t_dec if RANK[t_dec] >= RANK[s_dec] else s_dec
        at_most = " at most" if self.basis == "risk" else ""
        reach = (f" x P(reaches an entrypoint) at most {impact.entry_reach():.1%}"
                 if self.basis == "risk" and impact.paths else "")
        reason = (f"p95 impacted traffic{at_most} {traffic:.1%} "
                  f"({_limits(bounds.traffic, True)}), p95 impacted services{at_most} "
                  f"{services:g} ({_limits(bounds.services, False)}), tier {tier}; "
                  f"p(fail) {impact.p_fail:.1%}{reach}; if it fails: p95 traffic "
                  f"{impact.traffic_p95:.1%}, p95 services {impact.services_p95:g}")
        return self.decide(decision, reason, Needs(self.approvals), tier=tier,
                           traffic_p95=traffic, services_p95=services, basis=self.basis)


def _limits(b: Bound, share: bool) -> str:
    fmt = "{:.1%}" if share else "{:g}"
    return f"review above {fmt.format(b.review)}, refuse above {fmt.format(b.refuse)}"
