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
from ccm.engine import DEFAULT_PARAMS
from ccm.engine.model import spontaneous_rate
from ccm.memory import Memory, Priors, calibrate, plot


def balance_rows(priors: Priors) -> list[dict[str, object]]:
    """Per component kind with resolved incidents: how many were spontaneous and how many
    a change caused, and the spontaneous failure rate per hour before and after them."""
    return [{"component_kind": kind, "incidents": int(b.alpha + b.beta),
             "spontaneous": int(b.alpha), "change_caused": int(b.beta),
             "default_rate": DEFAULT_PARAMS.spontaneous_rate_of(kind),
             "learned_rate": spontaneous_rate(kind, DEFAULT_PARAMS, priors)}
            for kind, b in sorted(priors.balances.items())]


def print_balance(rows: list[dict[str, object]]) -> None:
    if not rows:
        console.print("change vs spontaneous: no resolved incident yet (default rates)")
        return
    t = Table(title="change vs spontaneous, learned from resolved incidents",
              title_justify="left")
    for col in ("component kind", "incidents", "spontaneous", "change-caused",
                "rate/h default", "rate/h learned"):
        t.add_column(col, justify="right")
    for r in rows:
        t.add_row(str(r["component_kind"]), str(r["incidents"]), str(r["spontaneous"]),
                  str(r["change_caused"]), f"{r['default_rate']:.2g}",
                  f"{r['learned_rate']:.2g}")
    console.print(t)


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
    node's predicted impact probability against what was observed impacted; and the
    balance between change-caused and spontaneous failures learned per component kind
    from the tenant's resolved incidents, with how many incidents."""
    with opened_store(store_location) as store:
        mem = Memory(store, tenant)
        cals = calibrate(mem.actions(), bins)
        balance = balance_rows(mem.priors())
    if plot_path is not None:
        plot(cals, plot_path)
    if as_json:
        print_json({"tenant": tenant, "calibrations": [c.to_dict() for c in cals],
                    "balance": balance, "plot": str(plot_path) if plot_path else None})
        return
    print_balance(balance)
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
