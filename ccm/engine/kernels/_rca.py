"""Root-cause kernels: which nodes can cause which symptoms, and scoring hypotheses.

Observations per node are bit flags (:data:`MONITORED`, :data:`ALERT_UP`,
:data:`ALERT_TD`) with the onset of the earliest upstream-signal alert
(``t_up``) and traffic-drop alert (``t_td``) on it.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from ccm.engine.kernels._propagate import OBSERVE_OTHERS, OBSERVE_WHOLE, _spread

MONITORED, ALERT_UP, ALERT_TD = 1, 2, 4
#: "no time": a hypothesis without a time (a spontaneous failure), a node never reached
NO_TIME = np.iinfo(np.int64).min


@njit(cache=True, nogil=True)
def _latest_cause_time(n: int, out_ptr: np.ndarray, out_idx: np.ndarray,
                       in_ptr: np.ndarray, in_idx: np.ndarray, sym_node: np.ndarray,
                       sym_time: np.ndarray, sym_up: np.ndarray) -> np.ndarray:  # pragma: no cover
    """For every node v, the latest onset among the symptoms a failure of v can explain
    (NO_TIME if none). An upstream symptom at s is explained by any dependency of s
    (transitively, s included); a traffic-drop symptom at s by anything that can fail
    a transitive caller of s. Symptoms are taken latest first, so each node is assigned
    once and each traversal stops at assigned nodes: O(n + edges) overall."""
    latest = np.full(n, NO_TIME, np.int64)
    queue = np.empty(n, np.int32)
    seen = np.zeros(n, np.int32)
    callers = np.empty(n, np.int32)
    order = np.argsort(-sym_time, kind="mergesort")
    for j in range(len(order)):
        i = order[j]
        t = sym_time[i]
        callers[0] = sym_node[i]
        lo, hi = 0, 1
        if not sym_up[i]:
            seen[sym_node[i]] = j + 1
            head = 0
            while head < hi:
                v = callers[head]
                head += 1
                for e in range(in_ptr[v], in_ptr[v + 1]):
                    u = in_idx[e]
                    if seen[u] != j + 1:
                        seen[u] = j + 1
                        callers[hi] = u
                        hi += 1
            lo = 1
        tail = 0
        for k in range(lo, hi):
            s = callers[k]
            if latest[s] == NO_TIME:
                latest[s] = t
                queue[tail] = s
                tail += 1
        head = 0
        while head < tail:
            v = queue[head]
            head += 1
            for e in range(out_ptr[v], out_ptr[v + 1]):
                u = out_idx[e]
                if latest[u] == NO_TIME:
                    latest[u] = t
                    queue[tail] = u
                    tail += 1
    return latest


@njit(cache=True, nogil=True, inline="always")
def _alert_term(r: float, alerted: bool, in_time: bool, miss: float, miss_quiet: float,
                fa: float) -> float:  # pragma: no cover - jitted
    """log P(observation | impact probability r) - log P(observation | r = 0): an alert
    fires on an impacted node with probability ``1 - miss``; an impacted node is still
    quiet with probability ``miss_quiet`` (missed, or not fired yet)."""
    if alerted:
        if not in_time:
            return 0.0
        return np.log((r * (1.0 - miss) + (1.0 - r) * fa) / fa)
    return np.log((r * miss_quiet + (1.0 - r) * (1.0 - fa)) / (1.0 - fa))


@njit(cache=True, nogil=True)
def _evidence(count: int, touched: np.ndarray, value: np.ndarray, complement: bool,
              flags: np.ndarray, t_obs: np.ndarray, alert_bit: int, h_time: int, skew: int,
              miss: float, miss_quiet: float, fa: float, explain_min: float
              ) -> tuple[float, int]:  # pragma: no cover - jitted
    """Sum of the alert terms of the touched monitored nodes, and the onset of the
    earliest alert explained (impact at least ``explain_min``, not before the hypothesis)
    or NO_TIME. The impact probability is ``value[v]`` (``1 - value[v]`` with
    ``complement``)."""
    total = 0.0
    first = NO_TIME
    for i in range(count):
        v = touched[i]
        f = flags[v]
        if f & MONITORED == 0:
            continue
        r = 1.0 - value[v] if complement else value[v]
        if r <= 0.0:
            continue
        alerted = (f & alert_bit) != 0
        in_time = h_time == NO_TIME or t_obs[v] >= h_time - skew
        total += _alert_term(min(r, 1.0), alerted, in_time, miss, miss_quiet, fa)
        if alerted and in_time and r >= explain_min and (first == NO_TIME or t_obs[v] < first):
            first = t_obs[v]
    return total, first


@njit(cache=True, nogil=True, parallel=True)
def _score_hypotheses(n: int, in_ptr: np.ndarray, in_idx: np.ndarray, in_p: np.ndarray,
                      in_ptd: np.ndarray, out_ptr: np.ndarray, out_idx: np.ndarray,
                      out_p: np.ndarray, out_ptd: np.ndarray, comp: np.ndarray,
                      cyclic: np.ndarray, h_ptr: np.ndarray, h_seeds: np.ndarray,
                      h_seed_s: np.ndarray, h_time: np.ndarray, flags: np.ndarray,
                      t_up: np.ndarray, t_td: np.ndarray, fa: float, miss: float,
                      miss_quiet: float, miss_td: float, miss_td_quiet: float, skew: int,
                      floor: float, tol: float, max_sweeps: int,
                      explain_min: float, which: np.ndarray, full: bool, chunks: int
                      ) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - jitted
    """``(ll, onset)`` for the hypotheses ``which`` (indices into the CSR
    ``h_ptr``/``h_seeds``): ll = log P(observations | H) - log P(observations | nothing
    failed); onset = the earliest alert H explains (NO_TIME if none), from the
    failure-direction alerts when there are any, else from the traffic drops.

    For each hypothesis: failure spreads to dependants (``in`` edges, noisy-OR with
    ``in_p``), each node passing on its belief given its own observation (an alerting
    node has almost surely failed, a quiet one probably not), so that a long cascade
    whose every step alerted is as likely as its links, not as the product of every
    prefix; then (when ``full``) every node starves its dependencies (``out`` edges with
    ``out_ptd``) with its belief. Each monitored node contributes its alert-or-quiet
    likelihood ratio. ``miss``/``miss_td``: P(no alert | affected) for the two
    directions; ``miss_quiet``/``miss_td_quiet``: P(no alert yet | affected) for a quiet
    node at the question time (at least as large). Without ``full`` only the failure direction is scored: since the
    traffic-drop terms are at most the gains of the traffic-drop alerts, that plus those
    gains bounds the full score. Nodes are numbered topologically (see ``_spread``)."""
    n_h = len(which)
    out = np.zeros(n_h)
    onset = np.full(n_h, NO_TIME, np.int64)
    chunks = max(1, min(chunks, n_h))
    per = (n_h + chunks - 1) // chunks
    for c in prange(chunks):
        a_stamp, a_sv, a_q, a_val = np.zeros(n, np.int32), np.zeros(n), np.ones(n), np.zeros(n)
        b_stamp, b_sv, b_q, b_val = np.zeros(n, np.int32), np.zeros(n), np.ones(n), np.zeros(n)
        a_bel, b_bel = np.zeros(n), np.zeros(n)
        a_touched = np.empty(n, np.int32)
        b_touched = np.empty(n, np.int32)
        for i in range(c * per, min(n_h, (c + 1) * per)):
            h = which[i]
            tag = i + 1
            seeds = h_seeds[h_ptr[h]:h_ptr[h + 1]]
            seed_s = h_seed_s[h_ptr[h]:h_ptr[h + 1]]
            up_obs = (flags, t_up, ALERT_UP, h_time[h], skew, miss, miss_quiet, fa,
                      OBSERVE_WHOLE)
            n_up = _spread(n, in_ptr, in_idx, in_p, out_ptr, out_idx, out_p, comp, cyclic, 1,
                           seeds, seed_s, floor, tol, max_sweeps, tag, a_stamp, a_sv, a_q,
                           a_val, a_bel, a_touched, up_obs)
            score, first = _evidence(n_up, a_touched, a_val, False, flags, t_up, ALERT_UP,
                                     h_time[h], skew, miss, miss_quiet, fa, explain_min)
            if not full:
                out[i] = score
                onset[i] = first
                continue
            up_nodes = a_touched[:n_up]
            td_obs = (flags, t_td, ALERT_TD, h_time[h], skew, miss_td, miss_td_quiet, fa,
                      OBSERVE_OTHERS)
            n_down = _spread(n, out_ptr, out_idx, out_ptd, in_ptr, in_idx, in_ptd, comp,
                             cyclic, -1, up_nodes, a_bel[up_nodes], floor, tol, max_sweeps,
                             tag, b_stamp, b_sv, b_q, b_val, b_bel, b_touched, td_obs)
            td_score, td_first = _evidence(n_down, b_touched, b_q, True, flags, t_td,
                                           ALERT_TD, h_time[h], skew, miss_td,
                                           miss_td_quiet, fa, explain_min)
            out[i] = score + td_score
            onset[i] = first if first != NO_TIME else td_first
    return out, onset
