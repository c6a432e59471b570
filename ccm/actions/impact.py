"""Predicting an action's impact with the engine, for the policy.

``Predictor`` is any callable ``(store, proposal, spec, priors, at) -> impact or
None``; the controller stores an :class:`~ccm.policy.impact.ImpactSummary` of it.
:func:`engine_predictor` asks :func:`ccm.engine.predict_impact`, with memory's
priors.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ccm.engine import ACTION_KINDS, Action, Impact, predict_impact
from ccm.memory.priors import Priors
from ccm.policy.impact import KEEP_PATHS
from ccm.policy.proposal import Proposal
from ccm.policy.registry import ActionSpec
from ccm.store import Store

Predictor = Callable[[Store, Proposal, ActionSpec, Priors, int], Any]

#: Monte Carlo samples (at most) and seed of the predictions the control plane makes
#: (the defaults of the API's settings, CCM_IMPACT_SAMPLES and CCM_IMPACT_PRECISION)
SAMPLES = 2000
SEED = 7
#: the relative precision they run to (95 % confidence; see
#: :func:`ccm.engine.impact.settled`): the sampling error stays far below the model's
#: own (its propagation probabilities are argued to one significant figure), and the
#: largest blast radii, whose cascades cost most, settle in half the cascades
PRECISION = 0.03
#: change kinds of the registry the engine has no action kind for, and the nearest one
#: (none today: a rollback is its own kind, with the lower prior of restoring a state
#: that worked)
NEAREST_KIND: dict[str, str] = {}


def engine_action(proposal: Proposal, spec: ActionSpec) -> Action:
    """The engine's view of a proposal: kind, target, keys, content."""
    inputs = dict(proposal.inputs)
    kind = spec.change_kind or "deploy"
    kind = kind if kind in ACTION_KINDS else NEAREST_KIND.get(kind, "deploy")
    keys = (str(inputs["key"]),) if isinstance(inputs.get("key"), str) else ()
    attributes: dict[str, Any] = {k: v for k, v in inputs.items()
                                  if k in ("version", "previous_version", "flag", "image")}
    if keys:
        attributes["diff"] = [{"key": keys[0], "old": inputs.get("previous_value"),
                               "new": inputs.get("value")}]
    return Action(kind=kind, target=proposal.target, keys=keys,
                  destructive=spec.destructive or bool(inputs.get("destructive")),
                  reversible=spec.reversible, attributes=attributes)


def engine_predictor(store: Store, proposal: Proposal, spec: ActionSpec, priors: Priors,
                     at: int, *, samples: int = SAMPLES, precision: float = PRECISION
                     ) -> Impact:
    """The engine's blast radius for ``proposal`` on the graph at ``at`` (at most
    ``samples`` Monte Carlo cascades, fewer once its figures are known to ``precision``;
    0: all of them)."""
    snapshot = store.snapshot(at)
    return predict_impact(snapshot, engine_action(proposal, spec), samples=samples, seed=SEED,
                          precision=precision, max_paths=KEEP_PATHS,
                          priors=priors)
