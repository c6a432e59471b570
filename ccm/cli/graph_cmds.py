"""``ccm graph``, ``ccm history``, ``ccm diff``: look at the graph at any time."""

from __future__ import annotations

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
from ccm.cli.render import diff_table, graph_summary, graph_tables, history_tables, when

known_option = click.option(
    "--known-at", type=TIME, default=None,
    help="Answer with what CCM knew at this time (default: everything recorded).")


@click.command("graph")
@click.option("--at", "valid_at", type=TIME, default="now", show_default=True,
              help="The time the graph was true at.")
@known_option
@click.option("--kind", "kinds", multiple=True, metavar="KIND",
              help="Only nodes of this kind (and edges between them); repeatable.")
@click.option("--limit", type=int, default=200, show_default=True,
              help="Rows per table.")
@store_option
@json_option
@handle_errors
def graph_cmd(valid_at: int, known_at: int | None, kinds: tuple[str, ...], limit: int,
              store_location: str | None, as_json: bool) -> None:
    """Show the graph as it was at a time (as known at a time)."""
    with opened_store(store_location) as store:
        g = store.graph(valid_at, known_at)
    if kinds:
        g.nodes = {r: n for r, n in g.nodes.items() if n.kind in kinds}
        g.edges = {f: e for f, e in g.edges.items() if e.src in g.nodes and e.dst in g.nodes}
    if as_json:
        print_json(g.to_dict())
        return
    console.print(f"Graph at {when(g.valid_at)}: {graph_summary(g)}")
    for table in graph_tables(g, limit):
        console.print(table)


@click.command("history")
@click.argument("ref")
@known_option
@store_option
@json_option
@handle_errors
def history_cmd(ref: str, known_at: int | None, store_location: str | None,
                as_json: bool) -> None:
    """Show every version of node REF (e.g. service:cart) and of its edges."""
    with opened_store(store_location) as store:
        h = store.history(ref, known_at)
    if as_json:
        print_json(h.to_dict())
        return
    for table in history_tables(h):
        console.print(table)


@click.command("diff")
@click.argument("t1", type=TIME)
@click.argument("t2", type=TIME)
@known_option
@click.option("--limit", type=int, default=200, show_default=True, help="Rows to show.")
@store_option
@json_option
@handle_errors
def diff_cmd(t1: int, t2: int, known_at: int | None, limit: int, store_location: str | None,
             as_json: bool) -> None:
    """Show facts added, removed and changed between times T1 and T2."""
    with opened_store(store_location) as store:
        d = store.diff(t1, t2, known_at)
    if as_json:
        print_json(d.to_dict())
        return
    console.print(f"{len(d.added)} added, {len(d.removed)} removed, {len(d.changed)} changed")
    console.print(diff_table(d, limit))


def register(cli: click.Group) -> None:
    for cmd in (graph_cmd, history_cmd, diff_cmd):
        cli.add_command(cmd)
