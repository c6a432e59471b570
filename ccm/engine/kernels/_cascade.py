"""Monte Carlo independent cascades, in parallel over samples.

In one sample each seed fails with its probability; every newly failed node then
gets one chance, with probability p(u, v), to fail each of its dependants u.
Each sample draws from its own counter-based random stream, so results depend on
the seed only, not on the number of threads.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from ccm.engine.kernels._util import stream, uniform


@njit(cache=True, nogil=True)
def _one_cascade(in_ptr: np.ndarray, in_idx: np.ndarray, in_p: np.ndarray,
                 seeds: np.ndarray, seed_s: np.ndarray, state: np.uint64, tag: int,
                 stamp: np.ndarray, queue: np.ndarray) -> int:  # pragma: no cover - jitted
    """Run one cascade; failed nodes are ``queue[:count]`` (marked ``stamp == tag``)."""
    tail = 0
    for i in range(len(seeds)):
        v = seeds[i]
        state, x = uniform(state)
        if stamp[v] != tag and x < seed_s[i]:
            stamp[v] = tag
            queue[tail] = v
            tail += 1
    head = 0
    while head < tail:
        v = queue[head]
        head += 1
        for e in range(in_ptr[v], in_ptr[v + 1]):
            u = in_idx[e]
            if stamp[u] == tag:
                continue
            state, x = uniform(state)
            if x < in_p[e]:
                stamp[u] = tag
                queue[tail] = u
                tail += 1
    return tail


@njit(cache=True, nogil=True, parallel=True)
def _cascades(n: int, in_ptr: np.ndarray, in_idx: np.ndarray, in_p: np.ndarray,
              seeds: np.ndarray, seed_s: np.ndarray, counted: np.ndarray,
              weight: np.ndarray, samples: int, seed: int,
              chunks: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover
    """``samples`` cascades from ``seeds``. Returns, per sample, the number of failed
    ``counted`` nodes and the sum of ``weight`` over failed nodes; and, per node, how
    many samples it failed in."""
    counts = np.zeros(samples, np.int64)
    sums = np.zeros(samples)
    chunks = max(1, min(chunks, samples))
    hits = np.zeros((chunks, n), np.int32)
    per = (samples + chunks - 1) // chunks
    for c in prange(chunks):
        stamp = np.zeros(n, np.int32)
        queue = np.empty(n, np.int32)
        lo = c * per
        hi = min(samples, lo + per)
        for k in range(lo, hi):
            tag = k - lo + 1
            count = _one_cascade(in_ptr, in_idx, in_p, seeds, seed_s, stream(seed, k), tag,
                                 stamp, queue)
            nc = 0
            w = 0.0
            for i in range(count):
                v = queue[i]
                hits[c, v] += 1
                if counted[v]:
                    nc += 1
                w += weight[v]
            counts[k] = nc
            sums[k] = w
    return counts, sums, hits.sum(axis=0)
