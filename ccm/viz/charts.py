"""Charts of CCM's numbers (matplotlib): the Monte Carlo distribution of impacted
traffic against the policy's thresholds, how memory's priors move, reliability
diagrams, and benchmark scores by method and case category.

Every function draws on ``ax`` (a new figure when None) and returns it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

__all__ = ["plot_bench", "plot_priors", "plot_reliability", "plot_traffic"]


def _axes(ax: Any, size: tuple[float, float]) -> Any:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=size)[1]


def plot_traffic(shares: np.ndarray | Sequence[float], ax: Any = None, *,
                 review: float | None = None, refuse: float | None = None,
                 risk_p95: float | None = None, title: str | None = None) -> Any:
    """Histogram of the impacted share of entrypoint traffic over Monte Carlo cascades
    (given the action fails), with its p95, the policy's ``review``/``refuse``
    thresholds, and the p95 over every outcome the blast-radius rule bounds
    (``risk_p95``)."""
    ax = _axes(ax, (8, 3.6))
    values = np.asarray(shares, dtype=np.float64)
    ax.hist(values, bins=np.linspace(0, 1, 41), color="#8fb8de", edgecolor="#4a6f94")
    p95 = float(np.percentile(values, 95)) if len(values) else 0.0
    marks = [(p95, "#1f3b57", "solid", f"p95 if it fails: {p95:.1%}")]
    if risk_p95 is not None:
        marks.append((risk_p95, "#000000", "dotted", f"p95 over all outcomes: {risk_p95:.1%}"))
    if review is not None:
        marks.append((review, "#e6a100", "dashed", f"review above {review:.0%}"))
    if refuse is not None:
        marks.append((refuse, "#d62728", "dashed", f"refuse above {refuse:.0%}"))
    for x, colour, style, label in marks:
        ax.axvline(x, color=colour, linestyle=style, linewidth=1.8, label=label)
    ax.set_xlim(-0.02, 1.02)
    ax.set_xlabel("impacted share of entrypoint traffic")
    ax.set_ylabel(f"cascades (of {len(values)})")
    ax.legend(fontsize=8, loc="upper right")
    if title:
        ax.set_title(title, fontsize=11)
    return ax


def plot_priors(rows: Sequence[Mapping[str, Any]], ax: Any = None, *,
                title: str = "what memory believes p(fail) is, action by action") -> Any:
    """One step line per pattern (``rows``: ``step``, ``pattern``, ``prior_mean`` after the
    step, optionally ``predicted_p_fail`` before it, ``true_rate`` and ``outcome``): the
    p(fail) the next proposal would be told, jumping at each of the pattern's steps; the
    true rate dashed; failures as red crosses."""
    ax = _axes(ax, (8, 4))
    patterns = list(dict.fromkeys(r["pattern"] for r in rows))
    for k, pattern in enumerate(patterns):
        mine = [r for r in rows if r["pattern"] == pattern]
        colour = f"C{k}"
        first = mine[0].get("predicted_p_fail")
        xs = [mine[0]["step"]] * (first is not None) + [r["step"] for r in mine]
        ys = [first] * (first is not None) + [r["prior_mean"] for r in mine]
        ax.plot(xs, ys, drawstyle="steps-post", color=colour, label=pattern)
        if mine[0].get("true_rate") is not None:
            ax.axhline(mine[0]["true_rate"], color=colour, linestyle="dashed", linewidth=1)
        bad = [r for r in mine if r.get("outcome") == "unhealthy"]
        ax.scatter([r["step"] for r in bad], [r["prior_mean"] for r in bad], marker="x",
                   color="#d62728", zorder=3, s=30)
    ax.set_xlabel("action (in order)")
    ax.set_ylabel("p(fail) for the next proposal")
    ax.set_ylim(0, 1)
    ax.legend(fontsize=8, loc="upper right")
    ax.set_title(title, fontsize=11)
    return ax


def plot_reliability(calibrations: Sequence[Any], ax: Any = None, *,
                     title: str = "CCM calibration") -> Any:
    """Reliability diagram of :class:`ccm.memory.Calibration` tables: mean predicted
    probability against observed frequency per bin, the diagonal for reference."""
    ax = _axes(ax, (5.5, 5))
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfectly calibrated")
    for cal in calibrations:
        rows = cal.table()
        if rows:
            brier = f"{cal.brier:.3f}" if cal.brier is not None else "-"
            ax.plot([b.mean_predicted for b in rows], [b.observed for b in rows], marker="o",
                    label=f"{cal.what.split(':')[0]} (n={cal.n}, Brier {brier})")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("predicted probability")
    ax.set_ylabel("observed frequency")
    ax.set_title(title)
    ax.legend(loc="upper left", fontsize=8)
    return ax


def plot_bench(data: Mapping[str, Any], metric: str = "root@1", ax: Any = None) -> Any:
    """Grouped bars of ``metric`` for every method, over all cases and per category, from
    a ``ccm bench chains`` result (:meth:`ccm.bench.runner.BenchResult.to_dict`)."""
    methods = list(data["methods"])
    groups = ["all", *data["categories"]]
    values = [[data["methods"][m][metric] for m in methods]]
    values += [[data["categories"][c]["methods"][m][metric] for m in methods]
               for c in data["categories"]]
    ax = _axes(ax, (min(16.0, 3.0 + 1.1 * len(groups)), 4.8))
    width = 0.8 / max(len(methods), 1)
    for j, m in enumerate(methods):
        xs = [i + (j - (len(methods) - 1) / 2) * width for i in range(len(groups))]
        ax.bar(xs, [v[j] for v in values], width, label=m)
    counts = [data["cases"], *(data["categories"][c]["cases"] for c in data["categories"])]
    ax.set_xticks(range(len(groups)))
    ax.set_xticklabels([f"{g}\n(n={n})" for g, n in zip(groups, counts, strict=True)],
                       rotation=30, ha="right", fontsize=8)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel(metric)
    ax.set_title(f"{metric} by method and case category")
    ax.legend(fontsize=8, ncol=min(len(methods), 5), loc="upper center",
              bbox_to_anchor=(0.5, -0.28), frameon=False)
    ax.grid(axis="y", alpha=0.3)
    return ax
