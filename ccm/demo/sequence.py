"""A sequence of actions and their outcomes through the control layer, on a simulated
production whose true failure rates CCM does not know.

Each step the demo agent proposes one of a few action patterns; the controller
predicts its impact and applies the policy; an action under review is approved by
the human approver; an allowed action executes, and its outcome is drawn from the
pattern's true failure rate (seeded: the same seed gives the same sequence). Every
outcome is written back to memory, so the engine's p(fail) for each pattern moves
from its structural prior toward what happened, and the policy reacts to it.
:func:`run_sequence` returns one :class:`Step` per action.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from ccm.demo.control import DemoControl

__all__ = ["DEMO_PATTERNS", "Pattern", "Step", "run_sequence"]

HOUR = 3600 * 1_000_000


@dataclass(frozen=True)
class Pattern:
    """An action an agent repeats, and how often it really fails (unknown to CCM);
    ``impacted`` are the nodes observed impacted when it does."""

    action: str
    target: str
    inputs: Mapping[str, Any] = field(default_factory=dict)
    true_rate: float = 0.1
    impacted: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return f"{self.action} {self.target}"


#: four patterns on the demo production: a risky model switch, two deploys, a restart
DEMO_PATTERNS = (
    Pattern("config_change", "service:recommendationservice",
            {"key": "RECOMMENDER_MODEL", "value": "two-tower-v2",
             "previous_value": "two-tower-v1"}, 0.5, ("service:frontend",)),
    Pattern("deploy", "service:adservice", {"version": "v0.10.4", "previous_version": "v0.10.3"},
            0.3, ("service:frontend",)),
    Pattern("deploy", "service:emailservice",
            {"version": "v0.10.4", "previous_version": "v0.10.3"}, 0.1, ()),
    Pattern("restart", "service:emailservice", {}, 0.02, ()),
)


@dataclass(frozen=True)
class Step:
    """One action of the sequence: what was proposed, the verdict, what happened, and the
    engine's p(fail) for the pattern before and after memory took the outcome in."""

    step: int
    time: int
    pattern: str
    action_id: str
    decision: str
    state: str
    predicted_p_fail: float | None
    outcome: str | None
    prior_mean: float
    true_rate: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _run_one(ctl: DemoControl, pattern: Pattern, i: int, rng: random.Random) -> Step:
    rec = ctl.propose(pattern.action, pattern.target, pattern.inputs, nonce=f"seq-{i}")
    verdict = rec.verdict
    assert verdict is not None
    if rec.state == "evaluated":  # under review: the approver agrees
        rec = ctl.approve(rec.id, note="reviewed in the demo sequence")
    outcome = None
    if rec.state == "approved":
        rec = ctl.controller.execute(rec.id)
        ctl.clock.now += 10 * 60 * 1_000_000
        failed = rng.random() < pattern.true_rate
        ctl.controller.record_outcome(rec.id, not failed,
                                      observed_impacted=list(pattern.impacted) if failed else [])
        outcome = "unhealthy" if failed else "healthy"
        rec = ctl.controller.get(rec.id)
    return Step(i, ctl.clock(), pattern.name, rec.id, verdict.decision, rec.state,
                verdict.impact.p_fail if verdict.impact else None, outcome,
                ctl.p_fail(pattern.action, pattern.target, pattern.inputs), pattern.true_rate)


def run_sequence(ctl: DemoControl, steps: int, *, patterns: Sequence[Pattern] = DEMO_PATTERNS,
                 seed: int = 0, every: int = 2 * HOUR) -> list[Step]:
    """Run ``steps`` actions, patterns in turn, one every ``every`` µs (see the module
    docstring). The draws depend on ``seed`` only."""
    rng = random.Random(seed)
    out = []
    for i in range(steps):
        ctl.clock.now += every
        out.append(_run_one(ctl, patterns[i % len(patterns)], i, rng))
    return out
