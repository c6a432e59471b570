"""Limits on volume: rate limits per service or agent, and circuit breakers per session."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ccm.policy.context import EvalContext
from ccm.policy.rules.base import Duration, Rule, fmt_duration
from ccm.policy.types import RuleResult


class RateLimit(Rule):
    """At most ``limit`` actions per ``window`` per service (the target) or per agent,
    counting the proposals made before this one."""

    type: Literal["rate_limit"] = "rate_limit"
    per: Literal["service", "agent"] = "service"
    limit: int = Field(ge=0)
    window: Duration
    on_exceed: Literal["review", "refuse"] = "refuse"
    STATIC = True

    def scope(self, ctx: EvalContext) -> str:
        p = ctx.proposal
        return p.target if self.per == "service" else f"agent:{p.agent}"

    def evaluate(self, ctx: EvalContext) -> RuleResult:
        scope = self.scope(ctx)
        events = ctx.state.rate_events.get(scope, ())
        since = ctx.proposed_at - self.window
        count = 0
        for t, action_id in events:
            if action_id == ctx.action_id:
                break
            if since < t <= ctx.proposed_at:
                count += 1
        what = f"{count} earlier action{'s' if count != 1 else ''} on {scope} in the last " \
               f"{fmt_duration(self.window)} (limit {self.limit})"
        if count >= self.limit:
            return self.decide(self.on_exceed, what, count=count)
        return self.proceed(what, count=count)


class CircuitBreaker(Rule):
    """Per session (a plan): a maximum plan length, a maximum number of calls, and a
    hard stop after a failed step."""

    type: Literal["circuit_breaker"] = "circuit_breaker"
    max_plan_length: int = Field(default=20, ge=1)
    max_calls_per_session: int = Field(default=50, ge=1)
    stop_after_failure: bool = True

    def evaluate(self, ctx: EvalContext) -> RuleResult:
        p = ctx.proposal
        if p.plan_length > self.max_plan_length:
            return self.refuse(f"plan of {p.plan_length} steps exceeds the maximum of "
                               f"{self.max_plan_length}")
        if p.step < 1 or p.step > p.plan_length:
            return self.refuse(f"step {p.step} is outside a plan of {p.plan_length} steps")
        if not p.session:
            return self.proceed(f"step {p.step} of {p.plan_length} (no session)")
        calls = list(ctx.state.session_calls)
        n = calls.index(ctx.action_id) + 1 if ctx.action_id in calls else len(calls) + 1
        if n > self.max_calls_per_session:
            return self.refuse(f"call {n} of session {p.session} exceeds the maximum of "
                               f"{self.max_calls_per_session}")
        failed = ctx.state.session_failed
        if self.stop_after_failure and failed and failed != ctx.action_id:
            return self.refuse(f"hard stop: {failed} in session {p.session} failed")
        return self.proceed(f"call {n} of session {p.session}, step {p.step} of "
                            f"{p.plan_length}")
