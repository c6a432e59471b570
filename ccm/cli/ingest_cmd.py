"""``ccm ingest``: read files and folders of production context into the store."""

from __future__ import annotations

import inspect
import sys

import click
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from ccm.cli.common import (
    TIME,
    console,
    err_console,
    handle_errors,
    json_option,
    opened_store,
    print_json,
    store_option,
)
from ccm.cli.doctor_cmd import print_coverage
from ccm.ops.collector import owned_collector
from graph_schema.timeutil import now_micros
from ingest import IngestReport, ingest_paths, registry
from ingest.alert_targets import load_target_rules
from ingest.alerts import load_signal_table
from ingest.coverage import coverage


def _formats_help() -> str:
    width = max(len(name) for name in registry())
    lines = [f"  {a.name:<{width}} {a.description}" for a in registry().values()]
    return "\b\nFormats (detected from each file, or named with --format):\n" + "\n".join(lines)


def report_table(report: IngestReport) -> Table:
    t = Table(title="Ingest summary", title_justify="left")
    t.add_column("file", overflow="fold")
    t.add_column("format")
    for col in ("added", "unchanged", "closed", "rejected"):
        t.add_column(col, justify="right")
    for f in report.files:
        t.add_row(f.path, f.format, str(f.added), str(f.unchanged), str(f.closed),
                  f"[red]{f.rejected}[/red]" if f.rejected or f.errors else "0")
    tot = report.totals()
    t.add_row("[b]total[/b]", "", *(str(tot[k]) for k in ("added", "unchanged", "closed",
                                                          "rejected")))
    return t


def _counts(skipped: dict[str, int]) -> str:
    return ", ".join(f"{n} {what}" for what, n in sorted(skipped.items()))


def print_skipped_and_notes(report: IngestReport) -> None:
    """What each file skipped (by what it is) and its notes, then the totals by kind."""
    skipped = report.skipped()
    if skipped:
        console.print("Skipped (read, not modelled):", markup=False)
        for f in report.files:
            if f.skipped:
                console.print(f"  {f.path}: {_counts(f.skipped)}", markup=False)
        console.print(f"  total: {_counts(skipped)}", markup=False)
    notes = [(f.path, note) for f in report.files for note in f.notes]
    if notes:
        console.print("Notes:", markup=False)
        for path, note in notes:
            console.print(f"  {path}: {note}", markup=False)


@click.command("ingest")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--format", "fmt", default=None, metavar="FORMAT",
              help="Read every file as this format instead of detecting it.")
@click.option("--at", "at", type=TIME, default=None,
              help="Valid time for sources that carry no timestamp (default: now).")
@click.option("--batch-size", type=click.IntRange(1, 1_000_000), default=1000,
              show_default=True, help="Records (lines, objects, events, rows) per transaction.")
@click.option("--signals", "signals_file", type=click.Path(exists=True, dir_okay=False),
              envvar="CCM_ALERT_SIGNALS", default=None,
              help="YAML file of 'AlertName: signal' entries overriding the alertname -> "
                   "signal table (default: $CCM_ALERT_SIGNALS).")
@click.option("--alert-targets", "targets_file",
              type=click.Path(exists=True, dir_okay=False), envvar="CCM_ALERT_TARGETS",
              default=None,
              help="YAML file replacing the order in which alert labels are read to find "
                   "the alert's component, the exporter names or the meta alerts "
                   "(default: $CCM_ALERT_TARGETS; see docs/ingest.md).")
@click.option("--gc-tuning/--no-gc-tuning", "gc_tuning", default=True, show_default=True,
              help="Tune this process's garbage collector while ingesting (fewer, larger "
                   "collections); the library leaves it alone.")
@store_option
@json_option
@handle_errors
def ingest_cmd(paths: tuple[str, ...], fmt: str | None, at: int | None, batch_size: int,
               signals_file: str | None, targets_file: str | None, gc_tuning: bool,
               store_location: str | None, as_json: bool) -> None:
    """Ingest PATHS (files and folders) into the store.

    Each file's format is detected (or given with --format); a folder is read
    topology first, then changes, then alerts and incidents; files a folder holds
    that are not data (a README, a Helm chart's templates) are skipped with a note.
    A bad record is rejected alone, with the file, line or document, field and value
    named; the other records are written. Ingesting the same input again
    changes nothing. Exit status 1 when anything was rejected. The summary ends with
    what was skipped and the coverage of the graph now (or at --at when later): see
    `ccm doctor`. See docs/ingest.md.
    """
    if fmt is not None and fmt not in registry():
        raise click.BadParameter(f"unknown format {fmt!r} (known: {', '.join(registry())})",
                                 param_hint="--format")
    signals = load_signal_table(signals_file) if signals_file else None
    targets = load_target_rules(targets_file) if targets_file else None
    with opened_store(store_location) as store, owned_collector(gc_tuning):
        show = not as_json and err_console.is_terminal
        with Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
                      TimeRemainingColumn(), console=err_console, disable=not show,
                      transient=True) as progress:
            tasks: dict[str, TaskID] = {}

            def on_progress(path: str, done: int, total: int) -> None:
                if path not in tasks:
                    tasks[path] = progress.add_task(path[-50:], total=total)
                progress.update(tasks[path], completed=done)

            report = ingest_paths(store, paths, fmt=fmt, at=at, batch_size=batch_size,
                                  progress=on_progress, signals=signals,
                                  alert_targets=targets)
        cov = coverage(store, max(now_micros(), at if at is not None else 0))
    if as_json:
        print_json({**report.to_dict(), "coverage": cov.to_dict()})
    else:
        console.print(report_table(report))
        print_skipped_and_notes(report)
        print_coverage(cov)
        for f in report.files:
            for e in f.errors[:20]:
                err_console.print(f"[red]error:[/red] {e}", markup=True, highlight=False)
            if len(f.errors) > 20:
                err_console.print(f"... and {len(f.errors) - 20} more errors in {f.path}")
    if not report.ok:
        sys.exit(1)


ingest_cmd.help = inspect.cleandoc(ingest_cmd.help or "") + "\n\n" + _formats_help()


def register(cli: click.Group) -> None:
    cli.add_command(ingest_cmd)
