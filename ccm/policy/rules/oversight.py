"""Human oversight: kill switches, quorum gates, drift detection, earned autonomy."""

from __future__ import annotations

from collections import Counter
from typing import Literal

from pydantic import Field

from ccm.policy.context import EvalContext
from ccm.policy.rules.base import Duration, Rule, fmt_duration
from ccm.policy.types import Needs, RuleResult
from graph_schema import format_time

LEVELS = ("advisory", "review", "autonomous")
Risk = Literal["low", "medium", "high", "critical"]
Level = Literal["advisory", "review", "autonomous"]
DEFAULT_QUORUM: dict[Risk, int] = {"high": 2, "critical": 3}
DEFAULT_INITIAL: dict[Risk, Level] = {"low": "autonomous", "medium": "review",
                                      "high": "review", "critical": "advisory"}
MINUTE = 60 * 1_000_000


def switch_scopes(action: str, target: str, agent: str) -> list[str]:
    """The kill-switch scopes that apply to an action, broadest first."""
    return ["global", target, f"agent:{agent}", f"action:{action}"]


class KillSwitch(Rule):
    """Global pause, scoped pause (a target, an agent, an action type), and dry-run
    mode: read on every evaluation, and again right before execution."""

    type: Literal["kill_switch"] = "kill_switch"

    def evaluate(self, ctx: EvalContext) -> RuleResult:
        p = ctx.proposal
        dry = []
        for scope in switch_scopes(p.action, p.target, p.agent):
            sw = ctx.state.switches.get(scope)
            if sw is None:
                continue
            if sw.paused:
                why = f": {sw.reason}" if sw.reason else ""
                return self.refuse(f"paused ({scope}) by {sw.by or '?'} at "
                                   f"{format_time(sw.at)}{why}", scope=scope)
            if sw.dry_run:
                dry.append(scope)
        if dry:
            return self.proceed(f"dry-run mode ({', '.join(dry)}): nothing will execute for "
                                "real", dry_run=True)
        return self.proceed("no kill switch applies")


class QuorumGate(Rule):
    """High-severity actions need N approvals from distinct identities (never the
    proposer's own)."""

    type: Literal["quorum"] = "quorum"
    approvals: dict[Risk, int] = Field(default_factory=lambda: dict(DEFAULT_QUORUM))
    human: bool = False
    STATIC = True

    def evaluate(self, ctx: EvalContext) -> RuleResult:
        risk = ctx.spec.risk if ctx.spec else "critical"
        n = self.approvals.get(risk, 0)  # type: ignore[call-overload]
        if n <= 0:
            return self.proceed(f"risk {risk} needs no quorum")
        who = "human " if self.human else ""
        return self.review(f"risk {risk} needs {n} {who}approvals from distinct identities "
                           "other than the proposer", Needs(n, human=self.human))


class DriftDetection(Rule):
    """An agent's running behaviour (action mix, plan length, call rate over
    ``window``) is compared with what it declared; a deviation needs review and
    raises an alarm (an audit entry and an event)."""

    type: Literal["drift_detection"] = "drift_detection"
    window: Duration = 60 * MINUTE
    min_samples: int = Field(default=10, ge=1)
    mix_tolerance: float = Field(default=0.3, gt=0, le=1)
    rate_tolerance: float = Field(default=0.5, ge=0)
    STATIC = True

    def evaluate(self, ctx: EvalContext) -> RuleResult:
        ident = ctx.state.identity
        declared = dict(ident.declared) if ident else {}
        if not declared:
            return self.proceed("no declared behaviour to compare with")
        p = ctx.proposal
        recent = [e for e in ctx.state.activity
                  if ctx.proposed_at - self.window < int(e["t"]) <= ctx.proposed_at]
        if not any(e.get("id") == ctx.action_id for e in recent):
            recent.append({"t": ctx.proposed_at, "action": p.action, "id": ctx.action_id})
        found = self._deviations(declared, recent, ctx)
        if found:
            return self.review("drift from declared behaviour: " + "; ".join(found),
                               alarm=True, deviations=found)
        return self.proceed(f"matches declared behaviour ({len(recent)} actions in the last "
                            f"{fmt_duration(self.window)})")

    def _deviations(self, declared: dict, recent: list, ctx: EvalContext) -> list[str]:
        p = ctx.proposal
        out = []
        mix = {k: float(v) for k, v in (declared.get("action_mix") or {}).items()}
        if mix and p.action not in mix:
            out.append(f"{p.action} is not in its declared action mix")
        max_plan = declared.get("max_plan_length")
        if max_plan is not None and p.plan_length > int(max_plan):
            out.append(f"plan of {p.plan_length} steps, declared at most {max_plan}")
        rate = declared.get("calls_per_minute")
        if rate is not None:
            last_minute = sum(1 for e in recent if ctx.proposed_at - MINUTE < int(e["t"]))
            if last_minute > float(rate) * (1 + self.rate_tolerance):
                out.append(f"{last_minute} calls in the last minute, declared {rate}/min")
        total = sum(mix.values())
        if mix and total > 0 and len(recent) >= self.min_samples:
            seen = Counter(str(e["action"]) for e in recent)
            names = set(seen) | set(mix)
            tvd = 0.5 * sum(abs(seen[n] / len(recent) - mix.get(n, 0) / total) for n in names)
            if tvd > self.mix_tolerance:
                out.append(f"action mix differs from the declared one by {tvd:.2f} (total "
                           f"variation; tolerance {self.mix_tolerance:g})")
        return out


class EarnedAutonomy(Rule):
    """Per (action type, target) a ladder advisory -> review -> autonomous: promoted
    after ``promote_after`` clean outcomes in a row, demoted on a failure. Advisory
    needs a human approval, review any approval, autonomous nothing."""

    type: Literal["earned_autonomy"] = "earned_autonomy"
    initial: dict[Risk, Level] = Field(default_factory=lambda: dict(DEFAULT_INITIAL))
    promote_after: int = Field(default=50, ge=1)
    demote_to: Literal["previous", "advisory"] = "previous"

    def level_for(self, risk: str, state: dict | None) -> str:
        if state and state.get("level") in LEVELS:
            return str(state["level"])
        return self.initial.get(risk, "advisory")  # type: ignore[call-overload]

    def evaluate(self, ctx: EvalContext) -> RuleResult:
        p = ctx.proposal
        risk = ctx.spec.risk if ctx.spec else "critical"
        state = dict(ctx.state.autonomy or {})
        level = self.level_for(risk, state)
        clean = int(state.get("clean", 0))
        where = f"{p.action} on {p.target}"
        if level == "autonomous":
            return self.proceed(f"{where} is autonomous (earned or granted)", level=level)
        nxt = LEVELS[LEVELS.index(level) + 1]
        progress = f"{clean}/{self.promote_after} clean outcomes to {nxt}"
        if level == "advisory":
            return self.review(f"{where} is advisory: a human decides ({progress})",
                               Needs(1, human=True), level=level)
        return self.review(f"{where} needs review ({progress})", Needs(1), level=level)
