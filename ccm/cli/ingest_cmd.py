"""``ccm ingest``: read files and folders of production context into the store."""

from __future__ import annotations

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
from ingest import IngestReport, ingest_paths, registry


def _formats_help() -> str:
    return "; ".join(f"{a.name}: {a.description}" for a in registry().values())


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


@click.command("ingest")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--format", "fmt", default=None, metavar="FORMAT",
              help="Read every file as this format instead of detecting it.")
@click.option("--at", "at", type=TIME, default=None,
              help="Valid time for sources that carry no timestamp (default: now).")
@click.option("--batch-size", type=click.IntRange(1, 1_000_000), default=1000,
              show_default=True, help="Records per transaction for line-oriented formats.")
@store_option
@json_option
@handle_errors
def ingest_cmd(paths: tuple[str, ...], fmt: str | None, at: int | None, batch_size: int,
               store_location: str | None, as_json: bool) -> None:
    """Ingest PATHS (files and folders) into the store.

    Each file's format is detected (or given with --format). Every batch is written
    atomically: a bad record rejects its batch, with the file, line, field and value
    named; other batches are kept. Exit status 1 when anything was rejected.
    """
    with opened_store(store_location) as store:
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
                                  progress=on_progress)
    if as_json:
        print_json(report.to_dict())
    else:
        console.print(report_table(report))
        for f in report.files:
            for e in f.errors[:20]:
                err_console.print(f"[red]error:[/red] {e}", markup=True, highlight=False)
            if len(f.errors) > 20:
                err_console.print(f"... and {len(f.errors) - 20} more errors in {f.path}")
    if not report.ok:
        sys.exit(1)


ingest_cmd.help = (ingest_cmd.help or "") + "\n\nFormats: " + _formats_help()


def register(cli: click.Group) -> None:
    cli.add_command(ingest_cmd)
