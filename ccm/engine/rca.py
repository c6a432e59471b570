"""Root-cause chains: which change or spontaneous failure best explains the symptoms.

Every change in the window and every spontaneous failure of a component that can
reach a symptom is a hypothesis H, ranked by

    P(H) * P(alerts that fired | H) * P(monitored nodes that stayed quiet | H)

with a false-alert and a missed-alert rate. A change's prior is q(c) times a
heavy-tailed weight of its age at the first symptom after it (no cut-off); a
change cannot explain a symptom that began before it. Errors, latency, timeouts
and outages travel from a failing dependency to its dependants; a traffic drop
travels from a failing caller to its callees. Each of the top hypotheses yields
its most probable path to the symptom it explains that is furthest along the
propagation (an entrypoint when it explains one), with the evidence per link.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numba
import numpy as np

from ccm.engine.chains import build_chain
from ccm.engine.kernels import (
    ALERT_TD,
    ALERT_UP,
    MONITORED,
    NO_TIME,
    _latest_cause_time,
    _score_hypotheses,
    parallel_lock,
    warm_up,
)
from ccm.engine.model import delay_weight
from ccm.engine.params import DEFAULT_PARAMS, Params
from ccm.engine.priors import NO_PRIORS, Priors
from ccm.engine.snapshot import Snapshot
from ccm.engine.types import RootCauses, Symptom, Timings

_NEVER = np.iinfo(np.int64).max


def symptoms_from_alerts(snapshot: Snapshot) -> list[Symptom]:
    """The alerts firing at the snapshot's time, as symptoms (node, signal, onset)."""
    a = snapshot.alerts
    return [Symptom(snapshot.refs[a.target[i]], a.signal[i], int(a.time[i]))
            for i in range(len(a))]


@dataclass(frozen=True, eq=False)
class Observations:
    """Per-node evidence for the kernels: flags, and the onset of the earliest alert of
    each direction (``t_up`` for errors-like signals, ``t_td`` for traffic drops)."""

    flags: np.ndarray
    t_up: np.ndarray
    t_td: np.ndarray
    sym_node: np.ndarray
    sym_time: np.ndarray
    sym_up: np.ndarray


def observe(snapshot: Snapshot, symptoms: list[Symptom]) -> Observations:
    """Evidence arrays: monitored components are quiet unless a symptom is given on them;
    a node with a firing alert that is not among ``symptoms`` counts as unobserved."""
    n = snapshot.n
    flags = np.where(snapshot.nodes.monitored & snapshot.component, MONITORED, 0).astype(np.int64)
    t_up = np.full(n, _NEVER, np.int64)
    t_td = np.full(n, _NEVER, np.int64)
    nodes = np.array([snapshot.node(s.ref) for s in symptoms], np.int32)
    times = np.array([s.time for s in symptoms], np.int64)
    up = np.array([s.upstream for s in symptoms], np.bool_)
    # nodes with firing alerts that are not among the given symptoms are not quiet: unknown
    given = set(nodes.tolist())
    for v in snapshot.alerts.target.tolist():
        if v not in given:
            flags[v] &= ~MONITORED
    for v, t, u in zip(nodes, times, up, strict=True):
        flags[v] |= MONITORED | (ALERT_UP if u else ALERT_TD)
        target = t_up if u else t_td
        target[v] = min(target[v], t)
    return Observations(flags, t_up, t_td, nodes, times, up)


@dataclass(frozen=True, eq=False)
class Hypotheses:
    """Candidate causes: ``root`` references, ``change`` index (-1: spontaneous failure of
    the first seed), seeds in CSR form, time (NO_TIME for spontaneous) and log prior."""

    root: list[str]
    change: np.ndarray
    ptr: np.ndarray
    seeds: np.ndarray
    seed_s: np.ndarray
    time: np.ndarray
    q: np.ndarray
    log_prior: np.ndarray
    prior: np.ndarray


def hypotheses(snapshot: Snapshot, obs: Observations, window: int | None, params: Params,
               priors: Priors) -> Hypotheses:
    """Changes in the window whose seeds can reach a symptom that began after them, and
    spontaneous failures of components that can reach any symptom."""
    s = snapshot
    latest = _latest_cause_time(s.n, s.out_ptr, s.out_idx, s.in_ptr, s.in_idx,
                                obs.sym_node, obs.sym_time, obs.sym_up)
    skew = int(params.clock_skew_s * 1e6)
    ch = s.changes
    early = s.valid_at - window if window is not None else np.iinfo(np.int64).min
    counts = np.diff(ch.seed_ptr)
    best = np.full(len(ch), NO_TIME, np.int64)
    if len(ch.seed_idx):
        owner = np.repeat(np.arange(len(ch)), counts)
        np.maximum.at(best, owner, latest[ch.seed_idx])
    chosen = np.flatnonzero((counts > 0) & (ch.time >= early) & (best != NO_TIME)
                            & (best >= ch.time - skew))
    q = s.change_priors(params, priors)[chosen] if len(chosen) else np.zeros(0)
    onsets = np.sort(obs.sym_time)
    first = onsets[np.minimum(np.searchsorted(onsets, ch.time[chosen] - skew),
                              len(onsets) - 1)] if len(onsets) else ch.time[chosen]
    weight = np.array([delay_weight(a, params) for a in first - ch.time[chosen]])
    c_prior = q * weight if len(chosen) else np.zeros(0)
    spont = np.flatnonzero(s.component & (latest != NO_TIME)).astype(np.int32)
    seeds = [ch.seeds(int(i)) for i in chosen] + [spont[i:i + 1] for i in range(len(spont))]
    sizes = np.array([len(x) for x in seeds], np.int64)
    prior = np.concatenate([c_prior, np.full(len(spont), params.spontaneous_prior)])
    return Hypotheses(
        root=[ch.refs[i] for i in chosen] + [s.refs[v] for v in spont],
        change=np.concatenate([chosen, np.full(len(spont), -1)]).astype(np.int64),
        ptr=np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64),
        seeds=(np.concatenate(seeds) if seeds else np.zeros(0)).astype(np.int32),
        seed_s=np.ones(int(sizes.sum())),
        time=np.concatenate([ch.time[chosen], np.full(len(spont), NO_TIME)]).astype(np.int64),
        q=np.concatenate([q, np.full(len(spont), params.spontaneous_prior)]),
        log_prior=np.log(np.maximum(prior, 1e-300)), prior=prior)


def _kernel_scores(snapshot: Snapshot, obs: Observations, hyp: Hypotheses, params: Params,
                   which: np.ndarray, full: bool) -> np.ndarray:
    s, m = snapshot, snapshot.model(params)
    with parallel_lock:
        ll = _score_hypotheses(s.n, s.in_ptr, s.in_idx, m.in_p, m.in_ptd, s.out_ptr, s.out_idx,
                               m.out_p, m.out_ptd, s.comp, s.cyclic, hyp.ptr, hyp.seeds,
                               hyp.seed_s, hyp.time, obs.flags, obs.t_up, obs.t_td,
                               params.false_alert, params.missed_alert, params.missed_traffic_drop,
                               int(params.clock_skew_s * 1e6), params.floor, params.tol,
                               params.max_sweeps, which.astype(np.int64), full,
                               numba.get_num_threads() * 4)
    return hyp.log_prior[which] + ll


def score(snapshot: Snapshot, obs: Observations, hyp: Hypotheses, params: Params,
          k: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(scores, exact)``: log P(H) + log-likelihood ratio of the observations under H.

    With ``k``, only hypotheses that can still reach the top k are scored in full: every
    hypothesis is first scored in the failure direction alone, which plus the gains of
    all traffic-drop alerts bounds its full score; full scores are then computed in
    decreasing order of that bound until the bound falls below the k-th best full score.
    The top k are exact; the others keep their bound (``exact`` False)."""
    n_h = len(hyp.root)
    everything = np.arange(n_h)
    if k is None or k >= n_h:
        return _kernel_scores(snapshot, obs, hyp, params, everything, True), np.ones(n_h, bool)
    gain = np.log((1.0 - params.missed_alert) / params.false_alert)
    bound = (_kernel_scores(snapshot, obs, hyp, params, everything, False)
             + gain * int((~obs.sym_up).sum()))
    scores, exact = bound.copy(), np.zeros(n_h, bool)
    order = np.argsort(-bound, kind="stable")
    step = max(2 * k, 32)
    done = 0
    while done < n_h:
        kth = np.sort(scores[exact])[-k] if exact.sum() >= k else -np.inf
        batch = order[done:done + step]
        batch = batch[bound[batch] >= kth]
        if len(batch) == 0:
            break
        scores[batch] = _kernel_scores(snapshot, obs, hyp, params, batch, True)
        exact[batch] = True
        done += step
    return scores, exact


def root_causes(snapshot: Snapshot, symptoms: list[Symptom] | None = None, *,
                window: int | None = None, k: int = 10, params: Params | None = None,
                priors: Priors | None = None) -> RootCauses:
    """The top ``k`` root-cause chains for ``symptoms`` (default: the alerts firing at the
    snapshot's time), one per distinct root, best first.

    Notes
    -----
    Hypotheses are scored in parallel; each costs a sparse noisy-OR over the nodes it
    impacts with probability above ``params.floor``, in topological order. Only those
    that can still reach the top ``k`` are scored in full (see :func:`score`), so the
    reported posteriors normalise over exact scores and, for the rest, upper bounds:
    they are exact or slightly conservative.
    """
    params = params or DEFAULT_PARAMS
    priors = priors or NO_PRIORS
    symptoms = symptoms_from_alerts(snapshot) if symptoms is None else list(symptoms)
    compile_s = warm_up()
    start = time.perf_counter()
    obs = observe(snapshot, symptoms)
    hyp = hypotheses(snapshot, obs, window, params, priors)
    scores, exact = score(snapshot, obs, hyp, params, k)
    roots = np.array(hyp.root, dtype=object).astype(str)
    ranked = np.lexsort((roots, -np.where(exact, scores, -np.inf)))[:max(k, 0)]
    ranked = ranked[exact[ranked]]
    posterior = np.exp(scores - scores.max()) if len(scores) else scores
    posterior = posterior / posterior.sum() if len(scores) else posterior
    chains = [build_chain(snapshot, obs, hyp, int(h), rank + 1, float(posterior[h]),
                          float(scores[h]), symptoms, params)
              for rank, h in enumerate(ranked)]
    return RootCauses(chains, symptoms, len(hyp.root), snapshot.valid_at,
                      Timings(compile_s, time.perf_counter() - start))
