"""``ccm demo``: a bundled production (Online Boutique) to look around in."""

from __future__ import annotations

import os
from pathlib import Path

import click

from ccm.cli.common import console, handle_errors
from ccm.cli.demo_memory import show_memory_story
from ccm.cli.predict_cmd import print_impact
from ccm.cli.rca_cmd import print_root_causes
from ccm.cli.render import diff_table, graph_summary, graph_tables, when
from ccm.demo.production import demo_data_dir, load_demo
from ccm.engine import Action, predict_impact, root_causes
from graph_schema import parse_time

BEFORE = "2026-03-01T00:00:00Z"
AFTER = "2026-03-05T12:00:00Z"
#: the action whose blast radius the demo predicts
PROPOSED = Action("deploy", "service:productcatalogservice", attributes={"version": "v0.10.4"})


def default_demo_store() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "ccm" / "demo.sqlite"


@click.command("demo")
@click.option("--store", "store_path", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Where to write the demo store (default: "
              "~/.local/share/ccm/demo.sqlite; recreated on every run).")
@handle_errors
def demo_cmd(store_path: Path | None) -> None:
    """Load a small real production (Google's Online Boutique, with a few days of
    deploys, config changes and alerts) into an embedded store; show the graph at two
    times and what changed between them, the root-cause chains of the alerts, the
    predicted blast radius of a proposed deploy, and memory at work: an agent's config
    change that proceeds, fails, is reverted, and is refused the next time; and the
    root-cause analysis of a recurring incident citing the earlier one."""
    path = store_path or default_demo_store()
    store = load_demo(path)
    try:
        t1, t2 = parse_time(BEFORE), parse_time(AFTER)
        g1, g2 = store.graph(t1), store.graph(t2)
        console.rule("[b]CCM demo: Online Boutique[/b]")
        console.print(f"Loaded {demo_data_dir()} into {path}\n")
        console.print(f"[b]Graph at {when(t1)}[/b]: {graph_summary(g1)}")
        deps = g1.to_networkx(("DEPENDS_ON",))
        console.print(graph_tables(g1)[1] if deps.number_of_edges() else "")
        console.print(f"\n[b]Graph at {when(t2)}[/b]: {graph_summary(g2)}\n")
        console.print(diff_table(store.diff(t1, t2)))
        snap = store.snapshot(t2)
        console.rule(f"[b]Why are these alerts firing at {when(t2)}?[/b]  (ccm rca)")
        print_root_causes(root_causes(snap, k=5))
        console.rule(f"[b]What if we {PROPOSED.kind} {PROPOSED.target}?[/b]  (ccm predict)")
        print_impact(snap, predict_impact(snap, PROPOSED))
        show_memory_story(store)
    finally:
        store.close()
    console.print(f"""
[b]Try next[/b] (the demo store is {path}):
  export CCM_STORE={path}
  ccm history config:cartservice/REDIS_ADDR       # a config key's versions over time
  ccm graph --at 2026-03-02T12:00:00Z --kind service
  ccm diff 2026-03-02T00:00:00Z 2026-03-03T00:00:00Z
  ccm rca --at {AFTER}
  ccm rca --at {AFTER} --symptom service:checkoutservice:latency --json
  ccm predict config_change cartservice --key REDIS_ADDR --at {AFTER}
  ccm graph --at {AFTER} --json | head
  ccm actions list --proposed              # the actions of the story and their states
  ccm actions show <act-id>                # verdict, every rule's reason, history
  ccm audit verify                         # the hash chain and signatures
  ccm calibrate                            # predictions against outcomes
  ccm rca --at 2026-03-09T14:20:00Z --symptom service:recommendationservice \\
      --symptom service:frontend           # cites incident:inc-demo-1 (seen before)""")


def register(cli: click.Group) -> None:
    cli.add_command(demo_cmd)
