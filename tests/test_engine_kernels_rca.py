"""The root-cause kernels agree with their networkx twins on random graphs."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ccm.engine import oracle
from ccm.engine.kernels import NO_TIME, _latest_cause_time, _score_hypotheses
from tests.engine_graphs import LEARNED, snapshots

T0 = 1_000_000_000


@st.composite
def symptoms(draw, n):
    k = draw(st.integers(1, min(4, n)))
    nodes = draw(st.lists(st.integers(0, n - 1), min_size=k, max_size=k))
    times = draw(st.lists(st.integers(0, 5), min_size=k, max_size=k))
    up = draw(st.lists(st.booleans(), min_size=k, max_size=k))
    return (np.array(nodes, np.int32), T0 + np.array(times, np.int64) * 60_000_000,
            np.array(up, np.bool_))


@st.composite
def case(draw):
    snap = draw(snapshots().filter(lambda s: s.n > 0))
    return snap, draw(symptoms(snap.n))


@settings(max_examples=150, deadline=None)
@given(case())
def test_latest_cause_time_equals_the_networkx_closure(c):
    snap, (nodes, times, up) = c
    got = _latest_cause_time(snap.n, snap.out_ptr, snap.out_idx, snap.in_ptr, snap.in_idx,
                             nodes, times, up)
    want = oracle.latest_cause_time(oracle.to_networkx(snap, LEARNED),
                                    zip(nodes.tolist(), times.tolist(), up.tolist(),
                                        strict=True))
    np.testing.assert_array_equal(got, want)


def observations(snap, nodes, times, up):
    flags = snap.nodes.monitored.astype(np.int64)
    never = np.iinfo(np.int64).max
    t_up = np.full(snap.n, never, np.int64)
    t_td = np.full(snap.n, never, np.int64)
    for v, t, u in zip(nodes, times, up, strict=True):
        flags[v] |= 1 | (2 if u else 4)
        arr = t_up if u else t_td
        arr[v] = min(arr[v], t)
    return flags, t_up, t_td


@settings(max_examples=100, deadline=None)
@given(case(), st.data())
def test_hypothesis_scores_equal_the_networkx_evidence(c, data):
    snap, (nodes, times, up) = c
    flags, t_up, t_td = observations(snap, nodes, times, up)
    n_h = data.draw(st.integers(1, 4))
    seeds = [data.draw(st.lists(st.integers(0, snap.n - 1), min_size=1, max_size=2))
             for _ in range(n_h)]
    h_time = np.array([data.draw(st.sampled_from([NO_TIME, T0, T0 + 120_000_000]))
                       for _ in range(n_h)], np.int64)
    ptr = np.concatenate([[0], np.cumsum([len(s) for s in seeds])]).astype(np.int64)
    flat = np.array([v for s in seeds for v in s], np.int32)
    m = snap.model(LEARNED)
    P = LEARNED
    quiet = data.draw(st.sampled_from([(P.missed_alert, P.missed_traffic_drop), (0.6, 0.9)]))
    got, onsets = _score_hypotheses(
        snap.n, snap.in_ptr, snap.in_idx, m.in_p, m.in_ptd, snap.out_ptr, snap.out_idx, m.out_p,
        m.out_ptd, snap.comp, snap.cyclic, ptr, flat, np.ones(len(flat)), h_time, flags, t_up,
        t_td, P.false_alert, P.missed_alert, quiet[0], P.missed_traffic_drop, quiet[1],
        int(P.clock_skew_s * 1e6), P.floor, P.tol, P.max_sweeps, P.explain_min,
        np.arange(n_h), True, 3)
    g = oracle.to_networkx(snap, LEARNED)
    for h in range(n_h):
        want, onset = oracle.hypothesis_evidence(g, seeds[h], int(h_time[h]), flags, t_up,
                                                 t_td, P, quiet)
        assert got[h] == pytest.approx(want, abs=1e-8)
        assert onsets[h] == onset
