"""``ccm bench``: the group every benchmark command joins (``chains``, ``generate``, ...).

A command module registers itself with ``group(cli).add_command(...)``, which creates
the group on first use, so modules can be listed in any order.
"""

from __future__ import annotations

import click


@click.group("bench")
def bench() -> None:
    """Benchmarks: root-cause chains scored against postmortems beside baselines
    (`ccm bench chains`), synthetic fault-injection cases (`ccm bench generate`)."""


def group(cli: click.Group) -> click.Group:
    """The ``bench`` group of ``cli``, added to it if it is not there yet."""
    existing = cli.commands.get("bench")
    if isinstance(existing, click.Group):
        return existing
    cli.add_command(bench)
    return bench


def register(cli: click.Group) -> None:
    group(cli)
