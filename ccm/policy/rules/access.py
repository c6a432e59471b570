"""Who may act where: identity binding, sandbox grants, network (trust-zone) boundary."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ccm.policy.context import EvalContext
from ccm.policy.rules.base import Duration, Rule, fmt_duration
from ccm.policy.types import Needs, RuleResult


class IdentityBinding(Rule):
    """Every proposal carries a signed identity: agent id, model name and version,
    signed (Ed25519) by the key registered for that agent. Unsigned proposals,
    unknown or revoked identities, bad signatures and model mismatches are refused;
    so is a proposal created more than ``max_age`` away from now (a replay)."""

    type: Literal["identity_binding"] = "identity_binding"
    max_age: Duration = 15 * 60 * 1_000_000

    def evaluate(self, ctx: EvalContext) -> RuleResult:
        p = ctx.proposal
        ident = ctx.state.identity
        if not p.signature:
            return self.refuse(f"the proposal is not signed (agent {p.agent!r})")
        if ident is None:
            return self.refuse(f"unknown identity {p.agent!r}: register it first")
        if ident.revoked:
            return self.refuse(f"identity {p.agent!r} has been revoked")
        if not p.signature_valid(ident.public_key):
            return self.refuse(f"the signature does not match {p.agent!r}'s registered key")
        if ident.model and p.model != ident.model:
            return self.refuse(f"{p.agent!r} is registered as model {ident.model!r}, the "
                               f"proposal says {p.model!r}")
        if ident.model_version and p.model_version != ident.model_version:
            return self.refuse(f"{p.agent!r} is registered as {ident.model} "
                               f"{ident.model_version!r}, the proposal says "
                               f"{p.model_version!r}")
        if ctx.phase == "propose" and abs(ctx.now - p.created_at) > self.max_age:
            return self.refuse(f"the proposal was created {fmt_duration(abs(ctx.now - p.created_at))}"
                               f" away from now (more than {fmt_duration(self.max_age)}): "
                               "stale or replayed")
        model = f"{p.model} {p.model_version}".strip() or "no model"
        return self.proceed(f"signed by {ident.kind} {p.agent!r} ({model})")


class SandboxGrants(Rule):
    """Write access is granted per agent, scoped to targets and action types, until an
    expiry, revocable. No active grant covering the action: refused."""

    type: Literal["sandbox_grants"] = "sandbox_grants"
    exempt_actions: list[str] = Field(default_factory=list)

    def evaluate(self, ctx: EvalContext) -> RuleResult:
        p = ctx.proposal
        if p.action in self.exempt_actions:
            return self.proceed(f"{p.action} needs no grant")
        covering = [g for g in ctx.state.grants
                    if g.agent == p.agent and g.covers(p.action, p.target)]
        active = [g for g in covering if g.status(ctx.now) == "active"]
        if active:
            best = max(active, key=lambda g: g.expires_at)
            return self.proceed(best.describe(ctx.now), grant=best.id)
        if covering:
            latest = max(covering, key=lambda g: (g.expires_at, g.id))
            return self.refuse(latest.describe(ctx.now), grant=latest.id)
        return self.refuse(f"no grant lets {p.agent!r} run {p.action} on {p.target}")


class NetworkBoundary(Rule):
    """An action whose target or predicted impact (nodes at or above
    ``impact_threshold``) reaches trust zones beyond the agent's declared zones
    (default: the target's own zone) needs approval (``on_cross``); touching a zone
    in ``refuse_zones`` is refused."""

    type: Literal["network_boundary"] = "network_boundary"
    impact_threshold: float = Field(default=0.05, ge=0, le=1)
    on_cross: Literal["review", "refuse"] = "review"
    refuse_zones: list[str] = Field(default_factory=list)
    approvals: int = Field(default=1, ge=1)
    STATIC = True

    def evaluate(self, ctx: EvalContext) -> RuleResult:
        zones = ctx.state.zones
        target = ctx.proposal.target
        touched: dict[str, list[str]] = {}
        refs = [target] + (ctx.impact.impacted(self.impact_threshold) if ctx.impact else [])
        for ref in refs:
            zone = zones.get(ref)
            if zone:
                touched.setdefault(zone, []).append(ref)
        if not touched:
            return self.proceed("no trust zones are declared for the target or its impact")
        forbidden = sorted(z for z in touched if z in self.refuse_zones)
        if forbidden:
            return self.refuse(f"reaches zone {forbidden[0]} ({_few(touched[forbidden[0]])}), "
                               "which this policy closes to agents")
        ident = ctx.state.identity
        allowed = set(ident.zones) if ident and ident.zones else {zones.get(target, "")}
        outside = sorted(z for z in touched if z not in allowed)
        if outside:
            what = "; ".join(f"{z}: {_few(touched[z])}" for z in outside)
            return self.decide(self.on_cross, f"crosses from {', '.join(sorted(allowed))} into "
                               f"{what}", Needs(self.approvals), zones=outside)
        return self.proceed(f"stays inside {', '.join(sorted(touched))}")


def _few(refs: list[str], n: int = 3) -> str:
    return ", ".join(refs[:n]) + (f" +{len(refs) - n}" if len(refs) > n else "")
