"""Store benchmark: write N facts into each backend, then time as-of queries.

Generates a service graph (a quarter nodes, the rest DEPENDS_ON edges with
heavy-tailed fan-in), writes it in batches over simulated days so that facts have
several versions (about a fifth of the edges are re-versioned on a later day),
then times ``graph(valid_at)`` at a past time and at now.

    python benchmarks/store_bench.py --facts 100000 --json out/store_bench.json
    python benchmarks/store_bench.py --backends embedded --facts 20000

Neo4j is ``NEO4J_URI`` when set, else a local server started for the run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import numpy as np

from ccm.store import EmbeddedStore, Store
from graph_schema import EdgeFact, NodeFact, parse_time

DAY = 86_400_000_000
T0 = parse_time("2026-01-01T00:00:00Z")


def generate(n_facts: int, seed: int = 7) -> tuple[list[list[Any]], int]:
    """Batches of facts (by simulated day) and the count; ~25% nodes, 75% edges."""
    rng = np.random.default_rng(seed)
    n_nodes = max(2, n_facts // 4)
    n_edges = n_facts - n_nodes
    n_revised = n_edges // 5
    n_first = n_edges - n_revised
    nodes = [NodeFact("service", f"svc-{i}", {"replicas": int(rng.integers(1, 8))}, T0)
             for i in range(n_nodes)]
    # heavy-tailed callees (Zipf), uniform callers; drop duplicates and self-loops
    callers = rng.integers(0, n_nodes, size=n_first * 2)
    callees = np.minimum(rng.zipf(1.6, size=n_first * 2) - 1, n_nodes - 1)
    seen: set[tuple[int, int]] = set()
    edges = []
    for a, b in zip(callers.tolist(), callees.tolist(), strict=True):
        if a != b and (a, b) not in seen:
            seen.add((a, b))
            edges.append(EdgeFact("DEPENDS_ON", f"service:svc-{a}", f"service:svc-{b}",
                                  {"calls_per_s": float(rng.integers(1, 500))}, T0))
            if len(edges) == n_first:
                break
    revised = [EdgeFact(e.kind, e.src, e.dst, {"calls_per_s": e.attrs["calls_per_s"] * 2},
                        T0 + 3 * DAY) for e in edges[:n_revised]]
    facts: list[Any] = nodes + edges
    batches = [facts[i:i + 5000] for i in range(0, len(facts), 5000)]
    batches += [revised[i:i + 5000] for i in range(0, len(revised), 5000)]
    return batches, len(facts) + len(revised)


def run(store: Store, batches: list[list[Any]], total: int, repeats: int) -> dict[str, Any]:
    start = time.perf_counter()
    for batch in batches:
        store.write(batch)
    write_s = time.perf_counter() - start
    out: dict[str, Any] = {"facts": total, "write_seconds": round(write_s, 3),
                           "facts_per_second": round(total / write_s)}
    for label, at in (("asof_past", T0 + DAY), ("asof_now", T0 + 10 * DAY)):
        times = []
        for _ in range(repeats):
            t = time.perf_counter()
            g = store.graph(at)
            times.append(time.perf_counter() - t)
        out[f"{label}_ms"] = round(statistics.median(times) * 1000, 1)
        out[f"{label}_edges"] = len(g.edges)
    out["idempotent_rewrite_seconds"] = round(_rewrite(store, batches[:2]), 3)
    return out


def _rewrite(store: Store, batches: list[list[Any]]) -> float:
    t = time.perf_counter()
    for batch in batches:
        r = store.write(batch)
        assert r.added == 0, "rewriting the same facts must change nothing"
    return time.perf_counter() - t


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--facts", type=int, default=100_000, help="facts to write (default 100000)")
    p.add_argument("--backends", default="embedded,neo4j",
                   help="comma-separated: embedded, neo4j (default both)")
    p.add_argument("--repeats", type=int, default=5, help="as-of query repetitions")
    p.add_argument("--json", type=Path, default=None, help="write results here")
    args = p.parse_args(argv)
    batches, total = generate(args.facts)
    results = []
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        for backend in args.backends.split(","):
            if backend == "embedded":
                store: Store = EmbeddedStore(tmp / "bench.sqlite")
            elif backend == "neo4j":
                from ccm.devserver.neo4j import neo4j_uri
                from ccm.store.neo4j import Neo4jStore

                uri = stack.enter_context(neo4j_uri())
                store = Neo4jStore(uri)
                store.wipe()
            else:
                p.error(f"unknown backend {backend!r}")
            print(f"{backend}: writing {total} facts ...", file=sys.stderr)
            res = {"backend": backend, **run(store, batches, total, args.repeats)}
            store.close()
            results.append(res)
            print(json.dumps(res))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"results": results}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
