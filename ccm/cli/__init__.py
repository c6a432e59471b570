"""The ``ccm`` command: a thin layer over the library (commands call library functions
and only turn errors into exit statuses)."""

from __future__ import annotations

import click

from ccm import __version__
from ccm.cli import (
    actions_cmds,
    admin_cmds,
    audit_cmds,
    bench_chains,
    bench_cmd,
    bench_generate,
    bench_load,
    calibrate_cmd,
    demo,
    doctor_cmd,
    graph_cmds,
    ingest_cmd,
    mcp_cmd,
    predict_cmd,
    rca_cmd,
    serve,
    token_cmd,
)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="ccm")
def cli() -> None:
    """CCM, the Context & Control Model: a causal, time-versioned graph of production
    that predicts the blast radius of an action and finds the chain of changes and
    dependencies behind an alert.

    The store is a SQLite file by default ($CCM_STORE, else
    ~/.local/share/ccm/ccm.sqlite); set CCM_STORE=bolt://... (with NEO4J_USER and
    NEO4J_PASSWORD) to use Neo4j. Start with `ccm demo`.
    """


for module in (demo, ingest_cmd, doctor_cmd, graph_cmds, rca_cmd, predict_cmd, bench_cmd,
               bench_chains, bench_generate, bench_load, actions_cmds, audit_cmds, calibrate_cmd,
               admin_cmds, serve, token_cmd, mcp_cmd):
    module.register(cli)


def main() -> None:
    cli(prog_name="ccm")
