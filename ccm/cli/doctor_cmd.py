"""``ccm doctor``: what the graph in a store lacks (also printed at the end of ``ccm ingest``)."""

from __future__ import annotations

import sys

import click

from ccm.cli.common import (
    TIME,
    console,
    handle_errors,
    json_option,
    opened_store,
    print_json,
    store_option,
)
from ccm.cli.render import when
from ingest.core import PLACEHOLDER_SOURCE
from ingest.coverage import Coverage, Placeholder, Unresolved, coverage


def _listing(title: str, rows: list[str], limit: int) -> None:
    console.print(f"{title} ({len(rows)}):", markup=False)
    for row in rows[:limit]:
        console.print(f"  {row}", markup=False)
    if len(rows) > limit:
        console.print(f"  ... and {len(rows) - limit} more (--json lists every one)",
                      markup=False)


def print_coverage(cov: Coverage, limit: int = 20) -> None:
    """The coverage as text: a headline, then each list (its first ``limit`` rows)."""
    console.print(f"Coverage of the graph at {when(cov.valid_at)}: {cov.components} "
                  f"components, {cov.dependencies} dependencies", markup=False)
    if not cov.lacking:
        console.print("  nothing lacking: every component has a dependency, no placeholders, "
                      "no unresolved alerts", markup=False)
        return
    if cov.without_dependencies:
        _listing("Components without any dependency", cov.without_dependencies, limit)
    if cov.placeholders:
        _listing("Placeholders (named, not defined by a manifest, catalog or native node)",
                 [_placeholder_row(p) for p in cov.placeholders], limit)
    if cov.unresolved:
        _listing(f"Unresolved placeholders with {cov.unresolved_alerts} alert(s) attached",
                 [_unresolved_row(u) for u in cov.unresolved], limit)


def _placeholder_row(p: Placeholder) -> str:
    where = p.origin or "(no origin recorded)"
    if p.source == PLACEHOLDER_SOURCE:
        return f"{p.ref}  named in {where}"
    return f"{p.ref}  written by {p.source} only, {where}"


def _unresolved_row(u: Unresolved) -> str:
    if not u.alerts:
        return f"{u.ref}  0 alert(s)"
    shown = ", ".join(u.alerts[:3]) + (", ..." if len(u.alerts) > 3 else "")
    return f"{u.ref}  {len(u.alerts)} alert(s): {shown}"


@click.command("doctor")
@click.option("--at", "valid_at", type=TIME, default="now", show_default=True,
              help="The valid time of the graph to examine.")
@click.option("--known-at", type=TIME, default=None,
              help="Examine what CCM knew at this time (default: everything recorded).")
@click.option("--strict", is_flag=True,
              help="Exit with status 1 when anything is lacking (default: always 0).")
@click.option("--limit", type=click.IntRange(1), default=50, show_default=True,
              help="Rows per list in the text output (--json lists every one).")
@store_option
@json_option
@handle_errors
def doctor_cmd(valid_at: int, known_at: int | None, strict: bool, limit: int,
               store_location: str | None, as_json: bool) -> None:
    """Say what the graph lacks: components without any dependency, placeholders (nodes
    a source named but no manifest, catalog or native node defines, with the source and
    record that created them) and unresolved placeholders with their alerts.

    A report, not a check: exit status 0 unless --strict is given and something is
    lacking. What ingest skipped is not stored: `ccm ingest` prints it. See
    docs/ingest.md (Coverage).
    """
    with opened_store(store_location) as store:
        cov = coverage(store, valid_at, known_at)
    if as_json:
        print_json(cov.to_dict())
    else:
        print_coverage(cov, limit)
    if strict and cov.lacking:
        sys.exit(1)


def register(cli: click.Group) -> None:
    cli.add_command(doctor_cmd)
