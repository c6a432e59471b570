"""``ccm rca``: the ranked chains of causes behind the alerts firing at a time."""

from __future__ import annotations

import click
from rich.table import Table

from ccm.cli.common import (
    DURATION,
    TIME,
    console,
    handle_errors,
    json_option,
    opened_store,
    print_json,
    store_option,
)
from ccm.cli.render import when
from ccm.engine import RootCauses, Symptom, root_causes
from ccm.engine.types import Chain
from ccm.memory import Memory
from ccm.ops.names import resolve_name, split_signal


def evidence_summary(chain: Chain, n_symptoms: int) -> str:
    """One cell: what the chain explains, its prior, and the probability of each link."""
    parts = [f"explains {len(chain.explained)}/{n_symptoms}"]
    if chain.unexplained:
        parts[-1] += f" (not {', '.join(chain.unexplained)})"
    if chain.cause == "change" and chain.links:
        a = chain.links[0].attrs
        age = f", {a['age_hours']:g} h before the first symptom" if a.get("age_hours") else ""
        keys = f" of {', '.join(a['keys'])}" if a.get("keys") else ""
        parts.append(f"{a['change_kind']}{keys}{age}, q={a['q']:.2f}")
    elif chain.cause == "expiry":
        parts.append(f"{chain.root} holds a value past its expiry, prior x onset density "
                     f"{chain.prior:.2g}/h")
    else:
        parts.append(f"spontaneous failure, rate {chain.prior:.0e}/h")
    hops = [f"{link.p:.2f}" for link in chain.links[1 if chain.cause == "change" else 0:]]
    if hops:
        parts.append("link p " + " x ".join(hops))
    return "; ".join(parts)


def chains_table(result: RootCauses, title: str = "Root-cause chains") -> Table:
    t = Table(title=title, title_justify="left")
    t.add_column("#", justify="right")
    t.add_column("score", justify="right")
    t.add_column("chain", overflow="fold")
    t.add_column("evidence", overflow="fold")
    for c in result.chains:
        t.add_row(str(c.rank), f"{c.score:.3f}", " -> ".join(c.nodes),
                  evidence_summary(c, len(result.symptoms)))
    return t


def print_root_causes(result: RootCauses) -> None:
    listed = ", ".join(f"{s.ref} ({s.signal} since {when(s.time)})" for s in result.symptoms)
    console.print(f"Symptoms at {when(result.valid_at)}: {listed or 'none'}")
    if not result.chains:
        console.print("No hypothesis can reach these symptoms.")
        return
    console.print(chains_table(result))
    close = result.close_call
    if close is not None:
        console.print(f"Close call: {close.first} is {close.ratio:.1f} times as probable as "
                      f"{close.second}; {close.note}"
                      + (f" (since {when(close.observation.since)})"
                         if close.observation and close.observation.since is not None else "")
                      + ".")
    t = result.timings
    console.print(f"{result.hypotheses} hypotheses ranked in {t.run_s * 1000:.1f} ms "
                  f"(kernel compile/load {t.compile_s:.2f} s).")


@click.command("rca")
@click.option("--at", "valid_at", type=TIME, default="now", show_default=True,
              help="The time of the question: symptoms default to the alerts firing then.")
@click.option("--known-at", type=TIME, default=None,
              help="Answer with what CCM knew at this time (default: everything recorded).")
@click.option("--symptom", "symptoms", multiple=True, metavar="REF[:SIGNAL]",
              help="A symptom instead of the firing alerts: a node reference or any name "
                   "or alias the graph knows, e.g. service:cart, cart, cart.default or "
                   "cart:latency (signal defaults to errors; onset --at). Repeatable.")
@click.option("--window", type=DURATION, default=None, metavar="DURATION",
              help="Only consider changes this recent, e.g. P7D (default: all; older "
                   "changes are weighed down by their age, never cut off).")
@click.option("-k", "k", type=click.IntRange(1, 1000), default=5, show_default=True,
              help="Chains to show (one per distinct root).")
@click.option("--tenant", default="default", show_default=True,
              help="Whose memory: its outcomes weigh the changes, and the resolved "
                   "incidents it recalls are cited (\"seen before\").")
@store_option
@json_option
@handle_errors
def rca_cmd(valid_at: int, known_at: int | None, symptoms: tuple[str, ...],
            window: int | None, k: int, tenant: str, store_location: str | None,
            as_json: bool) -> None:
    """Rank the changes and spontaneous failures that best explain the symptoms, each
    with its most probable chain to a symptom and the evidence for every link, and
    the earlier incidents memory recalls for it."""
    with opened_store(store_location) as store:
        given = [Symptom(resolve_name(store, name), signal, valid_at)
                 for name, signal in map(split_signal, symptoms)] or None
        snap = store.snapshot(valid_at, known_at, window)
        mem = Memory(store, tenant)
        result = root_causes(snap, given, k=k, priors=mem.priors(valid_at, known_at))
        recalled = {c.root: mem.seen_before(c.nodes, at=valid_at, known_at=known_at)
                    for c in result.chains}
    if as_json:
        data = result.to_dict()
        for chain in data["chains"]:
            chain["seen_before"] = [m.to_dict() for m in recalled.get(chain["root"], [])]
        print_json(data)
    else:
        print_root_causes(result)
        for c in result.chains:
            for m in recalled.get(c.root, []):
                console.print(f"#{c.rank} {c.root}: {m.describe()}")


def register(cli: click.Group) -> None:
    cli.add_command(rca_cmd)
