"""Blast radius: what an action's failure would impact, and how likely.

:func:`predict_impact` computes, conditional on the action failing, each node's
impact probability (noisy-OR fixpoint), the distribution of impacted components
and of impacted entrypoint traffic (seeded parallel Monte Carlo cascades), and
the most probable path to each impacted entrypoint; ``p_fail`` comes from the
same prior model as changes.
"""

from __future__ import annotations

import math
import threading
import time
import weakref
from dataclasses import dataclass

import numba
import numpy as np

from ccm.engine.kernels import (
    _cascades,
    _cascades_serial,
    _coin_table,
    _max_product,
    _noisy_or_dense,
    _walk_back,
    cores_if_free,
    warm_up,
)
from ccm.engine.model import change_prior
from ccm.engine.params import DEFAULT_PARAMS, Params
from ccm.engine.priors import NO_PRIORS, Priors
from ccm.engine.snapshot import PropagationModel, Snapshot
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


#: cascades smaller than this (samples x expected failed nodes) run on the calling
#: thread: waking the other threads and waiting at their barrier costs more than they
#: save (a prediction of 2,000 cascades from a service drawn at random on 10,000
#: services: median 0.6 ms with the kernel on one thread, 0.8 ms on two, on 2 shared
#: cores), and on a loaded machine a parallel region waits for its slowest core
PARALLEL_WORK = 1_000_000


def monte_carlo(snapshot: Snapshot, seeds: np.ndarray, seed_s: np.ndarray, samples: int,
                seed: int, params: Params = DEFAULT_PARAMS, expected_failed: float | None = None,
                first_batch: int = 0, coins: np.ndarray | None = None
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Independent cascades from ``seeds``: per-sample impacted components and entrypoint
    traffic (rps), per-node failure counts.

    On every core when the cascades are large (``samples * expected_failed`` at least
    :data:`PARALLEL_WORK`; unknown counts as large) and no other thread runs a parallel
    kernel; else on this thread alone (concurrent requests keep the other cores busy).
    The result is the same either way. The samples are those from batch ``first_batch``
    (64 samples a batch) of the seed's stream on: runs of whole batches one after the
    other give the samples of one longer run. ``coins``: the seed's :func:`coin_table`
    (the same result, faster), or None."""
    s, m = snapshot, snapshot.model(params)
    args = (s.n, s.in_ptr, s.in_idx, s.in_eid, m.in_p, s.out_ptr, s.out_idx, s.out_eid,
            m.out_p, s.order, s.pos, s.comp, s.cyclic, seeds, seed_s, s.component, s.traffic,
            samples, seed, first_batch, _NO_COINS if coins is None else coins)
    if expected_failed is None or samples * expected_failed >= PARALLEL_WORK:
        with cores_if_free() as parallel:
            if parallel:
                return _cascades(*args, numba.get_num_threads() * 4)
    return _cascades_serial(*args)


_NO_COINS = np.empty((0, 0), np.uint64)
#: largest coin table kept per propagation model and seed (40,000 edges and 2,000
#: cascades: 10 MB)
COIN_TABLE_BYTES = 64 * 2**20
#: coin tables by propagation model, seed: (table, predictions that asked)
_COINS: weakref.WeakKeyDictionary[PropagationModel, dict[int, tuple[np.ndarray | None, int]]] = \
    weakref.WeakKeyDictionary()
_COINS_LOCK = threading.Lock()


def coin_table(snapshot: Snapshot, params: Params, seed: int, samples: int
               ) -> np.ndarray | None:
    """The masks (coins) the cascades of ``seed`` draw on the snapshot's edges, for
    ``samples`` cascades, kept per propagation model and seed from the second
    prediction that asks on: every prediction with that seed draws the same coins (a
    pure hash of seed, batch and edge), and a server asks with one seed. Looking a
    coin up costs less than drawing its ten random words. None when not kept yet, or
    larger than :data:`COIN_TABLE_BYTES`."""
    batches = (samples + 63) // 64
    m = snapshot.model(params)
    if batches * len(m.in_p) * 8 > COIN_TABLE_BYTES or len(m.in_p) == 0:
        return None
    with _COINS_LOCK:
        per_seed = _COINS.setdefault(m, {})
        table, asked = per_seed.get(seed, (None, 0))
        if table is not None and table.shape[0] >= batches:
            return table
        per_seed[seed] = (table, asked + 1)
        if asked < 1:
            return None
        table = _coin_table(snapshot.in_eid, m.in_p, seed, batches)
        per_seed[seed] = (table, asked + 1)
        return table


#: cascades are drawn in rounds of this many (whole batches of 64) when a prediction
#: runs to a precision
ROUND = 512
#: absolute precision below which a figure is always precise enough: half a service
#: (the interval covers at most two neighbouring counts), 0.1 % of entrypoint traffic
FLOOR_SERVICES = 0.5
FLOOR_TRAFFIC = 0.001
_Z95 = 1.959964


def sorted_percentile(xs: np.ndarray, q: float) -> float:
    """``np.percentile(xs, 100 * q)`` of a sorted, non-empty float array, the same value
    (linear interpolation, numpy's rounding), without numpy's per-call overhead (about
    80 us, more than the cascades of a small blast radius)."""
    at = q * (len(xs) - 1)
    lo = math.floor(at)
    if lo >= len(xs) - 1:
        return float(xs[-1])
    a, b = float(xs[lo]), float(xs[lo + 1])
    t = at - lo
    return b - (b - a) * (1 - t) if t >= 0.5 else a + (b - a) * t


def settled(values: np.ndarray, precision: float, floor: float) -> bool:
    """Whether the mean, median and 95th percentile of ``values`` (Monte Carlo samples)
    are known to ``precision``: the half-width of each one's 95 % confidence interval
    (normal for the mean; distribution-free, from order statistics, for a percentile) is
    at most ``precision`` times the figure, or at most ``floor``."""
    m = len(values)
    if m < 2:
        return False
    xs = np.sort(values)
    if xs[0] == xs[-1]:
        return True
    mean = float(xs.mean())
    if _Z95 * float(xs.std(ddof=1)) / math.sqrt(m) > max(precision * abs(mean), floor):
        return False
    for q in (0.5, 0.95):
        d = _Z95 * math.sqrt(m * q * (1 - q))
        lo, hi = max(0, math.floor(m * q - d)), min(m - 1, math.ceil(m * q + d))
        figure = sorted_percentile(xs, q)
        if (float(xs[hi]) - float(xs[lo])) / 2 > max(precision * abs(figure), floor):
            return False
    return True


def sequential_monte_carlo(snapshot: Snapshot, seeds: np.ndarray, seed_s: np.ndarray,
                           samples: int, seed: int, params: Params = DEFAULT_PARAMS,
                           expected_failed: float | None = None, precision: float = 0.0
                           ) -> tuple[np.ndarray, np.ndarray]:
    """:func:`monte_carlo`'s per-sample impacted components and traffic, drawn in rounds
    of :data:`ROUND` until both are :func:`settled` to ``precision`` (relative), or
    ``samples`` are drawn. ``precision`` 0 draws all ``samples`` at once. Whatever the
    stop, the samples drawn are the first ones of the seed's stream: the same as a run
    of that many cascades."""
    coins = coin_table(snapshot, params, seed, samples)
    if precision <= 0 or samples <= ROUND:
        counts, sums, _ = monte_carlo(snapshot, seeds, seed_s, samples, seed, params,
                                      expected_failed, coins=coins)
        return counts, sums
    total = float(snapshot.traffic.sum())
    counts, sums = np.zeros(0, np.int64), np.zeros(0)
    while len(counts) < samples:
        size = min(ROUND, samples - len(counts))
        c, w, _ = monte_carlo(snapshot, seeds, seed_s, size, seed, params, expected_failed,
                              first_batch=len(counts) // 64, coins=coins)
        counts, sums = np.concatenate([counts, c]), np.concatenate([sums, w])
        if len(counts) < samples \
                and settled(counts.astype(np.float64), precision, FLOOR_SERVICES) \
                and settled(sums / total if total > 0 else sums, precision, FLOOR_TRAFFIC):
            break
    return counts, sums


def _summary(values: np.ndarray) -> Distribution:
    if len(values) == 0:
        return Distribution(0.0, 0.0, 0.0)
    xs = np.sort(values)
    return Distribution(float(values.mean()), sorted_percentile(xs, 0.5),
                        sorted_percentile(xs, 0.95))


#: ``-log p`` along the ``in`` CSR of each propagation model, computed once per model
_WEIGHTS: weakref.WeakKeyDictionary[PropagationModel, np.ndarray] = weakref.WeakKeyDictionary()


def _path_weights(m: PropagationModel) -> np.ndarray:
    w = _WEIGHTS.get(m)
    if w is None:
        with np.errstate(divide="ignore"):
            w = -np.log(m.in_p)
        _WEIGHTS[m] = w
    return w


def best_paths(snapshot: Snapshot, seeds: np.ndarray, seed_s: np.ndarray,
               targets: np.ndarray, params: Params = DEFAULT_PARAMS) -> dict[str, list[str]]:
    """For each node in ``targets``, the most probable failure path from a seed to it."""
    w = _path_weights(snapshot.model(params))
    with np.errstate(divide="ignore"):
        seed_w = -np.log(seed_s)
    dist, pred = _max_product(snapshot.n, snapshot.in_ptr, snapshot.in_idx, w,
                              snapshot.out_ptr, snapshot.out_idx, w, False, seeds, seed_w)
    targets = np.asarray(targets, np.int64)
    ptr, idx = _walk_back(pred, dist, targets)
    refs = snapshot.refs
    names = [refs[i] for i in idx.tolist()]
    bounds = ptr.tolist()
    return {refs[t]: names[bounds[k]:bounds[k + 1]] for k, t in enumerate(targets.tolist())
            if bounds[k] < bounds[k + 1]}


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
                   params: Params | None = None, priors: Priors | None = None,
                   precision: float = 0.0, max_paths: int | None = None) -> Impact:
    """The blast radius of ``action`` on ``snapshot`` (see :class:`~ccm.engine.types.Impact`).

    ``samples`` Monte Carlo cascades; with ``precision`` above 0 at most ``samples``:
    they stop, in rounds of :data:`ROUND`, once the mean, median and 95th percentile of
    impacted services and of traffic are known to that relative precision (95 %
    confidence; see :func:`settled`). ``Impact.samples`` says how many were drawn.

    ``max_paths``: find the paths to the ``max_paths`` likeliest impacted entrypoints
    only (and any tied with the last of them); ``Impact.paths_total`` and
    ``Impact.reach`` still count every impacted entrypoint. A hub's restart reaches
    thousands, and a path each costs more than the cascades.

    Notes
    -----
    The fixpoint visits the nodes that can be reached once, in topological order, and
    sweeps strongly connected components until they settle: O(V + E) outside cycles.
    Each Monte Carlo cascade costs O(edges it reaches); large runs use every core.
    """
    params = params or DEFAULT_PARAMS
    priors = priors or NO_PRIORS
    if samples < 1:
        raise InvalidRequest(f"samples must be at least 1, got {samples}")
    if not 0 <= precision < 1:
        raise InvalidRequest(f"precision must be at least 0 and below 1, got {precision}")
    if max_paths is not None and max_paths < 0:
        raise InvalidRequest(f"max_paths must be at least 0, got {max_paths}")
    compile_s = warm_up()
    start = time.perf_counter()
    seeds, seed_s = action_seeds(snapshot, action, params)
    m = snapshot.model(params)
    s = snapshot
    r, _ = _noisy_or_dense(s.n, s.in_ptr, s.in_idx, m.in_p, s.out_ptr, s.out_idx, m.out_p,
                           s.order, s.pos, s.comp, s.cyclic, seeds, seed_s, params.tol,
                           params.max_sweeps)
    counts, sums = sequential_monte_carlo(s, seeds, seed_s, samples, seed, params,
                                          expected_failed=float(r.sum()), precision=precision)
    total = float(s.traffic.sum())
    share = sums / total if total > 0 else np.zeros(len(sums))
    hit = np.flatnonzero(r > 0)
    hit = hit[np.lexsort((hit, -r[hit]))]
    entry = hit[s.traffic[hit] > 0]
    chosen = entry
    if max_paths is not None and len(entry) > max_paths:  # entry is likeliest first
        chosen = entry[r[entry] >= r[entry[max_paths - 1]]] if max_paths else entry[:0]
    paths = best_paths(s, seeds, seed_s, chosen, params)
    run_s = time.perf_counter() - start
    refs = s.refs
    return Impact(action=action, p_fail=action_prior(action, params, priors),
                  nodes=dict(zip([refs[i] for i in hit.tolist()], r[hit].tolist(),
                                 strict=True)),
                  services=_summary(counts.astype(np.float64)), traffic=_summary(share),
                  paths=paths, samples=len(counts), seed=seed,
                  timings=Timings(compile_s, run_s), valid_at=s.valid_at,
                  paths_total=len(entry), reach=min(1.0, sum(r[entry].tolist())),
                  revision=s.revision)
