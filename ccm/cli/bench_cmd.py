"""``ccm bench``: benchmarks. ``ccm bench perf`` times the engine against networkx, scipy,
igraph and Neo4j on the same generated graphs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from ccm.cli.common import PIPE_WIDTH, console, err_console, handle_errors

IMPL_CHOICES = ("ccm", "networkx", "scipy", "igraph", "neo4j")


def _fmt(seconds: float | None, row: dict[str, Any]) -> str:
    if seconds is None:
        bound = row.get("bound_s")
        return f">{bound:g} s ({row['status']})" if bound else row["status"]
    text = f"{seconds * 1000:.2f} ms" if seconds < 1 else f"{seconds:.2f} s"
    return text + (" (extrap.)" if row.get("extrapolated") else "")


def results_table(report: dict[str, Any]) -> Table:
    """One row per (op, edges): ccm's time, and each other implementation's time with its
    ratio to ccm (how many times slower than ccm)."""
    rows = report["results"]
    impls = [i for i in IMPL_CHOICES if any(r["impl"] == i for r in rows)]
    t = Table(title="Performance (median seconds; ratio = other / ccm)", title_justify="left")
    t.add_column("op", no_wrap=True)
    t.add_column("edges", justify="right")
    for impl in impls:
        t.add_column(impl, justify="right")
    keys = sorted({(r["op"], r["edges"]) for r in rows}, key=lambda k: (k[0], k[1]))
    for op, edges in keys:
        cells = {r["impl"]: r for r in rows if r["op"] == op and r["edges"] == edges}
        base = cells.get("ccm", {}).get("seconds")
        line = []
        for impl in impls:
            r = cells.get(impl)
            if r is None:
                line.append("")
                continue
            text = _fmt(r["seconds"], r)
            if impl != "ccm" and base and r["seconds"]:
                text += f"  x{r['seconds'] / base:.1f}"
            line.append(text)
        t.add_row(op, f"{edges:,}", *line)
    return t


@click.group("bench")
def bench() -> None:
    """Benchmarks of CCM (performance; chain matching against postmortems)."""


@bench.command("perf")
@click.option("--edges", "edges", type=click.IntRange(10, 100_000_000), multiple=True,
              metavar="N", help="Graph sizes in dependency edges; repeatable "
              "(default: 1000 10000 100000 1000000).")
@click.option("--impls", default=",".join(IMPL_CHOICES), show_default=True,
              help="Comma-separated implementations to run.")
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path),
              default=None, metavar="OUT", help="Write the results as JSON to OUT.")
@click.option("--budget", type=float, default=120.0, show_default=True,
              help="Seconds allowed per networkx or Neo4j measurement (time-boxed).")
@click.option("--repeats", type=click.IntRange(1, 100), default=7, show_default=True,
              help="Repeats per measurement (median reported).")
@click.option("--seed", type=int, default=0, show_default=True, help="Graph generator seed.")
@handle_errors
def perf_cmd(edges: tuple[int, ...], impls: str, json_out: Path | None, budget: float,
             repeats: int, seed: int) -> None:
    """Time blast radius, Monte Carlo cascades, reachability and root causes on generated
    dependency graphs (heavy-tailed degrees, cycles), against networkx (same algorithms),
    scipy.sparse.csgraph and igraph (reachability) and Neo4j Cypher (variable-length
    reachability; NEO4J_URI or a local server). Prints ratios; --json writes
    {"results": [{"op", "impl", "edges", "seconds", ...}], ...}."""
    from ccm.bench.perf import DEFAULT_EDGES, run

    chosen = tuple(i.strip() for i in impls.split(",") if i.strip())
    unknown = sorted(set(chosen) - set(IMPL_CHOICES))
    if unknown:
        raise click.BadParameter(f"unknown implementations {unknown}; choose from "
                                 + ", ".join(IMPL_CHOICES), param_hint="--impls")
    report = run(list(edges or DEFAULT_EDGES), chosen, seed=seed, budget=budget,
                 repeats=repeats, log=lambda m: err_console.print(f"[dim]{m}[/dim]"))
    wide = Console(highlight=False, width=max(console.width, PIPE_WIDTH))
    wide.print(results_table(report))
    console.print("Targets: " + json.dumps(report["targets"], default=str))
    m = report["machine"]
    console.print(f"Machine: {m['cpus']} CPUs, {m['numba_threads']} Numba threads, load "
                  f"average {m['load_avg_at_start'][0]:.1f} -> {m['load_avg_at_end'][0]:.1f}; "
                  f"kernel compile/load {m['compile_s']:.2f} s.")
    if json_out:
        json_out.write_text(json.dumps(report, indent=2, default=str) + "\n")
        console.print(f"Wrote {json_out}")


def register(cli: click.Group) -> None:
    cli.add_command(bench)
