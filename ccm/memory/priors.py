"""The priors table the engine reads: what memory has learned about failures.

- per (change kind, target reference): the outcomes observed, as the engine's
  :class:`~ccm.engine.priors.Beta` of counts (``alpha`` failures, ``beta`` clean
  outcomes). :meth:`Priors.lookup` is the
  engine's :class:`ccm.engine.priors.Priors` protocol: the engine centres a
  Beta(s*q, s*(1-q)) prior on its structural failure probability q (strength s,
  ``Params.prior_strength``) and updates it with these counts, so the posterior is
  Beta(s*q + alpha, s*(1-q) + beta) (:func:`posterior`);
- per component kind: how many resolved incidents on that kind were spontaneous
  failures and how many a change caused, as Beta(spontaneous, change-caused)
  (:meth:`Priors.balance`, the engine's protocol): the engine moves the kind's
  spontaneous failure rate by it (``ccm.engine.model.spontaneous_rate``);
- per dependency edge (caller, callee): how often a failure of the callee was
  observed to reach the caller (:class:`EdgeEvidence`). Memory writes the
  resulting estimate back as the edge's ``propagation`` attribute, which the
  engine blends with its structural probability.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ccm.engine.priors import Beta


def posterior(counts: Beta, q0: float, strength: float) -> tuple[float, float]:
    """The posterior Beta(alpha', beta') of failure from a prior of mean ``q0`` and weight
    ``strength`` updated with ``counts`` (the engine's update, whose mean is
    ``counts.update(q0, strength)``)."""
    return strength * q0 + counts.alpha, strength * (1.0 - q0) + counts.beta


@dataclass(frozen=True, slots=True)
class EdgeEvidence:
    """Failures of the callee that were observed to reach (``reached``) the caller, out
    of ``observed``."""

    reached: float = 0.0
    observed: float = 0.0

    def posterior(self, base: float, strength: float) -> float:
        """The propagation probability after the evidence, with ``base`` weighing as
        ``strength`` pseudo-observations."""
        base = min(max(base, 0.0), 1.0)
        return (base * strength + self.reached) / (strength + self.observed)

    def add(self, reached: bool) -> EdgeEvidence:
        return EdgeEvidence(self.reached + (1.0 if reached else 0.0), self.observed + 1.0)


@dataclass(frozen=True)
class Priors:
    """What memory learned, for one tenant, as of one time (see the module docstring)."""

    tenant: str = "default"
    as_of: int = 0
    #: (change kind, target ref) -> observed outcome counts
    outcomes: Mapping[tuple[str, str], Beta] = field(default_factory=dict)
    #: (caller ref, callee ref) -> evidence of propagation
    edges: Mapping[tuple[str, str], EdgeEvidence] = field(default_factory=dict)
    propagation_strength: float = 2.0
    #: component kind -> Beta(spontaneous, change-caused) resolved incidents
    balances: Mapping[str, Beta] = field(default_factory=dict)

    def balance(self, component_kind: str) -> Beta | None:
        """Resolved incidents on ``component_kind``: Beta(spontaneous, change-caused);
        None when there were none (the engine's priors protocol)."""
        return self.balances.get(component_kind)

    def lookup(self, change_kind: str, target: str) -> Beta | None:
        """Outcome counts for ``change_kind`` on ``target``; None when nothing was seen
        (the engine's priors protocol)."""
        return self.outcomes.get((change_kind, target))

    def p_fail(self, change_kind: str, target: str, base: float,
               strength: float = 10.0) -> float:
        """Posterior mean failure probability from a structural prior ``base``."""
        seen = self.lookup(change_kind, target)
        return base if seen is None else seen.update(base, strength)

    def propagation(self, caller: str, callee: str, base: float) -> float:
        """Probability that a failure of ``callee`` reaches ``caller``, corrected by the
        evidence; ``base`` unchanged when nothing was observed on that edge."""
        ev = self.edges.get((caller, callee))
        if ev is None or ev.observed == 0:
            return base
        return ev.posterior(base, self.propagation_strength)

    def to_dict(self) -> dict[str, Any]:
        return {
            "tenant": self.tenant, "as_of": self.as_of,
            "outcomes": [{"kind": k, "target": t, "failures": b.alpha, "clean": b.beta}
                         for (k, t), b in sorted(self.outcomes.items())],
            "edges": [{"caller": a, "callee": c, "reached": e.reached, "observed": e.observed}
                      for (a, c), e in sorted(self.edges.items())],
            "balance": [{"component_kind": k, "spontaneous": b.alpha, "change_caused": b.beta}
                        for k, b in sorted(self.balances.items())],
        }
