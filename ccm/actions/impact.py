"""Predicting an action's impact with the engine, for the policy.

``Predictor`` is any callable ``(store, proposal, spec, priors, at) -> impact or
None``; the controller stores :class:`~ccm.policy.impact.ImpactSummary` of it.
:func:`engine_predictor` uses :func:`ccm.engine.predict_impact`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from ccm.actions.proposal import Proposal
from ccm.actions.registry import ActionSpec
from ccm.memory.priors import Priors
from ccm.store import Store

Predictor = Callable[[Store, Proposal, ActionSpec, Priors, int], Any]

#: Monte Carlo samples and seed for predictions made by the control plane
SAMPLES = 2000
SEED = 7


def engine_predictor(store: Store, proposal: Proposal, spec: ActionSpec, priors: Priors,
                     at: int) -> Any:
    """The engine's prediction for ``proposal`` (None when the engine is not installed)."""
    try:
        engine = importlib.import_module("ccm.engine")
    except ImportError:
        return None
    inputs = proposal.inputs
    keys = [str(inputs["key"])] if isinstance(inputs.get("key"), str) else []
    destructive = spec.destructive or bool(inputs.get("destructive"))
    action = engine.Action(kind=spec.change_kind or spec.name, target=proposal.target,
                           keys=tuple(keys), destructive=destructive,
                           reversible=spec.reversible)
    snapshot = store.snapshot(valid_at=at)  # type: ignore[attr-defined]
    return engine.predict_impact(snapshot, action, samples=SAMPLES, seed=SEED, priors=priors)
