"""A dry run of a proposal: the engine's predicted blast radius and the policy's verdict,
exactly as proposing would get them, with nothing recorded (no action, no counters, no
audit entry). :meth:`ccm.actions.lifecycle.Controller.dry_run` makes one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ccm.policy.proposal import Proposal
from ccm.policy.types import Verdict
from graph_schema import format_time

__all__ = ["DryRun"]


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
            valid_at = getattr(self.impact, "valid_at", None)
            out["verdict"]["impact"]["valid_at"] = (format_time(valid_at)
                                                    if valid_at is not None else None)
            out["verdict"]["impact"]["revision"] = getattr(self.impact, "revision", None)
            timings = getattr(self.impact, "timings", None)
            out["timings"] = timings.to_dict() if timings is not None else None
        if self.note:
            out["impact_note"] = self.note
        return out
