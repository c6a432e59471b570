"""The predicted impact the policy reads: a small, stored summary of the engine's Impact.

The policy depends only on :class:`ImpactLike` (the fields it reads), so it can be
tested with hand-made values and does not import the engine.
:meth:`ImpactSummary.from_impact` copies them from the engine's ``Impact``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

#: node probabilities kept in the stored summary (the most likely first)
KEEP_NODES = 200


class ImpactLike(Protocol):
    """What the policy reads from a predicted impact."""

    p_fail: float
    services_p95: float
    traffic_p95: float
    node_probabilities: Mapping[str, float]


@dataclass(frozen=True)
class ImpactSummary:
    """Predicted blast radius of one action (shares of entrypoint traffic are 0..1)."""

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

    def impacted(self, threshold: float) -> list[str]:
        """Nodes whose predicted impact probability is at least ``threshold``."""
        return sorted(r for r, p in self.node_probabilities.items() if p >= threshold)

    def to_dict(self) -> dict[str, Any]:
        top = sorted(self.node_probabilities.items(), key=lambda kv: (-kv[1], kv[0]))
        return {"p_fail": self.p_fail, "services_mean": self.services_mean,
                "services_p50": self.services_p50, "services_p95": self.services_p95,
                "traffic_mean": self.traffic_mean, "traffic_p50": self.traffic_p50,
                "traffic_p95": self.traffic_p95,
                "node_probabilities": {r: round(p, 6) for r, p in top[:KEEP_NODES]},
                "paths": {k: list(v) for k, v in self.paths.items()},
                "samples": self.samples, "seed": self.seed}

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
        get = _getter(impact)
        return cls(
            p_fail=float(get("p_fail")),
            services_mean=float(get("services_mean", "impacted_services.mean")),
            services_p50=float(get("services_p50", "impacted_services.p50")),
            services_p95=float(get("services_p95", "impacted_services.p95")),
            traffic_mean=float(get("traffic_mean", "traffic_share.mean")),
            traffic_p50=float(get("traffic_p50", "traffic_share.p50")),
            traffic_p95=float(get("traffic_p95", "traffic_share.p95")),
            node_probabilities={str(k): float(v) for k, v in
                                dict(get("node_probabilities", "nodes") or {}).items()},
            paths={str(k): [str(r) for r in v] for k, v in
                   dict(get("paths", default={}) or {}).items()},
            samples=int(get("samples", default=0) or 0),
            seed=get("seed", default=None),
        )


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
