"""A dry run of a proposal: the engine's predicted blast radius and the policy's verdict,
exactly as a proposal would get them, with nothing recorded (no action, no counters,
no audit entry)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ccm.actions.lifecycle import Controller
from ccm.actions.proposal import Proposal
from ccm.actions.records import ActionRecord
from ccm.policy.impact import ImpactSummary
from ccm.policy.types import Verdict

__all__ = ["DryRun", "dry_run"]


@dataclass(frozen=True)
class DryRun:
    """What proposing would say now: the verdict (with the predicted impact summary),
    the engine's full prediction when there is one, and why there is none otherwise."""

    proposal: Proposal
    verdict: Verdict
    impact: Any | None
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "action_id": self.proposal.action_id,
            "proposal": {k: v for k, v in self.proposal.to_dict().items() if k != "signature"},
            "verdict": self.verdict.to_dict(),
        }
        if self.impact is not None:
            out["verdict"]["impact"]["valid_at"] = _iso(getattr(self.impact, "valid_at", None))
            timings = getattr(self.impact, "timings", None)
            out["timings"] = timings.to_dict() if timings is not None else None
        if self.note:
            out["impact_note"] = self.note
        return out


def _iso(t: int | None) -> str | None:
    from graph_schema import format_time

    return format_time(t) if t is not None else None


def predict(ctl: Controller, p: Proposal, at: int) -> tuple[Any | None, str]:
    """The engine's prediction for ``p`` at ``at`` with the tenant's memory as priors, or
    None and the reason (the control plane must not fail because the engine did)."""
    spec = ctl.registry.get(p.action)
    if spec is None or ctl.predictor is None:
        return None, "no prediction: " + ("unregistered action" if spec is None
                                          else "no predictor configured")
    try:
        raw = ctl.predictor(ctl.store, p, spec, ctl.memory(p.tenant).priors(at), at)
    except Exception as exc:  # reported in the verdict, never a 500
        return None, f"the impact prediction failed: {type(exc).__name__}: {exc}"
    return (raw, "") if raw is not None else (None, "the engine is not available")


def dry_run(ctl: Controller, p: Proposal, at: int | None = None) -> DryRun:
    """Evaluate ``p`` as :meth:`Controller.propose` would, recording nothing.

    ``at`` is the valid time of the graph the prediction runs on (default: now)."""
    now = ctl.clock()
    errors = ctl.registry.check(p.action, p.target, p.inputs)
    raw, note = (None, "") if errors else predict(ctl, p, now if at is None else at)
    summary = ImpactSummary.from_impact(raw) if raw is not None else None
    rec = ActionRecord({"id": p.action_id, "proposal": p.to_dict(), "proposed_at": now,
                        "registry_errors": errors, "state": "proposed"}, 0)
    ctx = ctl.context(rec, summary, "propose")
    verdict = ctl.policy.decide(ctx, extra=ctl.registry_results(rec, ctx))
    return DryRun(p, verdict, raw, note)
