"""Kernels on the propagation graph: ordering, reachability, noisy-OR fixpoints.

The graph is given in CSR form twice: ``out`` (a node's dependencies: callees and
config keys) and ``in`` (a node's dependants: callers). A failure travels along
``in`` with probability ``p``; a traffic drop travels along ``out`` with ``p_td``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ccm.engine.kernels._util import iheap_pop, iheap_push


@njit(cache=True, nogil=True)
def _topo_rank(n_comp: int, dep_ptr: np.ndarray, dep_idx: np.ndarray,
               n_deps: np.ndarray) -> np.ndarray:  # pragma: no cover - jitted
    """Kahn's algorithm on the condensation: ``rank[c]`` such that every component comes
    after the components it depends on. ``dep_ptr/dep_idx`` list, for each component,
    the components that depend on it; ``n_deps[c]`` counts c's own dependencies."""
    remaining = n_deps.copy()
    rank = np.full(n_comp, -1, np.int64)
    queue = np.empty(n_comp, np.int64)
    head = 0
    tail = 0
    for c in range(n_comp):
        if remaining[c] == 0:
            queue[tail] = c
            tail += 1
    while head < tail:
        c = queue[head]
        rank[c] = head
        head += 1
        for e in range(dep_ptr[c], dep_ptr[c + 1]):
            d = dep_idx[e]
            remaining[d] -= 1
            if remaining[d] == 0:
                queue[tail] = d
                tail += 1
    return rank


@njit(cache=True, nogil=True)
def _reach(n: int, ptr: np.ndarray, idx: np.ndarray, w: np.ndarray,
           seeds: np.ndarray) -> np.ndarray:  # pragma: no cover - jitted
    """Breadth-first reachability from ``seeds`` over edges of positive weight ``w``;
    returns the reached nodes in visiting order (seeds first)."""
    mark = np.zeros(n, np.bool_)
    queue = np.empty(n, np.int32)
    tail = 0
    for i in range(len(seeds)):
        v = seeds[i]
        if not mark[v]:
            mark[v] = True
            queue[tail] = v
            tail += 1
    head = 0
    while head < tail:
        v = queue[head]
        head += 1
        for e in range(ptr[v], ptr[v + 1]):
            u = idx[e]
            if not mark[u] and w[e] > 0.0:
                mark[u] = True
                queue[tail] = u
                tail += 1
    return queue[:tail].copy()


@njit(cache=True, nogil=True)
def _in_topo_order(n: int, reached: np.ndarray, order: np.ndarray,
                   pos: np.ndarray) -> np.ndarray:  # pragma: no cover - jitted
    """The reached nodes sorted by topological position: sort them when few, else scan
    the global order (O(n)), whichever is cheaper."""
    r = len(reached)
    if r * max(1.0, np.log2(r + 1.0)) * 4.0 < n:
        keys = np.empty(r, np.int64)
        for i in range(r):
            keys[i] = pos[reached[i]]
        keys.sort()
        out = np.empty(r, np.int32)
        for i in range(r):
            out[i] = order[keys[i]]
        return out
    mark = np.zeros(n, np.bool_)
    for i in range(r):
        mark[reached[i]] = True
    out = np.empty(r, np.int32)
    k = 0
    for i in range(n):
        if mark[order[i]]:
            out[k] = order[i]
            k += 1
    return out


@njit(cache=True, nogil=True, inline="always")
def _pull(u: int, s: float, out_ptr: np.ndarray, out_idx: np.ndarray, out_p: np.ndarray,
          r: np.ndarray) -> float:  # pragma: no cover - jitted
    prod = 1.0 - s
    for e in range(out_ptr[u], out_ptr[u + 1]):
        rv = r[out_idx[e]]
        if rv > 0.0:
            prod *= 1.0 - out_p[e] * rv
    return 1.0 - prod


@njit(cache=True, nogil=True)
def _noisy_or_dense(n: int, in_ptr: np.ndarray, in_idx: np.ndarray, in_p: np.ndarray,
                    out_ptr: np.ndarray, out_idx: np.ndarray, out_p: np.ndarray,
                    order: np.ndarray, pos: np.ndarray, comp: np.ndarray,
                    cyclic: np.ndarray, seeds: np.ndarray, seed_s: np.ndarray,
                    tol: float, max_sweeps: int) -> tuple[np.ndarray, bool]:  # pragma: no cover
    """Least fixpoint of ``r(u) = 1 - (1 - s(u)) * prod_v (1 - p(u,v) r(v))`` over the
    dependencies v of u, from seed probabilities ``s``. Reached nodes are visited once
    in topological order; strongly connected components are swept until no value moves
    by more than ``tol``. Returns (r, converged)."""
    s = np.zeros(n)
    for i in range(len(seeds)):
        s[seeds[i]] = 1.0 - (1.0 - s[seeds[i]]) * (1.0 - seed_s[i])
    reached = _reach(n, in_ptr, in_idx, in_p, seeds)
    seq = _in_topo_order(n, reached, order, pos)
    r = np.zeros(n)
    converged = True
    i = 0
    m = len(seq)
    while i < m:
        u = seq[i]
        if not cyclic[u]:
            r[u] = _pull(u, s[u], out_ptr, out_idx, out_p, r)
            i += 1
            continue
        j = i
        while j + 1 < m and comp[seq[j + 1]] == comp[u]:
            j += 1
        settled = False
        for _ in range(max_sweeps):
            delta = 0.0
            for k in range(i, j + 1):
                w = seq[k]
                new = _pull(w, s[w], out_ptr, out_idx, out_p, r)
                delta = max(delta, new - r[w])
                r[w] = new
            if delta <= tol:
                settled = True
                break
        converged = converged and settled
        i = j + 1
    return r, converged


@njit(cache=True, nogil=True)
def _spread(n: int, ptr: np.ndarray, idx: np.ndarray, p: np.ndarray, key: np.ndarray,
            seeds: np.ndarray, seed_s: np.ndarray, floor: float, tol: float,
            tag: int, stamp: np.ndarray, inheap: np.ndarray, sv: np.ndarray,
            q: np.ndarray, sent: np.ndarray, val: np.ndarray, hkeys: np.ndarray,
            hnodes: np.ndarray, touched: np.ndarray) -> int:  # pragma: no cover - jitted
    """Sparse noisy-OR from seeds along ``ptr/idx`` (push form, for many small queries).

    Nodes are processed in increasing ``key`` (a topological position), so outside
    cycles each node is final when popped; a node whose value stays below ``floor``
    does not propagate. Scratch arrays are valid where ``stamp == tag`` (no clearing
    between queries). After the call, for the ``touched[:count]`` nodes: ``val`` is
    the probability including the node's own seed, ``1 - q`` the part coming from
    other nodes. Returns ``count``."""
    count = 0
    size = 0
    for i in range(len(seeds)):
        v = seeds[i]
        if stamp[v] != tag:
            stamp[v] = tag
            q[v] = 1.0
            sent[v] = 0.0
            sv[v] = 0.0
            val[v] = 0.0
            touched[count] = v
            count += 1
        sv[v] = 1.0 - (1.0 - sv[v]) * (1.0 - seed_s[i])
        if inheap[v] != tag:
            inheap[v] = tag
            size = iheap_push(hkeys, hnodes, size, key[v], v)
    while size > 0:
        v, size = iheap_pop(hkeys, hnodes, size)
        inheap[v] = 0
        new = 1.0 - (1.0 - sv[v]) * q[v]
        val[v] = new
        old = sent[v]
        if new < floor or new - old <= tol:
            continue
        for e in range(ptr[v], ptr[v + 1]):
            pe = p[e]
            if pe <= 0.0:
                continue
            u = idx[e]
            if stamp[u] != tag:
                stamp[u] = tag
                q[u] = 1.0
                sent[u] = 0.0
                sv[u] = 0.0
                val[u] = 0.0
                touched[count] = u
                count += 1
            q[u] *= (1.0 - pe * new) / (1.0 - pe * old)
            if inheap[u] != tag:
                inheap[u] = tag
                size = iheap_push(hkeys, hnodes, size, key[u], u)
        sent[v] = new
    return count


@njit(cache=True, nogil=True)
def _noisy_or_sparse(n: int, ptr: np.ndarray, idx: np.ndarray, p: np.ndarray,
                     key: np.ndarray, seeds: np.ndarray, seed_s: np.ndarray, floor: float,
                     tol: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover
    """One :func:`_spread` query with fresh scratch: (touched nodes, val, 1 - q)."""
    stamp = np.zeros(n, np.int32)
    inheap = np.zeros(n, np.int32)
    sv = np.zeros(n)
    q = np.ones(n)
    sent = np.zeros(n)
    val = np.zeros(n)
    hkeys = np.empty(n, np.int64)
    hnodes = np.empty(n, np.int32)
    touched = np.empty(n, np.int32)
    count = _spread(n, ptr, idx, p, key, seeds, seed_s, floor, tol, 1, stamp, inheap,
                    sv, q, sent, val, hkeys, hnodes, touched)
    nodes = touched[:count].copy()
    return nodes, val[nodes], 1.0 - q[nodes]
