"""Most probable paths agree with Dijkstra in networkx on a layered graph."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ccm.engine import oracle
from ccm.engine.kernels import _max_product
from tests.engine_graphs import LEARNED, combined, seeds_for, snapshots


def walk(pred, state):
    states = [state]
    while pred[states[-1]] >= 0:
        states.append(int(pred[states[-1]]))
    return states[::-1]


@st.composite
def case(draw):
    snap = draw(snapshots().filter(lambda s: s.n > 0))
    seeds, probs = seeds_for(draw, snap.n)
    return snap, seeds, probs, draw(st.booleans())


@settings(max_examples=150, deadline=None)
@given(case())
def test_best_path_probabilities_equal_networkx_dijkstra(c):
    snap, seeds, probs, two_phase = c
    m = snap.model(LEARNED)
    with np.errstate(divide="ignore"):
        wa, wb, sw = -np.log(m.in_p), -np.log(m.out_ptd), -np.log(probs)
    dist, pred = _max_product(snap.n, snap.in_ptr, snap.in_idx, wa, snap.out_ptr,
                              snap.out_idx, wb, two_phase, seeds, sw)
    g = oracle.to_networkx(snap, LEARNED)
    best = {}
    for v, s in zip(seeds.tolist(), probs.tolist(), strict=True):
        best[v] = max(best.get(v, 0.0), s)
    want = oracle.max_product(g, best, two_phase)
    phases = 2 if two_phase else 1
    for state in range(snap.n * phases):
        key = (state % snap.n, state // snap.n)
        if key not in want:
            assert not np.isfinite(dist[state])
            continue
        prob, _ = want[key]
        assert math.exp(-dist[state]) == pytest.approx(prob, rel=1e-9)
        # the reported path really has that probability
        path = walk(pred, state)
        assert path[0] in best
        product = best[path[0]]
        for a, b in zip(path, path[1:], strict=False):
            u, v = a % snap.n, b % snap.n
            product *= g[v][u]["p"] if b < snap.n else g[u][v]["p_td"]
        assert product == pytest.approx(prob, rel=1e-9)
    assert combined(seeds, probs)  # seeds were used


@settings(max_examples=60, deadline=None)
@given(case())
def test_walking_back_gives_every_reached_targets_predecessor_chain(c):
    from ccm.engine.kernels import _walk_back

    snap, seeds, probs, _ = c
    m = snap.model(LEARNED)
    with np.errstate(divide="ignore"):
        w, sw = -np.log(m.in_p), -np.log(probs)
    dist, pred = _max_product(snap.n, snap.in_ptr, snap.in_idx, w, snap.out_ptr,
                              snap.out_idx, w, False, seeds, sw)
    targets = np.arange(snap.n, dtype=np.int64)
    ptr, idx = _walk_back(pred, dist, targets)
    for t in targets.tolist():
        got = idx[ptr[t]:ptr[t + 1]].tolist()
        assert got == (walk(pred, t) if np.isfinite(dist[t]) else [])
