"""Blast radius: what an action's failure would impact, and how likely.

:func:`predict_impact` computes, conditional on the action failing, each node's
impact probability (noisy-OR fixpoint), the distribution of impacted components
and of impacted entrypoint traffic (seeded parallel Monte Carlo cascades), and
the most probable path to each impacted entrypoint; ``p_fail`` comes from the
same prior model as changes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numba
import numpy as np

from ccm.engine.kernels import (
    _cascades,
    _max_product,
    _noisy_or_dense,
    parallel_lock,
    warm_up,
)
from ccm.engine.model import change_prior
from ccm.engine.params import DEFAULT_PARAMS, Params
from ccm.engine.priors import NO_PRIORS, Priors
from ccm.engine.snapshot import Snapshot
from ccm.engine.types import Action, Distribution, Impact, Timings
from ccm.errors import InvalidRequest


def resolve(snapshot: Snapshot, name: str) -> str:
    """A node reference for ``name``: a reference present in the snapshot, or the bare
    name of exactly one component."""
    if name in snapshot.index:
        return name
    if ":" not in name:
        found = [r for i, r in enumerate(snapshot.refs)
                 if snapshot.component[i] and r.split(":", 1)[1] == name]
        if len(found) == 1:
            return found[0]
        if found:
            raise InvalidRequest(f"{name!r} names several nodes ({', '.join(found)}): "
                                 "give the full reference")
    snapshot.node(name)  # raises NotFound naming the time
    return name


def action_seeds(snapshot: Snapshot, action: Action, params: Params = DEFAULT_PARAMS
                 ) -> tuple[np.ndarray, np.ndarray]:
    """The nodes that fail first when ``action`` fails, with their probabilities: the
    config nodes of the keys a config change sets (a key unknown to the graph makes its
    owner fail with ``p_config``), else the target itself."""
    target = snapshot.node(action.target)
    seeds: list[int] = []
    probs: list[float] = []
    if action.kind == "config_change" and action.keys:
        owner = action.target.split(":", 1)[1]
        for key in action.keys:
            cfg = snapshot.index.get(f"config:{owner}/{key}")
            seeds.append(target if cfg is None else cfg)
            probs.append(params.p_config if cfg is None else 1.0)
    else:
        seeds.append(target)
        probs.append(1.0)
    return np.array(seeds, np.int32), np.array(probs, np.float64)


def action_prior(action: Action, params: Params = DEFAULT_PARAMS,
                 priors: Priors = NO_PRIORS) -> float:
    """p_fail of an action: the change prior q(c) of the change it would make."""
    diff = action.attributes.get("diff") or ()
    return change_prior(action.kind, action.target, keys=action.keys,
                        diff=diff if isinstance(diff, (list, tuple)) else (),
                        destructive=action.destructive, reversible=action.reversible,
                        params=params, priors=priors)


def monte_carlo(snapshot: Snapshot, seeds: np.ndarray, seed_s: np.ndarray, samples: int,
                seed: int, params: Params = DEFAULT_PARAMS
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Independent cascades from ``seeds``: per-sample impacted components and entrypoint
    traffic (rps), per-node failure counts."""
    s, m = snapshot, snapshot.model(params)
    with parallel_lock:
        return _cascades(
            s.n, s.in_ptr, s.in_idx, s.in_eid, m.in_p, s.out_ptr, s.out_idx,
            s.out_eid, m.out_p, s.order, s.pos, s.comp, s.cyclic, seeds, seed_s,
            s.component, s.traffic, samples, seed, numba.get_num_threads() * 4)


def _summary(values: np.ndarray) -> Distribution:
    if len(values) == 0:
        return Distribution(0.0, 0.0, 0.0)
    p50, p95 = np.percentile(values, [50, 95])
    return Distribution(float(values.mean()), float(p50), float(p95))


def best_paths(snapshot: Snapshot, seeds: np.ndarray, seed_s: np.ndarray,
               targets: np.ndarray, params: Params = DEFAULT_PARAMS) -> dict[str, list[str]]:
    """For each node in ``targets``, the most probable failure path from a seed to it."""
    m = snapshot.model(params)
    with np.errstate(divide="ignore"):
        w = -np.log(m.in_p)
        seed_w = -np.log(seed_s)
    dist, pred = _max_product(snapshot.n, snapshot.in_ptr, snapshot.in_idx, w,
                              snapshot.out_ptr, snapshot.out_idx, w, False, seeds, seed_w)
    out: dict[str, list[str]] = {}
    for t in targets:
        if not np.isfinite(dist[t]):
            continue
        path = [int(t)]
        while pred[path[-1]] >= 0:
            path.append(int(pred[path[-1]]))
        out[snapshot.refs[t]] = [snapshot.refs[i] for i in reversed(path)]
    return out


@dataclass(frozen=True)
class ImpactSamples:
    """The Monte Carlo cascades behind :func:`predict_impact`, one value per sample, given
    the action fails: impacted components, and impacted share of entrypoint traffic (0..1).
    With the same snapshot, action, ``samples``, ``seed`` and parameters their percentiles
    are the ones :func:`predict_impact` reports."""

    services: np.ndarray
    traffic: np.ndarray

    def summary(self) -> tuple[Distribution, Distribution]:
        """(services, traffic) as :func:`predict_impact` summarises them."""
        return _summary(self.services.astype(np.float64)), _summary(self.traffic)


def impact_samples(snapshot: Snapshot, action: Action, *, samples: int = 1000, seed: int = 0,
                   params: Params | None = None) -> ImpactSamples:
    """The per-sample outcomes of the seeded cascades :func:`predict_impact` summarises
    (for plotting the distribution; same arguments, same samples)."""
    params = params or DEFAULT_PARAMS
    if samples < 1:
        raise InvalidRequest(f"samples must be at least 1, got {samples}")
    warm_up()
    seeds, seed_s = action_seeds(snapshot, action, params)
    counts, sums, _ = monte_carlo(snapshot, seeds, seed_s, samples, seed, params)
    total = float(snapshot.traffic.sum())
    share = sums / total if total > 0 else np.zeros(samples)
    return ImpactSamples(np.asarray(counts), np.asarray(share, np.float64))


def predict_impact(snapshot: Snapshot, action: Action, *, samples: int = 1000, seed: int = 0,
                   params: Params | None = None, priors: Priors | None = None) -> Impact:
    """The blast radius of ``action`` on ``snapshot`` (see :class:`~ccm.engine.types.Impact`).

    Notes
    -----
    The fixpoint visits the nodes that can be reached once, in topological order, and
    sweeps strongly connected components until they settle: O(V + E) outside cycles.
    Each Monte Carlo cascade costs O(edges it reaches); samples run in parallel.
    """
    params = params or DEFAULT_PARAMS
    priors = priors or NO_PRIORS
    if samples < 1:
        raise InvalidRequest(f"samples must be at least 1, got {samples}")
    compile_s = warm_up()
    start = time.perf_counter()
    seeds, seed_s = action_seeds(snapshot, action, params)
    m = snapshot.model(params)
    s = snapshot
    r, _ = _noisy_or_dense(s.n, s.in_ptr, s.in_idx, m.in_p, s.out_ptr, s.out_idx, m.out_p,
                           s.order, s.pos, s.comp, s.cyclic, seeds, seed_s, params.tol,
                           params.max_sweeps)
    counts, sums, _ = monte_carlo(s, seeds, seed_s, samples, seed, params)
    total = float(s.traffic.sum())
    share = sums / total if total > 0 else np.zeros(samples)
    hit = np.flatnonzero(r > 0)
    hit = hit[np.lexsort((hit, -r[hit]))]
    entry = hit[s.traffic[hit] > 0]
    paths = best_paths(s, seeds, seed_s, entry, params)
    run_s = time.perf_counter() - start
    return Impact(action=action, p_fail=action_prior(action, params, priors),
                  nodes={s.refs[i]: float(r[i]) for i in hit},
                  services=_summary(counts.astype(np.float64)), traffic=_summary(share),
                  paths=paths, samples=samples, seed=seed,
                  timings=Timings(compile_s, run_s), valid_at=s.valid_at)
