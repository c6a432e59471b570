"""Run one networkx measurement in its own process, inside a time budget.

``python -m ccm.bench.nxworker OP EDGES SEED BUDGET REPEATS`` rebuilds the
workload, builds the networkx graph (not timed), runs OP up to REPEATS times
and prints one JSON line: ``{"seconds": [...], "status": ..., ...}``. An alarm
interrupts an OP that runs past BUDGET seconds (networkx is pure Python, so the
interruption is prompt); Monte Carlo instead stops early and extrapolates from
the cascades it finished, saying so.
"""

from __future__ import annotations

import json
import signal
import sys
import time
from typing import Any

import networkx as nx

from ccm.bench.workloads import SAMPLES, rca_workload, workload
from ccm.engine import oracle


class Budget(Exception):
    """The operation ran out of its time budget."""


def _alarm(signum: int, frame: Any) -> None:
    raise Budget


def _timed(fn: Any, budget: float, repeats: int) -> dict[str, Any]:
    times: list[float] = []
    signal.signal(signal.SIGALRM, _alarm)
    spent = 0.0
    for _ in range(repeats):
        signal.setitimer(signal.ITIMER_REAL, max(budget - spent, 0.001))
        start = time.perf_counter()
        try:
            extra = fn()
        except Budget:
            if not times:
                return {"status": "timeout", "bound_s": budget, "seconds": []}
            break
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        times.append(time.perf_counter() - start)
        spent += times[-1]
        if spent > budget / 2:
            break
    return {"status": "ok", "seconds": times, **(extra or {})}


def _monte_carlo(g: nx.DiGraph, w: Any, budget: float) -> dict[str, Any]:
    """Cascades one at a time until SAMPLES or the budget; extrapolate to SAMPLES."""
    s = w.snapshot
    start = time.perf_counter()
    done = 0
    while done < SAMPLES and time.perf_counter() - start < budget:
        oracle.cascades(g, {w.target: 1.0}, 1, done, s.component, s.traffic)
        done += 1
    elapsed = time.perf_counter() - start
    return {"status": "ok", "seconds": [elapsed * SAMPLES / max(done, 1)],
            "samples_run": done, "extrapolated": done < SAMPLES}


def run(op: str, edges: int, seed: int, budget: float, repeats: int) -> dict[str, Any]:
    t0 = time.perf_counter()
    if op == "root_causes":
        snap, symptoms, _ = rca_workload(seed)
        build = time.perf_counter() - t0
        result = _timed(lambda: {"hypotheses": len(oracle.root_cause_scores(snap, symptoms))},
                        budget, repeats)
        return {**result, "build_s": build}
    w = workload(edges, seed)
    g = oracle.to_networkx(w.snapshot)
    build = time.perf_counter() - t0
    if op == "monte_carlo":
        return {**_monte_carlo(g, w, budget), "build_s": build}
    if op == "reachability":
        fn = lambda: {"reached": len(nx.ancestors(g, w.target)) + 1}  # noqa: E731
    elif op == "blast_radius":
        fn = lambda: {"reached": len(oracle.noisy_or_condensed(g, {w.target: 1.0}))}  # noqa: E731
    else:
        raise SystemExit(f"unknown op {op!r}")
    return {**_timed(fn, budget, repeats), "build_s": build}


def main(argv: list[str]) -> int:
    op, edges, seed, budget, repeats = argv[0], int(argv[1]), int(argv[2]), float(argv[3]), \
        int(argv[4])
    print(json.dumps(run(op, edges, seed, budget, repeats)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
