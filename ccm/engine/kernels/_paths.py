"""Most probable paths: multi-source Dijkstra on ``-log p``.

A path's probability is the product of its edges' probabilities, so the most
probable path is the shortest under weights ``-log p``. With ``two_phase`` the
path may, once, switch from the failure direction (``a`` edges, to callers) to
the traffic-drop direction (``b`` edges, to callees) and then stay there: the
shape of "a failing caller starves its callees". States are ``node + phase * n``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ccm.engine.kernels._util import fheap_pop, fheap_push


@njit(cache=True, nogil=True)
def _relax(v: int, d: float, ptr: np.ndarray, idx: np.ndarray, w: np.ndarray, offset: int,
           dist: np.ndarray, pred: np.ndarray, src_state: int, hk: np.ndarray,
           hv: np.ndarray, size: int) -> int:  # pragma: no cover - jitted
    for e in range(ptr[v], ptr[v + 1]):
        we = w[e]
        if not np.isfinite(we):
            continue
        t = idx[e] + offset
        nd = d + we
        if nd < dist[t]:
            dist[t] = nd
            pred[t] = src_state
            size = fheap_push(hk, hv, size, nd, t)
    return size


@njit(cache=True, nogil=True)
def _max_product(n: int, a_ptr: np.ndarray, a_idx: np.ndarray, a_w: np.ndarray,
                 b_ptr: np.ndarray, b_idx: np.ndarray, b_w: np.ndarray, two_phase: bool,
                 seeds: np.ndarray, seed_w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover
    """Distances (``-log`` of the best path probability) and predecessor states from
    ``seeds`` (starting at distance ``seed_w``). Unreached states have distance inf and
    predecessor -1; a seed's predecessor is -1."""
    phases = 2 if two_phase else 1
    states = n * phases
    dist = np.full(states, np.inf)
    pred = np.full(states, -1, np.int64)
    cap = len(a_idx) + (len(b_idx) * 2 if two_phase else 0) + len(seeds) + 1
    hk = np.empty(cap)
    hv = np.empty(cap, np.int64)
    size = 0
    for i in range(len(seeds)):
        v = seeds[i]
        if seed_w[i] < dist[v]:
            dist[v] = seed_w[i]
            pred[v] = -1
            size = fheap_push(hk, hv, size, seed_w[i], v)
    while size > 0:
        d, s, size = fheap_pop(hk, hv, size)
        if d > dist[s]:
            continue
        v = s % n
        if s < n:
            size = _relax(v, d, a_ptr, a_idx, a_w, 0, dist, pred, s, hk, hv, size)
            if two_phase:
                size = _relax(v, d, b_ptr, b_idx, b_w, n, dist, pred, s, hk, hv, size)
        else:
            size = _relax(v, d, b_ptr, b_idx, b_w, n, dist, pred, s, hk, hv, size)
    return dist, pred


@njit(cache=True, nogil=True)
def _walk_back(pred: np.ndarray, dist: np.ndarray, targets: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - jitted
    """The path of predecessor states from a seed to each target, seed first, as CSR:
    target k's path is ``idx[ptr[k]:ptr[k + 1]]`` (empty when it is unreached)."""
    ptr = np.zeros(len(targets) + 1, np.int64)
    for k in range(len(targets)):
        length = 0
        t = targets[k]
        if np.isfinite(dist[t]):
            while t >= 0:
                length += 1
                t = pred[t]
        ptr[k + 1] = ptr[k] + length
    idx = np.empty(ptr[-1], np.int64)
    for k in range(len(targets)):
        t = targets[k]
        j = ptr[k + 1] - 1
        while j >= ptr[k]:
            idx[j] = t
            t = pred[t]
            j -= 1
    return ptr, idx
