"""What memory tells the engine about past outcomes: the priors interface.

``ccm.memory`` supplies a :class:`Priors` (any object with ``lookup`` and
``balance``); the engine combines its outcome counts with the structural prior of
:mod:`ccm.engine.model` by a Beta update, so a target that failed often gets a
higher q(c) and one that never failed a lower one. ``balance`` gives, per component
kind, how many resolved incidents on that kind were spontaneous failures and how many
were caused by a change; the engine moves the kind's spontaneous failure rate by it
(:func:`ccm.engine.model.spontaneous_rate`). Without memory, :data:`NO_PRIORS`
changes nothing.

>>> table = PriorTable({("deploy", "service:cart"): Beta(3, 1)})
>>> table.lookup("deploy", "service:cart")
Beta(alpha=3.0, beta=1.0)
>>> table.lookup("deploy", "service:other") is None
True
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

#: the wildcard target of a PriorTable entry that applies to every target of a kind
ANY = "*"


@dataclass(frozen=True, slots=True)
class Beta:
    """Observed outcome counts for one (change kind, target): ``alpha`` failures and
    ``beta`` successes, without pseudo-counts (the engine brings its own prior of
    strength :attr:`Params.prior_strength` centred on the structural q)."""

    alpha: float
    beta: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "alpha", float(self.alpha))
        object.__setattr__(self, "beta", float(self.beta))
        if self.alpha < 0 or self.beta < 0:
            raise ValueError(f"Beta counts must be >= 0, got {self.alpha}, {self.beta}")

    def update(self, q0: float, strength: float) -> float:
        """Posterior mean failure probability from prior mean ``q0`` of ``strength``."""
        return (strength * q0 + self.alpha) / (strength + self.alpha + self.beta)


@runtime_checkable
class Priors(Protocol):
    """Memory's outcome counts per (change kind, target reference)."""

    def lookup(self, change_kind: str, target: str) -> Beta | None: ...

    def balance(self, component_kind: str) -> Beta | None:
        """Resolved incidents whose failing component was of this kind: ``alpha`` that
        failed on their own, ``beta`` that a change caused; None when none."""
        ...


class PriorTable:
    """A mapping ``(change kind, target ref) -> Beta``; ``(kind, "*")`` is a fallback
    for every target of that kind; ``balance`` maps a component kind to its incidents'
    Beta(spontaneous, change-caused)."""

    def __init__(self, table: Mapping[tuple[str, str], Beta] | None = None,
                 balance: Mapping[str, Beta] | None = None) -> None:
        self._table = dict(table or {})
        self._balance = dict(balance or {})

    def lookup(self, change_kind: str, target: str) -> Beta | None:
        return self._table.get((change_kind, target)) or self._table.get((change_kind, ANY))

    def balance(self, component_kind: str) -> Beta | None:
        return self._balance.get(component_kind)

    def __len__(self) -> int:
        return len(self._table)


NO_PRIORS = PriorTable()
