"""Monte Carlo independent cascades, 64 samples per machine word, in parallel.

An independent cascade (each newly failed node gets one chance, with probability
p(u, v), to fail each dependant) has the same distribution as reachability from
the failed seeds over "live" edges, each edge live independently with its p
(Kempe, Kleinberg & Tardos 2003). So one pass in topological order computes 64
samples at once: bit k of ``failed[v]`` says whether v failed in sample k, and an
edge passes ``failed[v] & live(e)``, where ``live(e)`` is a 64-bit mask whose bits
are 1 with probability p (built from at most 10 random words: p is used to 1/1024,
far finer than the model's own precision).
Every mask is a pure hash of (seed, batch, edge), so results depend on the seed
only, and strongly connected components can be iterated until no bit moves.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from ccm.engine.kernels._propagate import _block_end, _block_start
from ccm.engine.kernels._util import splitmix, stream

_ONES = np.uint64(0xFFFFFFFFFFFFFFFF)
_ZERO = np.uint64(0)
_ONE = np.uint64(1)
_M1 = np.uint64(0x5555555555555555)
_M2 = np.uint64(0x3333333333333333)
_M4 = np.uint64(0x0F0F0F0F0F0F0F0F)
_H01 = np.uint64(0x0101010101010101)
_KEY = np.uint64(0xD6E8FEB86659FD93)
_BITS = 10
_SCALE = 1 << _BITS


@njit(cache=True, nogil=True, inline="always")
def _popcount(x: np.uint64) -> int:  # pragma: no cover - jitted
    x = x - ((x >> _ONE) & _M1)
    x = (x & _M2) + ((x >> np.uint64(2)) & _M2)
    x = (x + (x >> np.uint64(4))) & _M4
    return int((x * _H01) >> np.uint64(56))


@njit(cache=True, nogil=True, inline="always")
def _mask(base: np.uint64, key: int, p: float) -> np.uint64:  # pragma: no cover - jitted
    """64 independent bits, each 1 with probability p (to 1/1024), for ``key``: the bits
    of p are applied from the lowest (OR for a 1, AND for a 0) to random words.

    Branch-free: every bit position draws its word and a 0 below p's lowest 1 leaves the
    empty mask empty (the same mask as skipping them), so no branch depends on p; with p
    varying from edge to edge, mispredicted branches cost more than the extra words."""
    p16 = int(p * _SCALE + 0.5)
    if p16 >= _SCALE:
        return _ONES
    if p16 <= 0:
        return _ZERO
    k = base ^ (np.uint64(key) * _KEY)
    m = _ZERO
    for b in range(_BITS):
        _, z = splitmix(k + np.uint64(b))
        take = _ZERO - np.uint64((p16 >> b) & 1)  # all ones where p's bit b is 1
        m = (m & z) | (take & (m ^ z))  # m | z if the bit is 1, else m & z
    return m


@njit(cache=True, nogil=True)
def _settle(i: int, j: int, comp: np.ndarray, order: np.ndarray, out_ptr: np.ndarray,
            out_idx: np.ndarray, out_eid: np.ndarray, out_p: np.ndarray, base: np.uint64,
            failed: np.ndarray) -> None:  # pragma: no cover - jitted
    """Spread failures inside the component at positions i..j until no bit moves."""
    c = comp[order[i]]
    moved = True
    while moved:
        moved = False
        for k in range(i, j + 1):
            w = order[k]
            acc = failed[w]
            for e in range(out_ptr[w], out_ptr[w + 1]):
                v = out_idx[e]
                if comp[v] == c and failed[v] != _ZERO:
                    acc |= failed[v] & _mask(base, out_eid[e], out_p[e])
            if acc != failed[w]:
                failed[w] = acc
                moved = True


@njit(cache=True, nogil=True)
def _batch(n: int, in_ptr: np.ndarray, in_idx: np.ndarray, in_eid: np.ndarray,
           in_p: np.ndarray, out_ptr: np.ndarray, out_idx: np.ndarray, out_eid: np.ndarray,
           out_p: np.ndarray, order: np.ndarray, pos: np.ndarray, comp: np.ndarray,
           cyclic: np.ndarray, seeds: np.ndarray, seed_s: np.ndarray, base: np.uint64,
           lanes: np.uint64, failed: np.ndarray, coins: np.ndarray
           ) -> tuple[int, int]:  # pragma: no cover
    """Up to 64 cascades in one topological pass (bit k of ``failed[v]``: v failed in
    sample k). Returns the range of positions ``[lo, hi)`` that may hold failures.
    ``coins``: this batch's row of a :func:`_coin_table` (the masks of the ``in`` edges,
    by position), or empty to compute each mask here."""
    n_edges = len(in_idx)
    tabled = len(coins) > 0
    pending = 0
    start = n
    hi = 0
    for i in range(len(seeds)):
        v = seeds[i]
        was = failed[v]
        failed[v] |= _mask(base, n_edges + i, seed_s[i]) & lanes
        if was == _ZERO and failed[v] != _ZERO:
            pending += 1
        start = min(start, pos[v])
        hi = max(hi, pos[v] + 1)
    i = _block_start(start, order, comp) if start < n else n
    lo = i
    while i < n and pending > 0:
        u = order[i]
        j = i if not cyclic[u] else _block_end(i, n, order, comp)
        active = False
        for k in range(i, j + 1):
            if failed[order[k]] != _ZERO:
                active = True
                pending -= 1
        if active and j > i:
            _settle(i, j, comp, order, out_ptr, out_idx, out_eid, out_p, base, failed)
        if active:
            for k in range(i, j + 1):
                w = order[k]
                x = failed[w]
                if x == _ZERO:
                    continue
                cw = comp[w]
                for e in range(in_ptr[w], in_ptr[w + 1]):
                    t = in_idx[e]
                    if j > i and comp[t] == cw:
                        continue
                    y = x & (coins[e] if tabled else _mask(base, in_eid[e], in_p[e]))
                    if y != _ZERO:
                        if failed[t] == _ZERO:
                            pending += 1
                            hi = max(hi, pos[t] + 1)
                        failed[t] |= y
        i = j + 1
    return lo, max(hi, i)


@njit(cache=True, nogil=True)
def _tally(lo: int, hi: int, order: np.ndarray, failed: np.ndarray, counted: np.ndarray,
           weight: np.ndarray, first: int, n_lanes: int, counts: np.ndarray,
           sums: np.ndarray, hits: np.ndarray) -> None:  # pragma: no cover - jitted
    """Per-sample counts (bit-sliced counters) and weights, per-node hits; then reset."""
    bits = np.zeros(64, np.uint64)
    for i in range(lo, min(hi, len(order))):
        v = order[i]
        x = failed[v]
        if x == _ZERO:
            continue
        failed[v] = _ZERO
        hits[v] += _popcount(x)
        if counted[v]:
            carry = x
            level = 0
            while carry != _ZERO:
                t = bits[level] & carry
                bits[level] ^= carry
                carry = t
                level += 1
        if weight[v] != 0.0:
            y = x
            while y != _ZERO:
                low = y & (~y + _ONE)
                sums[first + _popcount(low - _ONE)] += weight[v]
                y ^= low
    for lane in range(n_lanes):
        total = 0
        for level in range(64):
            total += int((bits[level] >> np.uint64(lane)) & _ONE) << level
        counts[first + lane] = total


@njit(cache=True, nogil=True)
def _chunk(c: int, per: int, batches: int, n: int, in_ptr: np.ndarray, in_idx: np.ndarray,
           in_eid: np.ndarray, in_p: np.ndarray, out_ptr: np.ndarray, out_idx: np.ndarray,
           out_eid: np.ndarray, out_p: np.ndarray, order: np.ndarray, pos: np.ndarray,
           comp: np.ndarray, cyclic: np.ndarray, seeds: np.ndarray, seed_s: np.ndarray,
           counted: np.ndarray, weight: np.ndarray, samples: int, seed: int, b0: int,
           coins: np.ndarray, counts: np.ndarray, sums: np.ndarray, hits: np.ndarray
           ) -> None:  # pragma: no cover
    """The batches of chunk ``c`` (batches ``c * per`` to ``(c + 1) * per`` of this run,
    whose first batch is batch ``b0`` of the seed's stream)."""
    failed = np.zeros(n, np.uint64)
    none = np.empty(0, np.uint64)
    for b in range(c * per, min(batches, (c + 1) * per)):
        n_lanes = min(64, samples - 64 * b)
        lanes = _ONES if n_lanes == 64 else (_ONE << np.uint64(n_lanes)) - _ONE
        row = coins[b0 + b] if b0 + b < coins.shape[0] else none
        lo, hi = _batch(n, in_ptr, in_idx, in_eid, in_p, out_ptr, out_idx, out_eid,
                        out_p, order, pos, comp, cyclic, seeds, seed_s,
                        stream(seed, b0 + b), lanes, failed, row)
        _tally(lo, hi, order, failed, counted, weight, 64 * b, n_lanes, counts, sums, hits)


@njit(cache=True, nogil=True, parallel=True)
def _cascades(n: int, in_ptr: np.ndarray, in_idx: np.ndarray, in_eid: np.ndarray,
              in_p: np.ndarray, out_ptr: np.ndarray, out_idx: np.ndarray,
              out_eid: np.ndarray, out_p: np.ndarray, order: np.ndarray, pos: np.ndarray,
              comp: np.ndarray, cyclic: np.ndarray, seeds: np.ndarray, seed_s: np.ndarray,
              counted: np.ndarray, weight: np.ndarray, samples: int, seed: int, b0: int,
              coins: np.ndarray, chunks: int
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover
    """``samples`` cascades from ``seeds``. Returns, per sample, the number of failed
    ``counted`` nodes and the sum of ``weight`` over failed nodes; and, per node, how
    many samples it failed in. Batches of 64 samples run in parallel. Every mask is a
    hash of (seed, batch, edge), so the result does not depend on ``chunks``; the run's
    batches are batches ``b0``, ``b0 + 1``... of the seed (a run of 1,024 samples from
    ``b0 = 0`` is the same as two of 512 from 0 and 8, one after the other). ``coins``: a
    :func:`_coin_table` of ``seed`` (its rows: batches 0, 1...), or a (0, 0) array; the
    result is the same with or without."""
    counts = np.zeros(samples, np.int64)
    sums = np.zeros(samples)
    batches = (samples + 63) // 64
    chunks = max(1, min(chunks, batches))
    hits = np.zeros((chunks, n), np.int64)
    per = (batches + chunks - 1) // chunks
    for c in prange(chunks):
        _chunk(c, per, batches, n, in_ptr, in_idx, in_eid, in_p, out_ptr, out_idx, out_eid,
               out_p, order, pos, comp, cyclic, seeds, seed_s, counted, weight, samples, seed,
               b0, coins, counts, sums, hits[c])
    return counts, sums, hits.sum(axis=0)


@njit(cache=True, nogil=True)
def _cascades_serial(n: int, in_ptr: np.ndarray, in_idx: np.ndarray, in_eid: np.ndarray,
                     in_p: np.ndarray, out_ptr: np.ndarray, out_idx: np.ndarray,
                     out_eid: np.ndarray, out_p: np.ndarray, order: np.ndarray,
                     pos: np.ndarray, comp: np.ndarray, cyclic: np.ndarray, seeds: np.ndarray,
                     seed_s: np.ndarray, counted: np.ndarray, weight: np.ndarray,
                     samples: int, seed: int, b0: int, coins: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover
    """:func:`_cascades` on the calling thread only (the same result): it never touches
    Numba's threading layer, so any number of threads may run it at once."""
    counts = np.zeros(samples, np.int64)
    sums = np.zeros(samples)
    hits = np.zeros(n, np.int64)
    batches = (samples + 63) // 64
    _chunk(0, batches, batches, n, in_ptr, in_idx, in_eid, in_p, out_ptr, out_idx, out_eid,
           out_p, order, pos, comp, cyclic, seeds, seed_s, counted, weight, samples, seed,
           b0, coins, counts, sums, hits)
    return counts, sums, hits


@njit(cache=True, nogil=True)
def _coin_table(in_eid: np.ndarray, in_p: np.ndarray, seed: int,
                batches: int) -> np.ndarray:  # pragma: no cover - jitted
    """The masks the cascades of ``seed`` draw on the ``in`` edges, batch by batch (row
    b: batch b, by edge position): the same values :func:`_batch` would compute, kept
    for predictions that draw them again (every prediction with this seed on this
    model does)."""
    out = np.empty((batches, len(in_eid)), np.uint64)
    for b in range(batches):
        base = stream(seed, b)
        for e in range(len(in_eid)):
            out[b, e] = _mask(base, in_eid[e], in_p[e])
    return out
