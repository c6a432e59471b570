"""Every entry point and kernel copes with an empty graph and with no seeds."""

from __future__ import annotations

import numpy as np
import pytest

from ccm.engine import Action, predict_impact, root_causes
from ccm.engine.impact import monte_carlo
from ccm.engine.kernels import (
    _latest_cause_time,
    _max_product,
    _noisy_or_dense,
    _noisy_or_sparse,
    _reach,
    _score_hypotheses,
)
from ccm.engine.model import EdgeTable
from ccm.engine.snapshot import NodeTable, build_snapshot
from ccm.errors import NotFound

EMPTY = build_snapshot(NodeTable.build([], []), EdgeTable.build([], []))
NO_SEEDS = np.zeros(0, np.int32)
ISOLATED = build_snapshot(NodeTable.build(["service:a"], ["service"]), EdgeTable.build([], []))


def test_kernels_on_an_empty_graph_return_empty_results():
    s, m = EMPTY, EMPTY.model()
    assert len(_reach(0, s.in_ptr, s.in_idx, m.in_p, NO_SEEDS)) == 0
    r, ok = _noisy_or_dense(0, s.in_ptr, s.in_idx, m.in_p, s.out_ptr, s.out_idx, m.out_p,
                            s.order, s.pos, s.comp, s.cyclic, NO_SEEDS, np.zeros(0), 1e-12, 10)
    assert len(r) == 0 and ok
    nodes, _, _ = _noisy_or_sparse(0, s.in_ptr, s.in_idx, m.in_p, s.out_ptr, s.out_idx,
                                   m.out_p, s.comp, s.cyclic, 1, NO_SEEDS, np.zeros(0), 0.0,
                                   1e-12, 10)
    assert len(nodes) == 0
    counts, sums, hits = monte_carlo(s, NO_SEEDS, np.zeros(0), 10, 0)
    assert counts.tolist() == [0] * 10 and sums.tolist() == [0.0] * 10 and len(hits) == 0
    w = np.zeros(0)
    dist, _ = _max_product(0, s.in_ptr, s.in_idx, w, s.out_ptr, s.out_idx, w, True, NO_SEEDS,
                           w)
    assert len(dist) == 0
    latest = _latest_cause_time(0, s.out_ptr, s.out_idx, s.in_ptr, s.in_idx, NO_SEEDS,
                                np.zeros(0, np.int64), np.zeros(0, np.bool_))
    assert len(latest) == 0
    scores, onsets = _score_hypotheses(
        0, s.in_ptr, s.in_idx, m.in_p, m.in_ptd, s.out_ptr, s.out_idx, m.out_p, m.out_ptd,
        s.comp, s.cyclic, np.zeros(1, np.int64), NO_SEEDS, np.zeros(0), np.zeros(0, np.int64),
        np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64), 0.01, 0.2, 0.5,
        0.7, 0.8, 0, 1e-4, 1e-12, 10, 0.05, np.zeros(0, np.int64), True, 2)
    assert len(scores) == 0 and len(onsets) == 0


def test_predicting_on_an_empty_graph_names_the_missing_target():
    with pytest.raises(NotFound, match="service:a"):
        predict_impact(EMPTY, Action("deploy", "service:a"))


def test_an_isolated_node_impacts_only_itself():
    impact = predict_impact(ISOLATED, Action("restart", "service:a"), samples=100)
    assert impact.nodes == {"service:a": 1.0}
    assert impact.services.p95 == 1.0 and impact.traffic.mean == 1.0
    assert impact.paths == {"service:a": ["service:a"]}


def test_root_causes_on_an_empty_graph_have_nothing_to_rank():
    result = root_causes(EMPTY)
    assert result.chains == [] and result.symptoms == [] and result.hypotheses == 0
