"""The root-cause methods the harness compares: the causal engine and the baselines.

Every method answers the same :class:`~ccm.bench.question.Question` (the same
ingested store at the question time) with ranked :class:`~ccm.bench.methods.base.Ranked`
hypotheses. :func:`all_methods` returns them by name, the causal engine (``ccm``)
first.
"""

from __future__ import annotations

from ccm.bench.methods import engine
from ccm.bench.methods.alert_correlation import AlertCorrelation
from ccm.bench.methods.alerting_service_change import AlertingServiceChange
from ccm.bench.methods.base import Method, Ranked
from ccm.bench.methods.latest_change import LatestChange
from ccm.bench.methods.random_walk import RandomWalk
from ccm.errors import ConfigError

__all__ = ["BASELINES", "Method", "Ranked", "all_methods", "pick"]

BASELINES: tuple[Method, ...] = (LatestChange(), AlertingServiceChange(), RandomWalk(),
                                 AlertCorrelation())


def all_methods(engine_threads: int | None = 1) -> dict[str, Method]:
    """Every method, by name: ``ccm`` first, then the baselines."""
    out: dict[str, Method] = {"ccm": engine.CausalEngine(engine_threads)}
    out.update((m.name, m) for m in BASELINES)
    return out


def pick(names: str | None, engine_threads: int | None = 1) -> dict[str, Method]:
    """Methods named in a comma-separated list (None: all of them), or ConfigError."""
    known = all_methods(engine_threads)
    if not names:
        return known
    out: dict[str, Method] = {}
    for name in (n.strip() for n in names.split(",") if n.strip()):
        if name not in known:
            raise ConfigError(f"unknown method {name!r} (known: {', '.join(known)})")
        out[name] = known[name]
    return out
