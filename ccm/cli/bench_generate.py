"""``ccm bench generate``: synthetic fault-injection cases on real topologies."""

from __future__ import annotations

from pathlib import Path

import click

from ccm.bench.cases import cases_digest, load_case
from ccm.bench.synth import generate, load_topologies
from ccm.bench.synth.generate import MIXES
from ccm.bench.synth.writers import FORMATS
from ccm.cli.bench_cmd import bench
from ccm.cli.common import console, handle_errors
from ccm.errors import InvalidRequest

#: the six real applications' topologies, in the project's checkout
CHECKOUT_TOPOLOGIES = Path(__file__).resolve().parents[2] / "benchmarks" / "topologies"


def default_topologies() -> tuple[str, ...]:
    """``benchmarks/topologies`` of the current folder, else of CCM's own checkout."""
    for folder in (Path("benchmarks/topologies"), CHECKOUT_TOPOLOGIES):
        if folder.is_dir():
            return (str(folder),)
    raise InvalidRequest("no benchmarks/topologies here nor in CCM's checkout: pass "
                         "--topologies FILE_OR_FOLDER (native topology JSONL)")


@click.command("generate")
@click.option("--topologies", "topology_paths", multiple=True,
              type=click.Path(exists=True),
              help="Native topology JSONL files, or folders of them; repeatable "
                   "(default: benchmarks/topologies here, else in CCM's checkout).")
@click.option("--out", required=True, type=click.Path(file_okay=False),
              help="Folder to write the cases into (one folder per case).")
@click.option("--cases", "n_cases", type=click.IntRange(1), default=500, show_default=True,
              help="How many cases (spread round-robin over the topologies).")
@click.option("--seed", type=int, default=7, show_default=True,
              help="Random seed: the same seed writes byte-identical cases.")
@click.option("--formats", default="native", show_default=True, metavar="LIST",
              help="Comma-separated file formats to mix: " + ", ".join(FORMATS)
                   + " (native is always used; the others replace it in some cases).")
@click.option("--mix", type=click.Choice(MIXES), default="changes", show_default=True,
              help="What causes the incidents: changes (every cause a change: prompt, or "
                   "a delayed onset) or chaos (45 %% faults with no change record, pod "
                   "kills to full disks, among routine changes; 40 %% prompt changes; "
                   "15 %% changes that bite hours to days later).")
@click.option("--overwrite", is_flag=True, help="Replace the case folders already in --out.")
@handle_errors
def generate_cmd(topology_paths: tuple[str, ...], out: str, n_cases: int, seed: int,
                 formats: str, mix: str, overwrite: bool) -> None:
    """Write synthetic incident cases: a fault injected into a real topology (a faulty
    change, or with --mix chaos also a fault no change explains), spread by the
    generator's own stochastic model, observed through noisy alerts, with the injected
    cause and its propagation path as the truth."""
    topologies = load_topologies(topology_paths or default_topologies())
    chosen = [f.strip() for f in formats.split(",") if f.strip()]
    written = generate(topologies, out, n_cases, seed, formats=chosen, overwrite=overwrite,
                       mix=mix)
    digest = cases_digest([load_case(p) for p in written])
    console.print(f"wrote {len(written)} cases into {out} "
                  f"({len(topologies)} topologies, seed {seed}, formats {', '.join(chosen)}); "
                  f"cases digest {digest}")


def register(cli: click.Group) -> None:
    """Join the ``ccm bench`` group (which :mod:`ccm.cli.bench_cmd` adds to ``cli``)."""
    bench.add_command(generate_cmd)
