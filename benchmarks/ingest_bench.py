"""Ingest throughput, in facts per second, per format and per store.

Generates (deterministic) inputs of at least ``--facts`` facts for every format,
ingests each into a fresh store (the embedded SQLite store and a real Neo4j,
``NEO4J_URI`` or a local server started for the run), and writes the figures as
JSON. Facts counted are those the store added; time is wall time of the ingest
call (reading, parsing, mapping, validating and writing), and CPU time of this
process and of its writer process (``ingest.writer``, for big native files into the
embedded store) is reported beside it. A small untimed ingest warms each store up first.

    python benchmarks/ingest_bench.py --facts 100000 --out out/ingest-bench.json
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import resource
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ingest_inputs import MAKERS, PRELOAD  # noqa: E402

from ccm.ops.collector import owned_collector  # noqa: E402
from ccm.store import EmbeddedStore  # noqa: E402
from graph_schema import NodeFact  # noqa: E402
from ingest import ingest_paths  # noqa: E402

AT = 1_772_323_200_000_000  # 2026-03-01T00:00:00Z


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="ingest_bench.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--facts", type=int, default=100_000,
                   help="facts per input (at least; default 100000)")
    p.add_argument("--formats", default=",".join(MAKERS),
                   help=f"comma-separated formats (default: all: {','.join(MAKERS)})")
    p.add_argument("--stores", default="embedded,neo4j",
                   help="comma-separated stores: embedded, neo4j (default: both)")
    p.add_argument("--batch-size", type=int, default=1000, help="records per transaction")
    p.add_argument("--workdir", type=Path, default=None,
                   help="where inputs and the SQLite files go (default: a temporary folder)")
    p.add_argument("--out", type=Path, default=None, help="write the results as JSON here")
    return p.parse_args(argv)


def run_one(store: Any, fmt: str, inputs: list[Path], batch_size: int) -> dict[str, Any]:
    if fmt in PRELOAD:
        store.write([NodeFact("service", f"svc-{i}", {}, 0) for i in range(1000)])
    start, cpu, child = time.perf_counter(), time.process_time(), children_cpu()
    with owned_collector():  # as `ccm ingest` runs it (--gc-tuning, its default)
        report = ingest_paths(store, inputs, fmt=fmt, at=AT, batch_size=batch_size)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    child = children_cpu() - child
    totals = report.totals()
    errors = [e for f in report.files for e in f.errors]
    return {"format": fmt, "facts": totals["added"], "seconds": round(wall, 3),
            "facts_per_s": round(totals["added"] / wall), "cpu_seconds": round(cpu + child, 3),
            "writer_cpu_seconds": round(child, 3),
            "input_bytes": sum(p.stat().st_size for p in inputs), "files": len(inputs),
            "rejected": totals["rejected"], "errors": errors[:3]}


def children_cpu() -> float:
    """CPU seconds of this process's finished children (the ingest writer process)."""
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


@contextlib.contextmanager
def open_store(kind: str, workdir: Path, name: str) -> Iterator[Any]:
    if kind == "embedded":
        path = workdir / f"{name}.sqlite"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        store = EmbeddedStore(path)
    else:
        from ccm.store.neo4j import Neo4jStore

        store = Neo4jStore(os.environ["CCM_BENCH_NEO4J_URI"])
        store.wipe()
    try:
        yield store
    finally:
        store.close()


def bench(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    unknown = [f for f in formats if f not in MAKERS]
    if unknown:
        raise SystemExit(f"unknown format(s): {', '.join(unknown)}")
    inputs = {}
    for fmt in formats:
        folder = workdir / "inputs" / fmt
        folder.mkdir(parents=True, exist_ok=True)
        inputs[fmt] = MAKERS[fmt](folder, args.facts)
    warmup = workdir / "inputs" / "warmup"
    warmup.mkdir(parents=True, exist_ok=True)
    warm_inputs = MAKERS["native"](warmup, 1000)
    results = []
    for kind in [s.strip() for s in args.stores.split(",") if s.strip()]:
        with neo4j_for(kind):
            with open_store(kind, workdir, "warmup") as store:  # imports, JIT, query plans
                ingest_paths(store, warm_inputs, at=AT)
            for fmt in formats:
                with open_store(kind, workdir, f"bench-{fmt}") as store:
                    row = {"store": kind, **run_one(store, fmt, inputs[fmt], args.batch_size)}
                results.append(row)
                print(f"{kind:9} {fmt:14} {row['facts']:>8} facts {row['seconds']:>8.2f} s "
                      f"{row['facts_per_s']:>8} facts/s  (cpu {row['cpu_seconds']:.2f} s, "
                      f"writer {row['writer_cpu_seconds']:.2f} s)"
                      + (f"  ERRORS: {row['errors']}" if row["errors"] else ""), flush=True)
    return {"facts_target": args.facts, "batch_size": args.batch_size,
            "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                        "platform": platform.platform(),
                        "load_average": os.getloadavg()},
            "results": results}


@contextlib.contextmanager
def neo4j_for(kind: str) -> Iterator[None]:
    if kind != "neo4j":
        yield
        return
    from ccm.devserver.neo4j import neo4j_uri

    with neo4j_uri() as uri:
        os.environ["CCM_BENCH_NEO4J_URI"] = uri
        yield


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with contextlib.ExitStack() as stack:
        workdir = args.workdir or Path(stack.enter_context(tempfile.TemporaryDirectory(
            prefix="ccm-ingest-bench-")))
        workdir.mkdir(parents=True, exist_ok=True)
        out = bench(args, workdir)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(out, indent=2) + "\n")
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
