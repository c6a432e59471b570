"""Charts: traffic distribution against thresholds, priors over time, reliability, bench."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest

from ccm.memory import calibrate
from ccm.viz import plot_bench, plot_priors, plot_reliability, plot_traffic


@pytest.fixture
def ax():
    fig, ax = plt.subplots()
    yield ax
    plt.close(fig)


def legend(ax):
    return [t.get_text() for t in ax.get_legend().get_texts()]


def test_the_traffic_histogram_marks_its_p95_and_the_policy_thresholds(ax):
    shares = np.array([0.0] * 90 + [0.5] * 10)
    plot_traffic(shares, ax, review=0.1, refuse=0.35, risk_p95=0.0)
    lines = {line.get_label(): line.get_xdata()[0] for line in ax.get_lines()}
    assert lines["p95 if it fails: 50.0%"] == pytest.approx(0.5)
    assert lines["review above 10%"] == 0.1 and lines["refuse above 35%"] == 0.35
    assert lines["p95 over all outcomes: 0.0%"] == 0.0
    assert sum(p.get_height() for p in ax.patches) == 100
    assert ax.get_ylabel() == "cascades (of 100)"


def test_priors_draw_one_line_per_pattern_and_a_cross_per_failure(ax):
    rows = [{"step": i, "pattern": "deploy a" if i % 2 else "restart b", "prior_mean": 0.1 + i / 100,
             "true_rate": 0.3 if i % 2 else 0.02, "outcome": "unhealthy" if i in (1, 4) else
             "healthy"} for i in range(6)]
    plot_priors(rows, ax)
    assert legend(ax) == ["restart b", "deploy a"]
    crosses = ax.collections[0].get_offsets().tolist() + ax.collections[1].get_offsets().tolist()
    assert sorted(x for x, _ in crosses) == [1, 4]
    dashed = [line for line in ax.get_lines() if line.get_linestyle() == "--"]
    assert sorted(line.get_ydata()[0] for line in dashed) == [0.02, 0.3]


def test_the_reliability_diagram_has_the_diagonal_and_a_line_per_scored_table(ax):
    actions = [{"outcome": "unhealthy", "predicted_p_fail": 0.8, "target": "service:a",
                "predicted_nodes": {"service:a": 0.9, "service:b": 0.2}},
               {"outcome": "healthy", "predicted_p_fail": 0.1}]
    plot_reliability(calibrate(actions), ax)
    labels = legend(ax)
    assert labels[0] == "perfectly calibrated" and len(labels) == 3
    assert labels[1] == "action failure (n=2, Brier 0.025)"


def test_bench_bars_cover_every_method_over_all_cases_and_per_category(ax):
    data = {"cases": 3, "methods": {"ccm": {"root@1": 0.67}, "latest_change": {"root@1": 0.33}},
            "categories": {"deploy": {"cases": 2, "methods": {"ccm": {"root@1": 1.0},
                                                              "latest_change": {"root@1": 0.5}}},
                           "capacity": {"cases": 1, "methods": {"ccm": {"root@1": 0.0},
                                                                "latest_change": {"root@1": 0.0}}}}}
    plot_bench(data, "root@1", ax)
    heights = [round(p.get_height(), 2) for p in ax.patches]
    assert heights == [0.67, 1.0, 0.0, 0.33, 0.5, 0.0]
    assert [t.get_text() for t in ax.get_xticklabels()] == [
        "all\n(n=3)", "deploy\n(n=2)", "capacity\n(n=1)"]
