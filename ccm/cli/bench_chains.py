"""``ccm bench chains``: score root-cause chains against case truths, beside baselines."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from ccm.bench import methods as bench_methods
from ccm.bench.cases import load_cases
from ccm.bench.replay import default_tmp_dir
from ccm.bench.runner import BenchResult, describe_case, run_cases
from ccm.bench.truth import check_truths
from ccm.cli.bench_cmd import bench
from ccm.cli.common import console, err_console, handle_errors
from ccm.errors import CaseInvalid

_COLUMNS = (("root@1", "root@1"), ("root@3", "root@3"), ("mrr", "MRR"),
            ("chain_f1", "chain F1"), ("chain_exact", "exact"))


def summary_table(result: BenchResult, title: str) -> Table:
    t = Table(title=title, title_justify="left")
    t.add_column("method", no_wrap=True)
    for _, label in _COLUMNS:
        t.add_column(label, justify="right")
    t.add_column("ms/case", justify="right")
    t.add_column("errors", justify="right")
    for name, row in result.summary().items():
        t.add_row(name, *(f"{row[key]:.3f}" for key, _ in _COLUMNS), f"{row['mean_ms']:.1f}",
                  str(row["errors"]))
    return t


def detail_table(result: BenchResult) -> Table:
    t = Table(title="Per case (rank of the truth root / chain F1 of the top chain)",
              title_justify="left")
    t.add_column("case", overflow="fold")
    t.add_column("category")
    t.add_column("truth root", overflow="fold")
    for m in result.methods:
        t.add_column(m, justify="right")
    for r in result.cases:
        cells = []
        for m in result.methods:
            s = r.scores[m]
            rank = "err" if m in r.errors else (str(s.rank) if s.rank else "-")
            cells.append(f"{rank} / {s.chain_f1:.2f}")
        t.add_row(r.case.id, r.case.category, r.truth.root_cause, *cells)
    return t


def _print_invalid(errors: list[CaseInvalid]) -> None:
    for e in errors:
        err_console.print(f"[red]invalid case:[/red] {e}", markup=True, highlight=False)


@click.command("chains")
@click.option("--cases", "case_dirs", multiple=True, required=True,
              type=click.Path(exists=True, file_okay=False),
              help="A folder of cases (searched recursively), or one case; repeatable.")
@click.option("--json", "json_out", type=click.Path(dir_okay=False), default=None,
              help="Write the results as JSON to this file ('-' for stdout).")
@click.option("--methods", "method_names", default=None, metavar="LIST",
              help="Comma-separated methods (default: all: "
                   f"ccm when the engine is present, then {', '.join(m.name for m in bench_methods.BASELINES)}).")
@click.option("-v", "--verbose", is_flag=True, help="Also print one row per case.")
@click.option("--report", "report_dir", type=click.Path(file_okay=False), default=None,
              help="Write a markdown report and PNG plots into this folder.")
@click.option("--limit", type=click.IntRange(1), default=None,
              help="Run only the first N cases (by path, after --category).")
@click.option("--category", "categories", multiple=True, metavar="C",
              help="Only cases of this category (case.yaml `category`); repeatable.")
@click.option("--keep-going", is_flag=True,
              help="Skip invalid cases (listed, and in the JSON) instead of stopping.")
@click.option("--tmp-dir", default=None, type=click.Path(file_okay=False),
              help="Where each case's temporary store goes (default: /dev/shm if present).")
@click.option("--threads", type=click.IntRange(1), default=1, show_default=True,
              help="Numba threads for the engine's kernels (cases are small graphs: one "
                   "thread is fastest; answers do not depend on it).")
@handle_errors
def chains_cmd(case_dirs: tuple[str, ...], json_out: str | None, method_names: str | None,
               verbose: bool, report_dir: str | None, limit: int | None,
               categories: tuple[str, ...], keep_going: bool, tmp_dir: str | None,
               threads: int) -> None:
    """Score each method's root-cause chains against the cases' truths.

    Every case is ingested with CCM's own ingest into a fresh embedded store; each
    method answers as of the case's question_time (later facts are invisible); then
    root@1, root@3, MRR, chain F1 and exact chain are computed (see
    spec/benchmark-cases.md). Exit status 1 on an invalid case (naming case, file and
    field; with --keep-going after running the rest) or when a method crashed.
    """
    chosen = bench_methods.pick(method_names, engine_threads=threads)
    invalid: list[CaseInvalid] = []
    collect = invalid if keep_going else None
    cases = load_cases(case_dirs, categories=categories, limit=limit, errors=collect)
    cases = check_truths(cases, collect)
    if not keep_going and not cases:
        raise CaseInvalid("-", ", ".join(case_dirs), "", "no cases found")
    show = err_console.is_terminal
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  console=err_console, disable=not show, transient=True) as bar:
        task = bar.add_task("cases", total=len(cases))
        result = run_cases(cases, chosen, tmp_dir=tmp_dir or default_tmp_dir(),
                           keep_going=keep_going,
                           progress=lambda i, n, cid: bar.update(task, completed=i))
    result.invalid = invalid + result.invalid
    _output(result, case_dirs, json_out, verbose, report_dir)
    if "ccm" not in chosen and method_names is None:
        err_console.print("note: the causal engine (ccm.engine.root_causes) is not in this "
                          "build: the 'ccm' row is pending")
    _print_invalid(result.invalid)
    if result.invalid or any(r.errors for r in result.cases):
        for r in result.cases:
            for m, e in r.errors.items():
                err_console.print(f"[red]method {m} failed on {r.case.id}:[/red] {e}",
                                  markup=True, highlight=False)
        sys.exit(1)


def _output(result: BenchResult, case_dirs: tuple[str, ...], json_out: str | None,
            verbose: bool, report_dir: str | None) -> None:
    timing = result.timing()
    title = (f"{len(result.cases)} cases from {', '.join(case_dirs)}: "
             f"{timing['cases_per_s']:.1f} cases/s")
    data = result.to_dict()
    if json_out == "-":
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
    else:
        if verbose:
            for r in result.cases:
                console.print(describe_case(r), highlight=False)
            console.print(detail_table(result))
        console.print(summary_table(result, title))
        if json_out:
            Path(json_out).write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    if report_dir:
        from ccm.bench.report import write_report

        written = write_report(data, Path(report_dir), sources=list(case_dirs))
        err_console.print("report: " + ", ".join(str(p) for p in written))


def register(cli: click.Group) -> None:
    """Join the ``ccm bench`` group (which :mod:`ccm.cli.bench_cmd` adds to ``cli``)."""
    bench.add_command(chains_cmd)
