"""Calibration: how well predicted failure probabilities matched what happened.

Each closed action with a prediction is one (predicted p(fail), observed
unhealthy) pair; each predicted node of an unhealthy action is one (predicted
p(impacted), observed impacted) pair. The Brier score is the mean squared
difference; the reliability table bins predictions and compares the mean
prediction with the observed frequency in each bin.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Bin:
    lo: float
    hi: float
    count: int
    mean_predicted: float
    observed: float


@dataclass
class Calibration:
    """Brier score and reliability table of (prediction, outcome) pairs."""

    what: str
    pairs: list[tuple[float, int]] = field(default_factory=list)
    bins: int = 10

    @property
    def n(self) -> int:
        return len(self.pairs)

    @property
    def brier(self) -> float | None:
        if not self.pairs:
            return None
        return sum((p - o) ** 2 for p, o in self.pairs) / len(self.pairs)

    @property
    def ece(self) -> float | None:
        """Expected calibration error: the count-weighted mean over the bins of
        |observed frequency - mean prediction|."""
        if not self.pairs:
            return None
        return sum(b.count * abs(b.observed - b.mean_predicted) for b in self.table()) \
            / len(self.pairs)

    def table(self) -> list[Bin]:
        out = []
        for i in range(self.bins):
            lo, hi = i / self.bins, (i + 1) / self.bins
            inside = [(p, o) for p, o in self.pairs
                      if lo <= p < hi or (i == self.bins - 1 and p == 1.0)]
            if inside:
                out.append(Bin(lo, hi, len(inside), sum(p for p, _ in inside) / len(inside),
                               sum(o for _, o in inside) / len(inside)))
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"what": self.what, "n": self.n, "brier": self.brier,
                "bins": [vars(b) for b in self.table()]}


def calibrate(actions: Iterable[dict[str, Any]], bins: int = 10) -> list[Calibration]:
    """Calibration of action failure and of node impact from remembered actions
    (:meth:`ccm.memory.Memory.actions`)."""
    fail = Calibration("action failure: predicted p(fail) vs unhealthy outcome", bins=bins)
    nodes = Calibration("node impact: predicted p(impacted) vs observed impacted "
                        "(unhealthy actions)", bins=bins)
    for a in actions:
        outcome = a.get("outcome")
        if outcome not in ("healthy", "unhealthy") or a.get("revert_of"):
            continue
        failed = outcome == "unhealthy"
        if "predicted_p_fail" in a:
            fail.pairs.append((float(a["predicted_p_fail"]), int(failed)))
        if failed:
            observed = set(a.get("observed_impacted") or []) | {a.get("target")}
            for ref, p in (a.get("predicted_nodes") or {}).items():
                nodes.pairs.append((float(p), int(ref in observed)))
    return [fail, nodes]


def plot(calibrations: Sequence[Calibration], path: str | Path) -> Path:
    """A reliability diagram (predicted vs observed) as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ccm.viz.charts import plot_reliability

    fig, ax = plt.subplots(figsize=(5.5, 5))
    plot_reliability(calibrations, ax)
    out = Path(path)
    fig.savefig(out, dpi=120, bbox_inches="tight")
    plt.close(fig)
    return out
