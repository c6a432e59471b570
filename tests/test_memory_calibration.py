"""Calibration: Brier score and reliability of predicted vs observed outcomes."""

from __future__ import annotations

import pytest

from ccm.memory import Calibration, calibrate, plot


def action(p: float, outcome: str, **kw) -> dict:
    return {"predicted_p_fail": p, "outcome": outcome, "target": "service:cart", **kw}


def test_the_brier_score_is_the_mean_squared_error():
    fail, _ = calibrate([action(0.2, "healthy"), action(0.9, "unhealthy"),
                         action(0.5, "unhealthy")])
    assert fail.n == 3
    assert fail.brier == pytest.approx((0.04 + 0.01 + 0.25) / 3)


def test_the_reliability_table_bins_predictions():
    pairs = [(0.05, 0), (0.08, 1), (0.55, 1), (0.58, 1), (1.0, 1)]
    table = Calibration("x", pairs).table()
    assert [(b.lo, b.count) for b in table] == [(0.0, 2), (0.5, 2), (0.9, 1)]
    assert table[0].mean_predicted == pytest.approx(0.065) and table[0].observed == 0.5


def test_node_predictions_are_scored_on_unhealthy_actions_only():
    acts = [action(0.3, "unhealthy", observed_impacted=["service:web"],
                   predicted_nodes={"service:cart": 1.0, "service:web": 0.6,
                                    "service:db": 0.2}),
            action(0.1, "healthy", predicted_nodes={"service:web": 0.9}),
            action(0.5, "unhealthy", revert_of="act-1"),
            {"outcome": "healthy"}]
    fail, nodes = calibrate(acts)
    assert fail.n == 2
    assert sorted(nodes.pairs) == [(0.2, 0), (0.6, 1), (1.0, 1)]


def test_no_data_means_no_score():
    fail, nodes = calibrate([])
    assert fail.brier is None and fail.table() == [] and nodes.n == 0


def test_the_reliability_plot_is_a_png(tmp_path):
    fail, nodes = calibrate([action(0.2, "healthy"), action(0.7, "unhealthy")])
    out = plot([fail, nodes], tmp_path / "cal.png")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
