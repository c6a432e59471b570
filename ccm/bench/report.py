"""A run's report: a markdown page and a PNG plot (matplotlib, Agg backend).

:func:`write_report` takes the JSON of a run (``BenchResult.to_dict()``) so a report
can also be made later from a saved ``--json`` file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = ["markdown", "plot_reliability", "plot_root_at_1", "write_report"]

_LABELS = (("root@1", "root@1"), ("root@3", "root@3"), ("mrr", "MRR"),
           ("chain_f1", "chain F1"), ("chain_exact", "exact chain"))


def _overall(data: Mapping[str, Any]) -> list[str]:
    head = "| method | " + " | ".join(lbl for _, lbl in _LABELS) + " | ms/case | errors |"
    lines = [head, "|---" * (len(_LABELS) + 3) + "|"]
    for m, row in data["methods"].items():
        vals = " | ".join(f"{row[k]:.3f}" for k, _ in _LABELS)
        lines.append(f"| `{m}` | {vals} | {row['mean_ms']:.1f} | {row['errors']} |")
    return lines


def _by_category(data: Mapping[str, Any], metric: str) -> list[str]:
    methods = list(data["methods"])
    lines = ["| category | cases | " + " | ".join(f"`{m}`" for m in methods) + " |",
             "|---|---:|" + "---:|" * len(methods)]
    for cat, block in data["categories"].items():
        vals = " | ".join(f"{block['methods'][m][metric]:.2f}" for m in methods)
        lines.append(f"| {cat} | {block['cases']} | {vals} |")
    return lines


def _calibration(data: Mapping[str, Any]) -> list[str]:
    """ECE of the top-1 probability per method and category, then the reliability table
    over all cases."""
    lines: list[str] = []
    for m, groups in (data.get("calibration") or {}).items():
        lines += [f"Expected calibration error of `{m}`'s top-1 posterior (10 bins):", "",
                  "| cases | ECE |", "|---|---:|"]
        lines += [f"| {g} ({c['cases']}) | {c['ece']:.3f} |" for g, c in groups.items()]
        lines += ["", "| confidence bin | cases | mean confidence | right |",
                  "|---|---:|---:|---:|"]
        lines += [f"| {b['lo']:.1f}-{b['hi']:.1f} | {b['cases']} | {b['confidence']:.3f} | "
                  f"{b['accuracy']:.3f} |" for b in groups["all"]["bins"]]
        lines.append("")
    return lines


def _load_text(timing: Mapping[str, Any]) -> str:
    load = timing.get("load_avg")
    return f"; load average {load[0]:.1f} -> {load[1]:.1f}" if load else ""


def markdown(data: Mapping[str, Any], sources: Sequence[str] = (),
             plot_name: str = "root_at_1.png") -> str:
    """The report as markdown."""
    t = data["timing"]
    out = ["# Chain-match benchmark", "",
           f"{data['cases']} cases" + (f" from {', '.join(sources)}" if sources else "")
           + f"; {t['wall_s']:.1f} s wall time ({t['cases_per_s']:.1f} cases/s, "
           "ingest included" + _load_text(t) + ").", ""]
    if data.get("invalid"):
        out += [f"{len(data['invalid'])} invalid cases were skipped:", ""]
        out += [f"- `{e['case']}`: {e['file']}: {e['field'] or '-'}: {e['problem']}"
                for e in data["invalid"]] + [""]
    out += ["## All cases", "", *_overall(data), "",
            "## root@1 by category", "", *_by_category(data, "root@1"), "",
            "## chain F1 by category", "", *_by_category(data, "chain_f1"), "",
            f"![root@1 by method and category]({plot_name})", ""]
    if data.get("calibration"):
        out += ["## Calibration", "", *_calibration(data),
                "![reliability of the top-1 posterior](reliability.png)", ""]
    return "\n".join(out)


def plot_root_at_1(data: Mapping[str, Any], path: Path) -> None:
    """Grouped bars: root@1 of every method, over all cases and per category."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ccm.viz.charts import plot_bench

    groups = 1 + len(data["categories"])
    fig, ax = plt.subplots(figsize=(min(16.0, 3.0 + 1.1 * groups), 4.8))
    plot_bench(data, "root@1", ax)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_reliability(data: Mapping[str, Any], path: Path) -> None:
    """Reliability diagram: share right against mean top-1 confidence per bin, for every
    probabilistic method, with the diagonal of perfect calibration."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.8, 4.8))
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1)
    for m, groups in (data.get("calibration") or {}).items():
        bins = groups["all"]["bins"]
        ax.plot([b["confidence"] for b in bins], [b["accuracy"] for b in bins], marker="o",
                label=f"{m} (ECE {groups['all']['ece']:.3f})")
    ax.set_xlabel("top-1 posterior (bin mean)")
    ax.set_ylabel("share with the right root first")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.legend(loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def write_report(data: Mapping[str, Any], folder: Path, sources: Sequence[str] = ()
                 ) -> list[Path]:
    """Write ``report.md``, ``root_at_1.png`` and (when a method gives probabilities)
    ``reliability.png`` into ``folder``; return their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    png = folder / "root_at_1.png"
    plot_root_at_1(data, png)
    written = [png]
    if data.get("calibration"):
        plot_reliability(data, folder / "reliability.png")
        written.append(folder / "reliability.png")
    md = folder / "report.md"
    md.write_text(markdown(data, sources, png.name), encoding="utf-8")
    return [md, *written]
