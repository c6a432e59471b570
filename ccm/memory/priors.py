"""The priors table the engine reads: what memory has learned about failures.

- per (change kind, target reference): a Beta(alpha, beta) posterior of failure,
  starting from the policy's prior for that kind (``memory.kind_priors``) and
  counting observed outcomes (failures add to alpha, clean outcomes to beta);
- per dependency edge (caller, callee): how often a failure of the callee was
  observed to reach the caller (:class:`EdgeEvidence`), to correct the engine's
  structural propagation probability.

The engine calls :meth:`Priors.p_fail` with its own structural probability as
``base`` (memory then weighs it as ``strength`` pseudo-observations) and
:meth:`Priors.propagation` for each edge it propagates over.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Beta:
    """A Beta(alpha, beta) distribution of a failure probability."""

    alpha: float = 1.0
    beta: float = 1.0

    @property
    def mean(self) -> float:
        return self.alpha / (self.alpha + self.beta)

    @property
    def strength(self) -> float:
        return self.alpha + self.beta

    def observe(self, failures: float, successes: float) -> Beta:
        return Beta(self.alpha + failures, self.beta + successes)

    def to_list(self) -> list[float]:
        return [self.alpha, self.beta]


@dataclass(frozen=True, slots=True)
class EdgeEvidence:
    """Failures of the callee that were observed to reach (``reached``) or spare the
    caller, out of ``observed``."""

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
    #: (change kind, target ref) -> (failures, clean outcomes) observed
    outcomes: Mapping[tuple[str, str], tuple[float, float]] = field(default_factory=dict)
    #: change kind -> Beta prior (``default`` for kinds not listed)
    kind_priors: Mapping[str, Beta] = field(default_factory=lambda: {"default": Beta(1, 19)})
    #: (caller ref, callee ref) -> evidence of propagation
    edges: Mapping[tuple[str, str], EdgeEvidence] = field(default_factory=dict)
    propagation_strength: float = 10.0

    def prior(self, kind: str) -> Beta:
        return self.kind_priors.get(kind) or self.kind_priors.get("default") or Beta(1, 19)

    def failure(self, kind: str, target: str) -> Beta:
        """The Beta posterior of failure for a change of ``kind`` on ``target``."""
        failures, clean = self.outcomes.get((kind, target), (0.0, 0.0))
        return self.prior(kind).observe(failures, clean)

    def p_fail(self, kind: str, target: str, base: float | None = None,
               strength: float | None = None) -> float:
        """Posterior mean failure probability. With ``base`` (the engine's structural
        estimate) the prior is Beta(base*s, (1-base)*s), s = ``strength`` (default:
        the kind prior's strength); without it, the kind prior from the policy."""
        failures, clean = self.outcomes.get((kind, target), (0.0, 0.0))
        if base is None:
            return self.failure(kind, target).mean
        s = self.prior(kind).strength if strength is None else strength
        base = min(max(base, 0.0), 1.0)
        return (base * s + failures) / (s + failures + clean)

    def propagation(self, caller: str, callee: str, base: float) -> float:
        """Probability that a failure of ``callee`` reaches ``caller``, corrected by
        memory; ``base`` unchanged when nothing was observed on that edge."""
        ev = self.edges.get((caller, callee))
        if ev is None or ev.observed == 0:
            return base
        return ev.posterior(base, self.propagation_strength)

    def observations(self, kind: str, target: str) -> tuple[float, float]:
        """(failures, clean outcomes) observed for ``kind`` on ``target``."""
        return self.outcomes.get((kind, target), (0.0, 0.0))

    def to_dict(self) -> dict:
        return {
            "tenant": self.tenant, "as_of": self.as_of,
            "failure": [{"kind": k, "target": t, "failures": f, "clean": c,
                         "posterior": self.failure(k, t).to_list()}
                        for (k, t), (f, c) in sorted(self.outcomes.items())],
            "edges": [{"caller": a, "callee": b, "reached": e.reached, "observed": e.observed}
                      for (a, b), e in sorted(self.edges.items())],
        }
