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


@njit(cache=True, nogil=True, inline="always")
def _block_start(i: int, order: np.ndarray, comp: np.ndarray) -> int:  # pragma: no cover
    """The first position of the strongly connected component at position i."""
    c = comp[order[i]]
    while i > 0 and comp[order[i - 1]] == c:
        i -= 1
    return i


@njit(cache=True, nogil=True, inline="always")
def _block_end(i: int, n: int, order: np.ndarray, comp: np.ndarray) -> int:  # pragma: no cover
    """The last position of the strongly connected component starting at position i."""
    c = comp[order[i]]
    j = i
    while j + 1 < n and comp[order[j + 1]] == c:
        j += 1
    return j


@njit(cache=True, nogil=True, inline="always")
def _push(u: int, ru: float, cross: bool, in_ptr: np.ndarray, in_idx: np.ndarray,
          in_p: np.ndarray, comp: np.ndarray, q: np.ndarray) -> int:  # pragma: no cover
    """Push u's final value into the products of its dependants (only those in other
    components when ``cross``); return how many of them were untouched before."""
    new = 0
    if ru <= 0.0:
        return 0
    cu = comp[u]
    for e in range(in_ptr[u], in_ptr[u + 1]):
        w = in_idx[e]
        pe = in_p[e]
        if pe <= 0.0 or (cross and comp[w] == cu):
            continue
        old = q[w]
        q[w] = old * (1.0 - pe * ru)
        if old == 1.0 and q[w] < 1.0:
            new += 1
    return new


@njit(cache=True, nogil=True)
def _sweep(i: int, j: int, order: np.ndarray, comp: np.ndarray, q: np.ndarray,
           r: np.ndarray, out_ptr: np.ndarray, out_idx: np.ndarray, out_p: np.ndarray,
           tol: float, max_sweeps: int) -> bool:  # pragma: no cover - jitted
    """Gauss-Seidel sweeps over the component at positions i..j: each member's value from
    its outside product ``q`` and its members' values. True when settled."""
    c = comp[order[i]]
    for _ in range(max_sweeps):
        delta = 0.0
        for k in range(i, j + 1):
            u = order[k]
            prod = q[u]
            for e in range(out_ptr[u], out_ptr[u + 1]):
                v = out_idx[e]
                if comp[v] == c and r[v] > 0.0:
                    prod *= 1.0 - out_p[e] * r[v]
            new = 1.0 - prod
            delta = max(delta, new - r[u])
            r[u] = new
        if delta <= tol:
            return True
    return False


@njit(cache=True, nogil=True)
def _noisy_or_dense(n: int, in_ptr: np.ndarray, in_idx: np.ndarray, in_p: np.ndarray,
                    out_ptr: np.ndarray, out_idx: np.ndarray, out_p: np.ndarray,
                    order: np.ndarray, pos: np.ndarray, comp: np.ndarray,
                    cyclic: np.ndarray, seeds: np.ndarray, seed_s: np.ndarray,
                    tol: float, max_sweeps: int) -> tuple[np.ndarray, bool]:  # pragma: no cover
    """Least fixpoint of ``r(u) = 1 - (1 - s(u)) * prod_v (1 - p(u,v) r(v))`` over the
    dependencies v of u, from seed probabilities ``s``.

    ``q[u]`` accumulates ``(1 - s(u)) * prod(...)``; one pass in topological order from
    the first seed finalises each node it meets with ``q < 1`` and pushes its value into
    its dependants' ``q``, so only reached nodes and their edges are touched (the pass
    stops once nothing is pending). Strongly connected components are swept, pulling
    from members, until no value moves by more than ``tol``. Returns (r, converged)."""
    q = np.ones(n)
    r = np.zeros(n)
    pending = 0
    start = n
    for i in range(len(seeds)):
        v = seeds[i]
        if q[v] == 1.0 and seed_s[i] > 0.0:
            pending += 1
        q[v] *= 1.0 - seed_s[i]
        start = min(start, pos[v])
    converged = True
    i = _block_start(start, order, comp) if start < n else n
    while i < n and pending > 0:
        u = order[i]
        if not cyclic[u]:
            i += 1
            if q[u] < 1.0:
                pending -= 1
                r[u] = 1.0 - q[u]
                pending += _push(u, r[u], False, in_ptr, in_idx, in_p, comp, q)
            continue
        j = _block_end(i, n, order, comp)
        active = False
        for k in range(i, j + 1):
            if q[order[k]] < 1.0:
                active = True
                pending -= 1
        if active:
            settled = _sweep(i, j, order, comp, q, r, out_ptr, out_idx, out_p, tol,
                             max_sweeps)
            converged = converged and settled
            for k in range(i, j + 1):
                w = order[k]
                pending += _push(w, r[w], True, in_ptr, in_idx, in_p, comp, q)
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
