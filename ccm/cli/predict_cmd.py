"""``ccm predict``: the blast radius of an action before anyone takes it."""

from __future__ import annotations

import click
import numpy as np
from rich.table import Table

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
from ccm.engine import ACTION_KINDS, Action, Impact, Snapshot, predict_impact, resolve
from ccm.engine.impact import action_seeds, best_paths
from ccm.memory import Memory
from ccm.ops.names import resolve_name


def impact_table(snapshot: Snapshot, impact: Impact, limit: int = 50) -> Table:
    """node, probability (if the action fails), most probable path from the action."""
    seeds, probs = action_seeds(snapshot, impact.action)
    targets = np.array([snapshot.index[r] for r in list(impact.nodes)[:limit]], np.int64)
    paths = best_paths(snapshot, seeds, probs, targets)
    t = Table(title=f"Blast radius of {impact.action.kind} {impact.action.target} "
                    "(if it fails)", title_justify="left")
    t.add_column("node")
    t.add_column("p", justify="right")
    t.add_column("entry", justify="center")
    t.add_column("path", overflow="fold")
    for ref in list(impact.nodes)[:limit]:
        entry = "yes" if snapshot.traffic[snapshot.index[ref]] > 0 else ""
        t.add_row(ref, f"{impact.nodes[ref]:.3f}", entry, " -> ".join(paths.get(ref, [])))
    if len(impact.nodes) > limit:
        t.add_row(f"... {len(impact.nodes) - limit} more", "", "", "")
    return t


def print_impact(snapshot: Snapshot, impact: Impact) -> None:
    console.print(impact_table(snapshot, impact))
    s, tr = impact.services, impact.traffic
    console.print(
        f"p_fail {impact.p_fail:.3f} (prior of a {impact.action.kind}); if it fails, over "
        f"{impact.samples} cascades (seed {impact.seed}):\n"
        f"  impacted components  mean {s.mean:.2f}  p50 {s.p50:g}  p95 {s.p95:g}\n"
        f"  impacted traffic     mean {tr.mean:.1%}  p50 {tr.p50:.1%}  p95 {tr.p95:.1%} "
        f"of entrypoint requests/s\n"
        f"  expected traffic impact (p_fail x mean) {impact.expected_traffic:.2%}\n"
        f"Graph at {when(impact.valid_at)}; run {impact.timings.run_s * 1000:.1f} ms "
        f"(kernel compile/load {impact.timings.compile_s:.2f} s).")


@click.command("predict")
@click.argument("kind", type=click.Choice(ACTION_KINDS))
@click.argument("target")
@click.option("--key", "keys", multiple=True, metavar="KEY",
              help="A configuration key the change sets (config_change); repeatable.")
@click.option("--destructive", is_flag=True, help="The migration destroys data.")
@click.option("--irreversible", is_flag=True, help="The change cannot be rolled back.")
@click.option("--at", "valid_at", type=TIME, default="now", show_default=True,
              help="Predict on the graph as it was at this time.")
@click.option("--known-at", type=TIME, default=None,
              help="Use what CCM knew at this time (default: everything recorded).")
@click.option("--samples", type=click.IntRange(1, 10_000_000), default=1000,
              show_default=True, help="Monte Carlo cascades (at most, with --precision).")
@click.option("--precision", type=click.FloatRange(0, 1, max_open=True), default=0.0,
              show_default=True,
              help="Stop drawing cascades once every figure is known to this relative "
                   "precision (95%% confidence), e.g. 0.03; 0: draw all --samples.")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed.")
@click.option("--tenant", default="default", show_default=True,
              help="Whose memory: outcomes it remembers correct p_fail.")
@store_option
@json_option
@handle_errors
def predict_cmd(kind: str, target: str, keys: tuple[str, ...], destructive: bool,
                irreversible: bool, valid_at: int, known_at: int | None, samples: int,
                precision: float, seed: int, tenant: str, store_location: str | None, as_json: bool) -> None:
    """Predict the blast radius of an action of KIND on TARGET (a reference such as
    service:cart, a bare component name, or any alias the graph knows it by, e.g.
    reviews-v2 or ratings.default): per-node impact probability with the most
    probable path, and the distribution of impacted components and traffic."""
    with opened_store(store_location) as store:
        snap = store.snapshot(valid_at, known_at)
        priors = Memory(store, tenant).priors(valid_at, known_at)
        ref = resolve_name(store, target)
    action = Action(kind, resolve(snap, ref), keys=keys, destructive=destructive,
                    reversible=not irreversible)
    impact = predict_impact(snap, action, samples=samples, seed=seed, priors=priors,
                            precision=precision)
    if as_json:
        print_json(impact.to_dict())
    else:
        print_impact(snap, impact)


def register(cli: click.Group) -> None:
    cli.add_command(predict_cmd)
