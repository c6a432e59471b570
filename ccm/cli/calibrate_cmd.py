"""``ccm calibrate``: how well CCM's predictions matched the outcomes it remembers."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from ccm.cli.common import (
    console,
    handle_errors,
    json_option,
    opened_store,
    print_json,
    store_option,
)
from ccm.memory import Memory, calibrate, plot


@click.command("calibrate")
@click.option("--tenant", default="default", show_default=True, help="Whose memory.")
@click.option("--bins", type=click.IntRange(2, 50), default=10, show_default=True,
              help="Bins of the reliability table.")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write a reliability diagram (PNG).")
@store_option
@json_option
@handle_errors
def calibrate_cmd(tenant: str, bins: int, plot_path: Path | None, store_location: str | None,
                  as_json: bool) -> None:
    """Brier score and reliability table of predicted vs observed outcomes: predicted
    p(fail) of each closed action against its outcome, and, for unhealthy ones, each
    node's predicted impact probability against what was observed impacted."""
    with opened_store(store_location) as store:
        cals = calibrate(Memory(store, tenant).actions(), bins)
    if plot_path is not None:
        plot(cals, plot_path)
    if as_json:
        print_json({"tenant": tenant, "calibrations": [c.to_dict() for c in cals],
                    "plot": str(plot_path) if plot_path else None})
        return
    for cal in cals:
        if not cal.n:
            console.print(f"{cal.what}: nothing to score yet (no closed action with a "
                          "prediction and an outcome)")
            continue
        brier = f"{cal.brier:.4f}"
        t = Table(title=f"{cal.what}: n={cal.n}, Brier {brier}", title_justify="left")
        for col in ("bin", "count", "mean predicted", "observed"):
            t.add_column(col, justify="right")
        for b in cal.table():
            t.add_row(f"{b.lo:.1f}-{b.hi:.1f}", str(b.count), f"{b.mean_predicted:.3f}",
                      f"{b.observed:.3f}")
        console.print(t)
    if plot_path is not None:
        console.print(f"reliability diagram written to {plot_path}")


def register(cli: click.Group) -> None:
    cli.add_command(calibrate_cmd)
