"""ccm.engine: blast radius and root-cause chains over a CSR snapshot of the graph.

>>> from ccm.engine import Action, predict_impact, root_causes   # doctest: +SKIP
>>> snap = store.snapshot(valid_at)                               # doctest: +SKIP
>>> predict_impact(snap, Action("deploy", "service:cart")).traffic.p95   # doctest: +SKIP
>>> root_causes(snap).chains[0].nodes                             # doctest: +SKIP

The model's parameters live in :mod:`ccm.engine.params`; the kernels in
:mod:`ccm.engine.kernels`; their networkx twins in :mod:`ccm.engine.oracle`.
"""

from __future__ import annotations

from ccm.engine.impact import (
    ImpactSamples,
    action_prior,
    impact_samples,
    predict_impact,
    resolve,
)
from ccm.engine.kernels import compile_seconds, warm_up
from ccm.engine.params import DEFAULT_PARAMS, Params
from ccm.engine.priors import NO_PRIORS, Beta, Priors, PriorTable
from ccm.engine.rca import root_causes, symptoms_from_alerts
from ccm.engine.snapshot import Snapshot, build_snapshot
from ccm.engine.types import (
    ACTION_KINDS,
    Action,
    Chain,
    Distribution,
    Impact,
    Link,
    RootCauses,
    Symptom,
    Timings,
)

__all__ = [
    "ACTION_KINDS", "Action", "Beta", "Chain", "DEFAULT_PARAMS", "Distribution", "Impact",
    "ImpactSamples",
    "Link", "NO_PRIORS", "Params", "PriorTable", "Priors", "RootCauses", "Snapshot",
    "Symptom", "Timings", "action_prior", "build_snapshot", "compile_seconds",
    "impact_samples", "predict_impact", "resolve", "root_causes", "symptoms_from_alerts", "warm_up",
]
