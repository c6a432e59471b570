"""Generate synthetic fault-injection cases on real topologies, reproducibly.

Case ``i`` of a run uses the topology ``i mod len(topologies)`` (sorted by file
name) and its own ``random.Random(f"{seed}/{i}")``, so the same seed gives the same
cases byte for byte, and the first N cases of a larger run are the N cases of a
smaller one. Each case's faulty change happens at a time drawn over the weeks
after :data:`EPOCH`, during working hours.
"""

from __future__ import annotations

import random
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path

from ccm.bench.synth.faults import HOUR, MINUTE
from ccm.bench.synth.incident import Scenario
from ccm.bench.synth.noise import DAY
from ccm.bench.synth.scenario import make_scenario
from ccm.bench.synth.topology import SNAPSHOTS, Topology, load_topology
from ccm.bench.synth.world import sample_world
from ccm.bench.synth.writers import FORMATS, write_case
from ccm.errors import ConfigError
from graph_schema import parse_time

__all__ = ["EPOCH", "generate", "load_topologies", "scenario_for"]

EPOCH = parse_time("2026-01-05T00:00:00Z")
_MAX_TRIES = 200


def load_topologies(paths: Iterable[str | Path]) -> list[Topology]:
    """Topology JSONL files (folders are searched for ``*.jsonl``), sorted by name."""
    files: list[Path] = []
    for p in map(Path, paths):
        files.extend(sorted(p.glob("*.jsonl")) if p.is_dir() else [p])
    if not files:
        raise ConfigError("no topology files (*.jsonl) found in "
                          + ", ".join(str(p) for p in paths))
    return [load_topology(f) for f in sorted(files, key=lambda f: f.name)]


def _app_name(topo: Topology) -> str:
    return SNAPSHOTS.get(topo.app, (topo.app.replace("_", "-"), ""))[0]


MIXES = ("changes", "chaos")


def scenario_for(topo: Topology, seed: int, index: int, mix: str = "changes"
                 ) -> tuple[random.Random, Scenario]:
    """The scenario of case ``index`` of ``mix`` (and its generator, to write it with)."""
    rng = random.Random(f"{seed}/{index}")
    world = sample_world(rng, topo)
    for _ in range(_MAX_TRIES):
        base = (EPOCH + DAY * rng.randrange(0, 60) + HOUR * rng.randrange(8, 19)
                + MINUTE * rng.randrange(0, 60) + 1_000_000 * rng.randrange(0, 60))
        scenario = make_scenario(rng, world, base, mix)
        if scenario is not None:
            return rng, scenario
    raise ConfigError(f"topology {topo.app}: no fault reached an entrypoint in "
                      f"{_MAX_TRIES} draws (does it mark entrypoints?)")


def generate(topologies: list[Topology], out: str | Path, cases: int, seed: int, *,
             formats: Iterable[str] = ("native",), overwrite: bool = False,
             progress: Callable[[int, int], None] | None = None,
             mix: str = "changes") -> list[Path]:
    """Write ``cases`` cases of ``mix`` (:data:`MIXES`) into ``out``; return their folders."""
    if mix not in MIXES:
        raise ConfigError(f"mix must be one of {', '.join(MIXES)}; got {mix!r}")
    chosen = set(formats)
    unknown = chosen - set(FORMATS)
    if unknown or "native" not in chosen:
        raise ConfigError(f"formats must include native and be among {', '.join(FORMATS)}; "
                          f"got {', '.join(sorted(chosen))}")
    root = Path(out)
    if root.exists() and any(root.iterdir()):
        if not overwrite:
            raise ConfigError(f"{root} is not empty (use --overwrite to replace its cases)")
        for sub in root.iterdir():
            if sub.is_dir():
                shutil.rmtree(sub)
    root.mkdir(parents=True, exist_ok=True)
    written = []
    for i in range(cases):
        topo = topologies[i % len(topologies)]
        rng, scenario = scenario_for(topo, seed, i, mix)
        app = _app_name(topo)
        case_id = f"{app}-{i:04d}-{scenario.category.replace('_', '-')}"
        write_case(rng, scenario, root / case_id, case_id, app, seed, chosen)
        written.append(root / case_id)
        if progress:
            progress(i + 1, cases)
    return written
