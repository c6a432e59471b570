"""The values a synthetic incident is made of (shared by scenario, noise and writers)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from ccm.bench.synth.faults import Cascade, Change, Fault
from ccm.bench.synth.world import World

__all__ = ["AlertSpec", "Ids", "Scenario"]


@dataclass
class AlertSpec:
    """An alert as the case files record it."""

    id: str
    time: int
    node: str          # reference
    signal: str
    severity: str
    ends_at: int | None = None


class Ids:
    """Unique, seeded identifiers (``chg-48213``, ``al-90411``) within one case."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[str] = set()

    def new(self, prefix: str) -> str:
        while (ident := f"{prefix}-{self.rng.randrange(10_000, 100_000)}") in self.used:
            pass
        self.used.add(ident)
        return ident


@dataclass
class Scenario:
    """One incident: the world, the fault and its cascade, every change and alert."""

    world: World
    fault: Fault
    cascade: Cascade
    symptom: str                  # name of the user-visible symptom
    changes: list[Change] = field(default_factory=list)
    alerts: list[AlertSpec] = field(default_factory=list)
    question_time: int = 0

    @property
    def category(self) -> str:
        if self.fault.cause:
            return self.fault.cause
        assert self.fault.change is not None
        return "delayed_onset" if self.fault.delayed else self.fault.change.kind

    @property
    def failed(self) -> list[str]:
        """Components that failed (clients excluded), sorted."""
        return sorted(n for n in self.cascade.time if not self.world.is_client(n))

    def truth_chain(self) -> list[str]:
        """The faulty change, the key it set (if any), then the propagation path; a
        fault with no change starts at its node."""
        ch = self.fault.change
        path = [self.world.topo.ref(n) for n in self.cascade.path_to(self.symptom)]
        if ch is None:
            return path
        head = [f"change:{ch.id}"]
        if ch.keys:
            head.append(f"config:{ch.target.split(':', 1)[1]}/{ch.keys[0][0]}")
        return head + path
