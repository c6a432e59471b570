"""Root-cause chains: which change or spontaneous failure best explains the symptoms.

Every change in the window, every configuration value that expired in it, and every
spontaneous failure of a component that can reach a symptom is a hypothesis H,
ranked by

    P(H) * f(onset delay | H) * P(alerts that fired | H) * P(monitored nodes quiet | H)

P(H) is q(c) for a change (kind and content), the expiry prior for an expired value,
and the component kind's failure rate per hour for a spontaneous failure; f is the
density per hour of the delay from the change (or expiry) to the first alert H
explains: a mixture of prompt failures (minutes) and late ones (hours to days), so
timing is evidence, with no cut-off. A change cannot explain an alert that began
before it (an operator's reaction after the first alert explains only later ones).
Errors, latency, timeouts and outages travel from a failing dependency to its
dependants; a traffic drop travels from a failing caller to its callees; each node
passes on its belief given its own alert or silence, with false-alert and
missed-alert rates. Each of the top hypotheses yields its most probable path to the
symptom it explains that is furthest along the propagation (an entrypoint when it
explains one), with the evidence per link.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numba
import numpy as np

from ccm.engine.chains import EXPIRY, SPONTANEOUS, PathWeights, build_chain
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
from ccm.engine.model import (
    latent_share,
    onset_log_density,
    onset_log_density_max,
    spontaneous_rate,
)
from ccm.engine.params import DEFAULT_PARAMS, Params
from ccm.engine.priors import NO_PRIORS, Priors
from ccm.engine.separate import close_call
from ccm.engine.snapshot import KINDS, Snapshot
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
    """Candidate causes: ``root`` references, ``change`` index (or SPONTANEOUS: the first
    seed fails on its own; EXPIRY: the first seed, a configuration value, expired),
    seeds in CSR form, ``setter`` (for an expiry, the change in the window that wrote the
    expiring value, which is then the root; else -1), time (NO_TIME for spontaneous
    failures), ``q`` (probability that
    the change or expired value fails; the rate per hour for a spontaneous failure),
    ``latent`` (share of late failures), ``log_prior`` = log q, and ``log_onset``, the
    log density of the onset delay, filled in by :func:`score`."""

    root: list[str]
    change: np.ndarray
    setter: np.ndarray
    ptr: np.ndarray
    seeds: np.ndarray
    seed_s: np.ndarray
    time: np.ndarray
    q: np.ndarray
    latent: np.ndarray
    log_prior: np.ndarray
    log_onset: np.ndarray

    @property
    def prior(self) -> np.ndarray:
        """P(H) with its onset at the observed time, per hour: q(c) times the onset
        density for a change or expiry, the failure rate for a spontaneous failure."""
        return np.exp(self.log_prior + self.log_onset)


@dataclass
class _Timed:
    """Hypotheses with a time, column by column (see :func:`_timed`)."""

    roots: list[str] = field(default_factory=list)
    seeds: list[np.ndarray] = field(default_factory=list)
    times: list[int] = field(default_factory=list)
    q: list[float] = field(default_factory=list)
    latent: list[float] = field(default_factory=list)
    kind: list[int] = field(default_factory=list)
    setter: list[int] = field(default_factory=list)

    def add(self, root: str, seeds: np.ndarray, t: int, q: float, latent: float,
            kind: int, setter: int = -1) -> None:
        self.roots.append(root)
        self.seeds.append(seeds)
        self.times.append(t)
        self.q.append(q)
        self.latent.append(latent)
        self.kind.append(kind)
        self.setter.append(setter)


def _timed(snapshot: Snapshot, latest: np.ndarray, window: int | None, params: Params,
           priors: Priors) -> _Timed:
    """Changes in the window, and configuration values that expired in it, whose seeds
    can cause a symptom that began after them (``kind``: the change's index, or EXPIRY).
    An expired value that a change in the window wrote is that change's failure: the
    change is its root (``setter``)."""
    s, out = snapshot, _Timed()
    skew = int(params.clock_skew_s * 1e6)
    early = s.valid_at - window if window is not None else np.iinfo(np.int64).min
    ch = s.changes
    q = s.change_priors(params, priors) if len(ch) else np.zeros(0)
    for i in range(len(ch)):
        seeds, t, m = ch.seeds(i), int(ch.time[i]), ch.meta[i]
        if len(seeds) and t >= early and latest[seeds].max() >= t - skew:
            out.add(ch.refs[i], seeds, t, float(q[i]), latent_share(
                ch.kinds[i], keys=m.get("keys", ()), diff=m.get("diff", ()), params=params), i)
    expires = s.nodes.expires
    expired = (expires >= early) & (expires <= s.valid_at) & ~s.component
    for v in np.flatnonzero(expired).tolist():
        t = int(expires[v])
        if latest[v] >= t - skew:
            setter = _setter(s, v, t, early)
            out.add(s.refs[v] if setter < 0 else ch.refs[setter], np.array([v], np.int32), t,
                    params.expiry_prior, params.expiry_latent_share, EXPIRY, setter)
    return out


def _setter(snapshot: Snapshot, v: int, t: int, early: int) -> int:
    """The latest change in the window, made before ``t``, that changed node ``v``; -1 if
    none."""
    ch, best = snapshot.changes, -1
    for i in range(len(ch)):
        ti = int(ch.time[i])
        if early <= ti <= t and v in ch.seeds(i) and (best < 0 or ti >= int(ch.time[best])):
            best = i
    return best


def hypotheses(snapshot: Snapshot, obs: Observations, window: int | None, params: Params,
               priors: Priors) -> Hypotheses:
    """Changes (and expired configuration values) in the window whose seeds can reach a
    symptom that began after them, and spontaneous failures of components that can reach
    any symptom (unresolved placeholders excepted)."""
    s = snapshot
    latest = _latest_cause_time(s.n, s.out_ptr, s.out_idx, s.in_ptr, s.in_idx,
                                obs.sym_node, obs.sym_time, obs.sym_up)
    timed = _timed(s, latest, window, params, priors)
    spont = np.flatnonzero(s.suspects & (latest != NO_TIME)).astype(np.int32)
    rate_of = {int(k): spontaneous_rate(KINDS[k], params, priors)
               for k in np.unique(s.nodes.kind[spont]).tolist()}
    rate = [rate_of[int(k)] for k in s.nodes.kind[spont].tolist()]
    seeds = timed.seeds + [spont[i:i + 1] for i in range(len(spont))]
    sizes = np.array([len(x) for x in seeds], np.int64)
    q_all = np.array(timed.q + rate, np.float64)
    return Hypotheses(
        root=timed.roots + [s.refs[v] for v in spont],
        change=np.array(timed.kind + [SPONTANEOUS] * len(spont), np.int64),
        setter=np.array(timed.setter + [-1] * len(spont), np.int64),
        ptr=np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64),
        seeds=(np.concatenate(seeds) if seeds else np.zeros(0)).astype(np.int32),
        seed_s=np.ones(int(sizes.sum())),
        time=np.array(timed.times + [NO_TIME] * len(spont), np.int64),
        q=q_all, latent=np.array(timed.latent + [0.0] * len(spont), np.float64),
        log_prior=np.log(np.maximum(q_all, 1e-300)), log_onset=np.zeros(len(q_all)))


def missed_rates(snapshot: Snapshot, obs: Observations, params: Params
                 ) -> tuple[float, float, float, float]:
    """``(miss, miss_quiet, miss_td, miss_td_quiet)``: P(no alert | affected) for failure
    and traffic-drop alerts, and P(no alert yet | affected) for a node still quiet at the
    snapshot's time: for an incident whose first symptom began only minutes ago, the
    alert rule may not have fired yet. (An alert that did fire shows its rule had the
    time, so alerting nodes use the first pair.)"""
    m, m_td = params.missed_alert, params.missed_traffic_drop
    if len(obs.sym_time) == 0:
        return m, m, m_td, m_td
    minutes = max(0.0, (snapshot.valid_at - int(obs.sym_time.min())) / 60e6)
    late = float(np.exp(-minutes / params.alert_delay_min))
    return m, m + (1.0 - m) * late, m_td, m_td + (1.0 - m_td) * late


def _kernel_scores(snapshot: Snapshot, obs: Observations, hyp: Hypotheses, params: Params,
                   which: np.ndarray, full: bool) -> np.ndarray:
    """log P(H) + log-likelihood ratio for the hypotheses ``which``; fills their
    ``log_onset`` (an upper bound when ``full`` is False and H explains no failure alert)."""
    s, m = snapshot, snapshot.model(params)
    miss, miss_quiet, miss_td, miss_td_quiet = missed_rates(s, obs, params)
    with parallel_lock:
        ll, onset = _score_hypotheses(
            s.n, s.in_ptr, s.in_idx, m.in_p, m.in_ptd, s.out_ptr, s.out_idx, m.out_p,
            m.out_ptd, s.comp, s.cyclic, hyp.ptr, hyp.seeds, hyp.seed_s, hyp.time,
            obs.flags, obs.t_up, obs.t_td, params.false_alert, miss, miss_quiet, miss_td,
            miss_td_quiet,
            int(params.clock_skew_s * 1e6), params.floor, params.tol, params.max_sweeps,
            params.explain_min, which.astype(np.int64), full, numba.get_num_threads() * 4)
    timed = hyp.time[which] != NO_TIME
    at = np.where(onset == NO_TIME, s.valid_at, onset)
    log_onset = np.where(timed, onset_log_density(at - hyp.time[which], hyp.latent[which],
                                                  params), 0.0)
    if not full:
        unknown = timed & (onset == NO_TIME)
        log_onset[unknown] = onset_log_density_max(hyp.latent[which][unknown], params)
    hyp.log_onset[which] = log_onset
    return hyp.log_prior[which] + log_onset + ll


def score(snapshot: Snapshot, obs: Observations, hyp: Hypotheses, params: Params,
          k: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(scores, exact)``: log P(H) + log onset density + log-likelihood ratio of the
    observations under H.

    With ``k``, only hypotheses that can still reach the top k are scored in full: every
    hypothesis is first scored in the failure direction alone, which plus the gains of
    all traffic-drop alerts bounds its full score (its onset is then the earliest failure
    alert it explains; when it explains none, the density's maximum bounds it); full
    scores are then computed in decreasing order of that bound until the bound falls
    below the k-th best full score. The top k are exact; the others keep their bound
    (``exact`` False)."""
    n_h = len(hyp.root)
    everything = np.arange(n_h)
    if k is None or k >= n_h:
        return _kernel_scores(snapshot, obs, hyp, params, everything, True), np.ones(n_h, bool)
    miss_td = params.missed_traffic_drop
    gain = np.log((1.0 - miss_td) / params.false_alert)
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
    order = np.lexsort((roots, -np.where(exact, scores, -np.inf)))
    _, first = np.unique(roots[order], return_index=True)  # an expiry may share its root
    order = order[np.sort(first)]
    ranked = order[exact[order]][:max(k, 0)]
    posterior = root_posteriors(scores, roots, params)
    weights = PathWeights.build(snapshot, obs, params) if len(ranked) else None
    chains = [build_chain(snapshot, obs, hyp, int(h), rank + 1, float(posterior[h]),
                          float(scores[h]), symptoms, params, weights)
              for rank, h in enumerate(ranked)]
    close = close_call(snapshot, obs, hyp, ranked, chains, symptoms, params)
    return RootCauses(chains, symptoms, len(hyp.root), snapshot.valid_at,
                      Timings(compile_s, time.perf_counter() - start), snapshot.revision,
                      close)


def root_posteriors(scores: np.ndarray, roots: np.ndarray, params: Params) -> np.ndarray:
    """Per hypothesis, the posterior probability of its root: the softmax of the scores
    at temperature ``params.posterior_temperature``, summed over the hypotheses that
    share a root (an expiry and the change that wrote the expiring value).

    >>> p = root_posteriors(np.array([0.0, 0.0, np.log(2.0)]), np.array(["a", "b", "a"]),
    ...                     Params(posterior_temperature=1.0))
    >>> [round(float(x), 2) for x in p]
    [0.75, 0.25, 0.75]
    """
    if len(scores) == 0:
        return scores
    w = np.exp((scores - scores.max()) / params.posterior_temperature)
    _, inverse = np.unique(roots, return_inverse=True)
    per_root = np.bincount(inverse, weights=w)
    return per_root[inverse] / w.sum()
