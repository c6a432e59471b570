"""Root-cause kernels: which nodes can cause which symptoms, and scoring hypotheses.

Observations per node are bit flags (:data:`MONITORED`, :data:`ALERT_UP`,
:data:`ALERT_TD`) with the onset of the earliest upstream-signal alert
(``t_up``) and traffic-drop alert (``t_td``) on it.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from ccm.engine.kernels._propagate import _spread

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
    """log P(observation | impact probability r) - log P(observation | r = 0)."""
    if alerted:
        if not in_time:
            return 0.0
        return np.log((r * (1.0 - miss) + (1.0 - r) * fa) / fa)
    return np.log((r * miss_quiet + (1.0 - r) * (1.0 - fa)) / (1.0 - fa))


@njit(cache=True, nogil=True)
def _evidence(count: int, touched: np.ndarray, value: np.ndarray, complement: bool,
              flags: np.ndarray, t_obs: np.ndarray, alert_bit: int, h_time: int, skew: int,
              miss: float, miss_quiet: float, fa: float) -> float:  # pragma: no cover - jitted
    """Sum of the alert terms of the touched monitored nodes; the impact probability is
    ``value[v]`` (or ``1 - value[v]`` with ``complement``)."""
    total = 0.0
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
    return total


@njit(cache=True, nogil=True, parallel=True)
def _score_hypotheses(n: int, in_ptr: np.ndarray, in_idx: np.ndarray, in_p: np.ndarray,
                      in_ptd: np.ndarray, out_ptr: np.ndarray, out_idx: np.ndarray,
                      out_p: np.ndarray, out_ptd: np.ndarray, comp: np.ndarray,
                      cyclic: np.ndarray, h_ptr: np.ndarray, h_seeds: np.ndarray,
                      h_seed_s: np.ndarray, h_time: np.ndarray, flags: np.ndarray,
                      t_up: np.ndarray, t_td: np.ndarray, fa: float, miss: float,
                      miss_td: float, skew: int, floor: float, tol: float, max_sweeps: int,
                      which: np.ndarray, full: bool,
                      chunks: int) -> np.ndarray:  # pragma: no cover - jitted
    """log P(observations | H) - log P(observations | nothing failed), for the hypotheses
    ``which`` (indices into the CSR ``h_ptr``/``h_seeds``).

    For each hypothesis: failure spreads to dependants (``in`` edges, noisy-OR with
    ``in_p``), then (when ``full``) every impacted node starves its dependencies (``out``
    edges with ``out_ptd``). Each monitored node then contributes its alert-or-quiet
    likelihood ratio. Without ``full`` only the failure direction is scored: since the
    traffic-drop terms are at most the gains of the traffic-drop alerts, that plus those
    gains bounds the full score. Nodes are numbered topologically (see ``_spread``)."""
    n_h = len(which)
    out = np.zeros(n_h)
    chunks = max(1, min(chunks, n_h))
    per = (n_h + chunks - 1) // chunks
    for c in prange(chunks):
        a_stamp, a_sv, a_q, a_val = np.zeros(n, np.int32), np.zeros(n), np.ones(n), np.zeros(n)
        b_stamp, b_sv, b_q, b_val = np.zeros(n, np.int32), np.zeros(n), np.ones(n), np.zeros(n)
        a_touched = np.empty(n, np.int32)
        b_touched = np.empty(n, np.int32)
        for i in range(c * per, min(n_h, (c + 1) * per)):
            h = which[i]
            tag = i + 1
            seeds = h_seeds[h_ptr[h]:h_ptr[h + 1]]
            seed_s = h_seed_s[h_ptr[h]:h_ptr[h + 1]]
            n_up = _spread(n, in_ptr, in_idx, in_p, out_ptr, out_idx, out_p, comp, cyclic, 1,
                           seeds, seed_s, floor, tol, max_sweeps, tag, a_stamp, a_sv, a_q,
                           a_val, a_touched)
            score = _evidence(n_up, a_touched, a_val, False, flags, t_up, ALERT_UP, h_time[h],
                              skew, miss, miss, fa)
            if not full:
                out[i] = score
                continue
            up_nodes = a_touched[:n_up]
            n_down = _spread(n, out_ptr, out_idx, out_ptd, in_ptr, in_idx, in_ptd, comp,
                             cyclic, -1, up_nodes, a_val[up_nodes], floor, tol, max_sweeps,
                             tag, b_stamp, b_sv, b_q, b_val, b_touched)
            score += _evidence(n_down, b_touched, b_q, True, flags, t_td, ALERT_TD, h_time[h],
                               skew, miss, miss_td, fa)
            out[i] = score
    return out
