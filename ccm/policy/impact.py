"""The predicted impact the policy reads: a small, stored summary of the engine's Impact.

The engine's figures are *conditional on the action failing* (``nodes``,
``services``, ``traffic``) next to ``p_fail``. What the action risks as proposed
is the mixture: nothing with probability 1 - p_fail, the failing-case
distribution otherwise. Its 95th percentile is the failing case's quantile at
level L = 1 - 0.05 / p_fail, bounded from what the engine reports
(:meth:`ImpactSummary.risk_p95`):

- 0 when p_fail <= 5 % (most outcomes impact nothing);
- for traffic, 0 when p_fail x P(the failure reaches an entrypoint) <= 5 %, that
  probability bounded by the sum of the impacted entrypoints' probabilities
  (the keys of ``paths``);
- else at most the failing-case p50 when L <= 0.5 (p_fail <= 10 %), at most its
  p95 beyond (quantiles only grow with the level).

The policy depends only on these fields, so it is tested with hand-made values;
:meth:`ImpactSummary.from_impact` copies them from the engine's ``Impact``.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

#: node probabilities kept in the stored summary (the most likely first)
KEEP_NODES = 200
#: paths kept in the stored summary: those to the most likely impacted entrypoints
#: (a hub's restart reaches thousands; ``paths_total`` counts them all)
KEEP_PATHS = 100


class ImpactLike(Protocol):
    """What the policy reads from a predicted impact (figures given failure)."""

    p_fail: float
    services_p50: float
    services_p95: float
    traffic_p50: float
    traffic_p95: float
    node_probabilities: Mapping[str, float]


@dataclass(frozen=True)
class ImpactSummary:
    """Predicted blast radius of one action: ``p_fail``, and given failure, impacted
    services and impacted share of entrypoint traffic (0..1), node probabilities and
    paths (see the module docstring)."""

    p_fail: float
    services_mean: float = 0.0
    services_p50: float = 0.0
    services_p95: float = 0.0
    traffic_mean: float = 0.0
    traffic_p50: float = 0.0
    traffic_p95: float = 0.0
    node_probabilities: Mapping[str, float] = field(default_factory=dict)
    paths: Mapping[str, Sequence[str]] = field(default_factory=dict)
    samples: int = 0
    seed: int | None = None
    #: the entry-reach bound computed from every path, kept when ``paths`` is cut
    reach: float | None = None
    #: how many entrypoints have a path (``paths`` may hold only the likeliest)
    paths_total: int | None = None
    #: impacted(threshold), computed once per threshold (rules and state ask alike)
    _impacted: dict[float, list[str]] = field(default_factory=dict, init=False,
                                              compare=False, repr=False)

    def risk_p95(self, metric: str) -> float:
        """Upper bound of the 95th percentile of ``metric`` (``traffic`` or
        ``services``) over all outcomes, failing or not (see the module docstring)."""
        if self.p_fail <= 0.05:
            return 0.0
        if metric == "traffic" and self.p_fail * self.entry_reach() <= 0.05:
            return 0.0
        if self.p_fail <= 0.10:
            return float(getattr(self, f"{metric}_p50"))
        return float(getattr(self, f"{metric}_p95"))

    def entry_reach(self) -> float:
        """Upper bound of P(the failure impacts some entrypoint): the sum of the impacted
        entrypoints' probabilities, or 1 when the summary names no entrypoint but
        predicts impacted traffic."""
        if self.reach is not None:
            return self.reach
        if not self.paths:
            return 0.0 if self.traffic_p95 <= 0 and self.traffic_mean <= 0 else 1.0
        return min(1.0, sum(self.node_probabilities.get(e, 0.0) for e in self.paths))

    def impacted(self, threshold: float) -> list[str]:
        """Nodes whose predicted impact probability is at least ``threshold``."""
        found = self._impacted.get(threshold)
        if found is None:
            found = sorted(r for r, p in self.node_probabilities.items() if p >= threshold)
            self._impacted[threshold] = found
        return list(found)

    def to_dict(self) -> dict[str, Any]:
        """The stored form: the KEEP_NODES likeliest nodes, the paths to the KEEP_PATHS
        likeliest entrypoints, and the entry-reach bound and path count of them all."""
        probs = self.node_probabilities
        top = [(r, probs[r]) for r in _likeliest(KEEP_NODES, probs)]
        entries = _likeliest(KEEP_PATHS, {e: probs.get(e, 0.0) for e in self.paths})
        return {"p_fail": self.p_fail, "services_mean": self.services_mean,
                "services_p50": self.services_p50, "services_p95": self.services_p95,
                "traffic_mean": self.traffic_mean, "traffic_p50": self.traffic_p50,
                "traffic_p95": self.traffic_p95,
                "node_probabilities": {r: round(p, 6) for r, p in top},
                "paths": {e: list(self.paths[e]) for e in entries},
                "paths_total": len(self.paths) if self.paths_total is None else self.paths_total,
                "reach": self.entry_reach(), "samples": self.samples, "seed": self.seed}

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> ImpactSummary:
        return cls(**{k: raw[k] for k in cls.__dataclass_fields__ if k in raw})

    @classmethod
    def from_impact(cls, impact: Any) -> ImpactSummary:
        """Copy the fields the policy needs from an engine ``Impact`` (or a mapping)."""
        if isinstance(impact, ImpactSummary):
            return impact
        if isinstance(impact, Mapping):
            return cls.from_dict(impact)
        from ccm.engine.types import Impact

        if isinstance(impact, Impact):   # typed already: str -> float, str -> [str]
            return cls(impact.p_fail, impact.services.mean, impact.services.p50,
                       impact.services.p95, impact.traffic.mean, impact.traffic.p50,
                       impact.traffic.p95, dict(impact.nodes), dict(impact.paths),
                       impact.samples, impact.seed, reach=impact.reach,
                       paths_total=impact.paths_total)
        get = _getter(impact)
        return cls(
            p_fail=float(get("p_fail")),
            services_mean=float(get("services.mean", "services_mean")),
            services_p50=float(get("services.p50", "services_p50")),
            services_p95=float(get("services.p95", "services_p95")),
            traffic_mean=float(get("traffic.mean", "traffic_mean")),
            traffic_p50=float(get("traffic.p50", "traffic_p50")),
            traffic_p95=float(get("traffic.p95", "traffic_p95")),
            node_probabilities={str(k): float(v) for k, v in
                                dict(get("nodes", "node_probabilities") or {}).items()},
            paths={str(k): [str(r) for r in v] for k, v in
                   dict(get("paths", default={}) or {}).items()},
            samples=int(get("samples", default=0) or 0),
            seed=get("seed", default=None),
        )


def _likeliest(k: int, probs: Mapping[str, float]) -> list[str]:
    """The ``k`` most likely refs, most likely first, ties by name: a cut-off from the
    k largest values, then a sort of what reaches it (a hub's prediction has thousands)."""
    if len(probs) > k:
        cut = heapq.nlargest(k, probs.values())[-1]
        probs = {r: p for r, p in probs.items() if p >= cut}
    return sorted(probs, key=lambda r: (-probs[r], r))[:k]


_MISSING = object()


def _getter(obj: Any) -> Any:
    def get(*names: str, default: Any = _MISSING) -> Any:
        for name in names:
            value: Any = obj
            for part in name.split("."):
                value = (value.get(part, _MISSING) if isinstance(value, Mapping)
                         else getattr(value, part, _MISSING))
                if value is _MISSING:
                    break
            if value is not _MISSING:
                return value
        if default is _MISSING:
            raise AttributeError(f"the impact has none of {', '.join(names)}")
        return default
    return get
