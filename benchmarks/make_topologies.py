"""Write benchmarks/topologies/*.jsonl from the shared topology files.

    python benchmarks/make_topologies.py /work/shared/data/topologies benchmarks/topologies

The conversion is :func:`ccm.bench.synth.topology.convert` (see its docstring).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ccm.bench.synth.topology import SNAPSHOTS, convert, write_topology


def main(src: str, out: str) -> None:
    target = Path(out)
    target.mkdir(parents=True, exist_ok=True)
    for stem in sorted(SNAPSHOTS):
        data = json.loads((Path(src) / f"{stem}.json").read_text(encoding="utf-8"))
        write_topology(convert(stem, data), target / f"{stem}.jsonl")
        print(f"{stem}: {len(data['services'])} nodes, {len(data['edges'])} edges")


if __name__ == "__main__":
    main(*sys.argv[1:3])
