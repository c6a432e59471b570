"""Kernels on the propagation graph: ordering, reachability, noisy-OR fixpoints.

The graph is given in CSR form twice: ``out`` (a node's dependencies: callees and
config keys) and ``in`` (a node's dependants: callers). A failure travels along
``in`` with probability ``p``; a traffic drop travels along ``out`` with ``p_td``.
"""

from __future__ import annotations

import numpy as np
from numba import njit


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


#: observation modes of :func:`_spread`: none; evidence on a node's whole value (failure
#: direction); evidence on the part that comes from other nodes (traffic drop)
PLAIN, OBSERVE_WHOLE, OBSERVE_OTHERS = 0, 1, 2
#: "no time" (also defined in ``_rca``): a hypothesis without a time
_NO_TIME = np.iinfo(np.int64).min


@njit(cache=True, nogil=True, inline="always")
def _belief(r: float, v: int, obs: tuple) -> float:  # pragma: no cover - jitted
    """P(v is affected | its inputs, its own observation), from its prior probability r.

    ``obs`` is ``(flags, t_obs, alert_bit, h_time, skew, miss, miss_quiet, fa, mode)``: an
    unmonitored node, or one whose alert began before the hypothesis's time, is
    unobserved (r); an alerting node is affected unless the alert is false; a quiet
    monitored node is affected only if its alert was missed (or has not fired yet:
    ``miss_quiet`` >= ``miss``)."""
    flags, t_obs, bit, h_time, skew, miss, miss_quiet, fa = obs[0], obs[1], obs[2], \
        obs[3], obs[4], obs[5], obs[6], obs[7]
    f = flags[v]
    if f & 1 == 0 or r <= 0.0 or r >= 1.0:
        return r
    if f & bit:
        if h_time != _NO_TIME and t_obs[v] < h_time - skew:
            return r
        a = r * (1.0 - miss)
        return a / (a + (1.0 - r) * fa)
    a = r * miss_quiet
    return a / (a + (1.0 - r) * (1.0 - fa))


@njit(cache=True, nogil=True, inline="always")
def _passed_on(v: int, value: float, prod: float, s: float,
               obs: tuple) -> float:  # pragma: no cover - jitted
    """What node v passes on to the nodes it reaches: its value without observations;
    with them, its belief (:func:`_belief`) of the whole value, or of the part from other
    nodes (``1 - prod``) combined with its own seed ``s``."""
    mode = obs[8]
    if mode == PLAIN:
        return value
    if mode == OBSERVE_WHOLE:
        return _belief(value, v, obs)
    return 1.0 - (1.0 - s) * (1.0 - _belief(1.0 - prod, v, obs))


@njit(cache=True, nogil=True, inline="always")
def _touch(w: int, tag: int, stamp: np.ndarray, sv: np.ndarray, q: np.ndarray,
           val: np.ndarray, bel: np.ndarray, touched: np.ndarray,
           count: int) -> int:  # pragma: no cover
    """Start using scratch entry w for query ``tag``; return the new touched count."""
    stamp[w] = tag
    sv[w] = 0.0
    q[w] = 1.0
    val[w] = 0.0
    bel[w] = 0.0
    touched[count] = w
    return count + 1


@njit(cache=True, nogil=True)
def _spread(n: int, push_ptr: np.ndarray, push_idx: np.ndarray, push_p: np.ndarray,
            pull_ptr: np.ndarray, pull_idx: np.ndarray, pull_p: np.ndarray,
            comp: np.ndarray, cyclic: np.ndarray, step: int, seeds: np.ndarray,
            seed_s: np.ndarray, floor: float, tol: float, max_sweeps: int, tag: int,
            stamp: np.ndarray, sv: np.ndarray, q: np.ndarray, val: np.ndarray,
            bel: np.ndarray, touched: np.ndarray, obs: tuple) -> int:  # pragma: no cover
    """Sparse noisy-OR from seeds, for many small queries on a topologically numbered
    graph: values flow along ``push`` edges toward higher indices (``step`` 1) or lower
    ones (``step`` -1), so one scan from the seeds meets every node after all of its
    inputs, except inside strongly connected components, which are swept (pulling along
    ``pull`` edges, the reverse of ``push``). Each node passes on ``bel`` (see
    :func:`_passed_on`: its value, or with observations ``obs`` its belief given them);
    one whose ``bel`` stays below ``floor`` passes nothing on. Scratch arrays are valid
    where ``stamp == tag`` (no clearing between queries). For the ``touched[:count]``
    nodes afterwards: ``val`` is the probability including the node's own seed, ``1 - q``
    the part from other nodes. Returns ``count``."""
    count = 0
    pending = 0
    first = -1
    for i in range(len(seeds)):
        v = seeds[i]
        if stamp[v] != tag:
            count = _touch(v, tag, stamp, sv, q, val, bel, touched, count)
            pending += 1
        sv[v] = 1.0 - (1.0 - sv[v]) * (1.0 - seed_s[i])
        if first < 0 or (v - first) * step < 0:
            first = v
    i = first
    if i >= 0:
        i = _block_start_of(i, comp) if step > 0 else _block_end_of(i, n, comp)
    while 0 <= i < n and pending > 0:
        if not cyclic[i]:
            if stamp[i] == tag:
                pending -= 1
                v = 1.0 - (1.0 - sv[i]) * q[i]
                val[i] = v
                b = _passed_on(i, v, q[i], sv[i], obs)
                bel[i] = b
                if b >= floor:
                    count, pending = _spread_push(i, b, False, push_ptr, push_idx, push_p,
                                                  comp, tag, stamp, sv, q, val, bel,
                                                  touched, count, pending)
            i += step
            continue
        a = _block_start_of(i, comp) if step < 0 else i
        b_ = _block_end_of(i, n, comp) if step > 0 else i
        active = False
        for k in range(a, b_ + 1):
            if stamp[k] == tag:
                active = True
                pending -= 1
        if active:
            for k in range(a, b_ + 1):
                if stamp[k] != tag:
                    count = _touch(k, tag, stamp, sv, q, val, bel, touched, count)
            _spread_sweep(a, b_, pull_ptr, pull_idx, pull_p, comp, floor, tol, max_sweeps,
                          sv, q, val, bel, obs)
            for k in range(a, b_ + 1):
                if bel[k] >= floor:
                    count, pending = _spread_push(k, bel[k], True, push_ptr, push_idx,
                                                  push_p, comp, tag, stamp, sv, q, val, bel,
                                                  touched, count, pending)
        i = b_ + 1 if step > 0 else a - 1
    return count


@njit(cache=True, nogil=True, inline="always")
def _block_start_of(i: int, comp: np.ndarray) -> int:  # pragma: no cover - jitted
    """First index of node i's component (nodes numbered in topological order)."""
    c = comp[i]
    while i > 0 and comp[i - 1] == c:
        i -= 1
    return i


@njit(cache=True, nogil=True, inline="always")
def _block_end_of(i: int, n: int, comp: np.ndarray) -> int:  # pragma: no cover - jitted
    """Last index of node i's component."""
    c = comp[i]
    while i + 1 < n and comp[i + 1] == c:
        i += 1
    return i


@njit(cache=True, nogil=True, inline="always")
def _spread_push(u: int, v: float, cross: bool, ptr: np.ndarray, idx: np.ndarray,
                 p: np.ndarray, comp: np.ndarray, tag: int, stamp: np.ndarray,
                 sv: np.ndarray, q: np.ndarray, val: np.ndarray, bel: np.ndarray,
                 touched: np.ndarray, count: int,
                 pending: int) -> tuple[int, int]:  # pragma: no cover - jitted
    cu = comp[u]
    for e in range(ptr[u], ptr[u + 1]):
        pe = p[e]
        w = idx[e]
        if pe <= 0.0 or (cross and comp[w] == cu):
            continue
        if stamp[w] != tag:
            count = _touch(w, tag, stamp, sv, q, val, bel, touched, count)
            pending += 1
        q[w] *= 1.0 - pe * v
    return count, pending


@njit(cache=True, nogil=True)
def _spread_sweep(a: int, b: int, ptr: np.ndarray, idx: np.ndarray, p: np.ndarray,
                  comp: np.ndarray, floor: float, tol: float, max_sweeps: int,
                  sv: np.ndarray, q: np.ndarray, val: np.ndarray, bel: np.ndarray,
                  obs: tuple) -> None:  # pragma: no cover - jitted
    """Settle the component at indices a..b: members pull what members whose ``bel`` is
    at least ``floor`` pass on; on return ``q`` holds each member's full product."""
    c = comp[a]
    for _ in range(max_sweeps):
        delta = 0.0
        for u in range(a, b + 1):
            prod = q[u]
            for e in range(ptr[u], ptr[u + 1]):
                w = idx[e]
                if comp[w] == c and bel[w] >= floor and bel[w] > 0.0:
                    prod *= 1.0 - p[e] * bel[w]
            new = 1.0 - (1.0 - sv[u]) * prod
            delta = max(delta, abs(new - val[u]))
            val[u] = new
            bel[u] = _passed_on(u, new, prod, sv[u], obs)
        if delta <= tol:
            break
    for u in range(a, b + 1):
        prod = q[u]
        for e in range(ptr[u], ptr[u + 1]):
            w = idx[e]
            if comp[w] == c and bel[w] >= floor and bel[w] > 0.0:
                prod *= 1.0 - p[e] * bel[w]
        q[u] = prod


@njit(cache=True, nogil=True)
def _noisy_or_sparse(n: int, push_ptr: np.ndarray, push_idx: np.ndarray, push_p: np.ndarray,
                     pull_ptr: np.ndarray, pull_idx: np.ndarray, pull_p: np.ndarray,
                     comp: np.ndarray, cyclic: np.ndarray, step: int, seeds: np.ndarray,
                     seed_s: np.ndarray, floor: float, tol: float,
                     max_sweeps: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover
    """One :func:`_spread` query with fresh scratch (no observations):
    (touched nodes, val, 1 - q)."""
    stamp = np.zeros(n, np.int32)
    sv = np.zeros(n)
    q = np.ones(n)
    val = np.zeros(n)
    bel = np.zeros(n)
    touched = np.empty(n, np.int32)
    empty = np.zeros(0, np.int64)
    obs = (empty, empty, 0, _NO_TIME, 0, 0.0, 0.0, 0.0, PLAIN)
    count = _spread(n, push_ptr, push_idx, push_p, pull_ptr, pull_idx, pull_p, comp, cyclic,
                    step, seeds, seed_s, floor, tol, max_sweeps, 1, stamp, sv, q, val, bel,
                    touched, obs)
    nodes = touched[:count].copy()
    return nodes, val[nodes], 1.0 - q[nodes]
