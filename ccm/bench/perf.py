"""The performance benchmark: CCM's kernels against networkx, scipy, igraph and Neo4j.

For each graph size (dependency edges) it times, on the same generated graph and
the same target (the most depended-on node):

- ``reachability``: every transitive dependant of the target (ccm's BFS kernel,
  ``scipy.sparse.csgraph.breadth_first_order``, igraph ``subcomponent``,
  ``networkx.ancestors``, a Cypher variable-length pattern);
- ``blast_radius``: the noisy-OR fixpoint (ccm's kernel; the same algorithm in
  networkx: :func:`ccm.engine.oracle.noisy_or_condensed`);
- ``monte_carlo``: 1,000 independent cascades (ccm's kernel; networkx breadth-first
  cascades, extrapolated from the ones that fit in the budget);

and once, on 10,000 services with 500 changes and 10 symptoms, ``root_causes``.
Each figure is the median of repeats, run after a warm-up (compile time is reported
apart). networkx runs in a worker process and Neo4j with a server-side timeout, both
inside ``budget`` seconds; what did not finish says so (``status``, ``bound_s``).
"""

from __future__ import annotations

import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numba
import numpy as np

from ccm.bench.workloads import SAMPLES, Workload, rca_workload, workload
from ccm.engine.impact import monte_carlo
from ccm.engine.kernels import _noisy_or_dense, _reach, warm_up
from ccm.engine.rca import root_causes

IMPLS = ("ccm", "networkx", "scipy", "igraph", "neo4j")
DEFAULT_EDGES = (1_000, 10_000, 100_000, 1_000_000)


@dataclass
class Result:
    op: str
    impl: str
    edges: int
    seconds: float | None
    status: str = "ok"
    repeats: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.update(d.pop("extra"))
        return d


def median_time(fn: Callable[[], Any], repeats: int, budget: float = 60.0
                ) -> tuple[float, int, Any]:
    """(median seconds, repeats done, last result): at least one run, then more while
    within ``budget``."""
    times: list[float] = []
    out = None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
        if sum(times) > budget:
            break
    return statistics.median(times), len(times), out


def _ccm(w: Workload, repeats: int) -> list[Result]:
    s, m, n_edges = w.snapshot, w.snapshot.model(), len(w.snapshot.edges)
    seeds, one = np.array([w.target], np.int32), np.ones(1)
    sec, k, reached = median_time(lambda: _reach(s.n, s.in_ptr, s.in_idx, m.in_p, seeds),
                                  repeats)
    out = [Result("reachability", "ccm", n_edges, sec, repeats=k,
                  extra={"reached": len(reached)})]
    sec, k, (r, _) = median_time(lambda: _noisy_or_dense(
        s.n, s.in_ptr, s.in_idx, m.in_p, s.out_ptr, s.out_idx, m.out_p, s.order, s.pos, s.comp,
        s.cyclic, seeds, one, 1e-12, 10_000), repeats)
    out.append(Result("blast_radius", "ccm", n_edges, sec, repeats=k,
                      extra={"reached": int((r > 0).sum())}))
    sec, k, (counts, _, _) = median_time(lambda: monte_carlo(s, seeds, one, SAMPLES, 0),
                                         repeats)
    out.append(Result("monte_carlo", "ccm", n_edges, sec, repeats=k,
                      extra={"samples": SAMPLES, "mean_impacted": float(counts.mean()),
                             "threads": numba.get_num_threads()}))
    return out


def _scipy(w: Workload, repeats: int) -> list[Result]:
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import breadth_first_order

    s = w.snapshot
    graph = csr_matrix((np.ones(len(s.in_idx)), s.in_idx, s.in_ptr), shape=(s.n, s.n))
    sec, k, order = median_time(lambda: breadth_first_order(
        graph, w.target, directed=True, return_predecessors=False), repeats)
    return [Result("reachability", "scipy", len(s.edges), sec, repeats=k,
                   extra={"reached": len(order)})]


def _igraph(w: Workload, repeats: int) -> list[Result]:
    import igraph as ig

    s = w.snapshot
    g = ig.Graph(n=s.n, edges=np.column_stack([s.edges.src, s.edges.dst]).tolist(),
                 directed=True)
    sec, k, found = median_time(lambda: g.subcomponent(w.target, mode="in"), repeats)
    return [Result("reachability", "igraph", len(s.edges), sec, repeats=k,
                   extra={"reached": len(found)})]


def _networkx(op: str, edges: int, seed: int, budget: float, repeats: int) -> Result:
    cmd = [sys.executable, "-m", "ccm.bench.nxworker", op, str(edges), str(seed), str(budget),
           str(repeats)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=budget + 900)
    except subprocess.TimeoutExpired:
        return Result(op, "networkx", edges, None, "timeout", extra={"bound_s": budget})
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["?"])[-1]
        return Result(op, "networkx", edges, None, "error", extra={"error": tail})
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    times = data.pop("seconds")
    status = data.pop("status")
    return Result(op, "networkx", edges, statistics.median(times) if times else None, status,
                  len(times), data)


def _neo4j(sizes: list[Workload], budget: float, repeats: int,
           log: Callable[[str], None]) -> list[Result]:
    from ccm.bench import neo4j_bench as nb

    out: list[Result] = []
    with nb.neo4j_session() as driver:
        for w in sizes:
            n_edges = len(w.snapshot.edges)
            log(f"neo4j: loading {n_edges} edges")
            loaded = nb.load(driver, w, budget * 5)
            if loaded["status"] != "ok":
                out.append(Result("reachability", "neo4j", n_edges, None, "timeout",
                                  extra={"load": loaded}))
                nb.drop(driver, w)
                continue
            res = nb.reachability(driver, w, budget, repeats)
            times = res.pop("seconds")
            status = res.pop("status")
            out.append(Result("reachability", "neo4j", n_edges,
                              statistics.median(times) if times else None, status, len(times),
                              {**res, "load_s": loaded["seconds"], "plan": nb.plan(driver, w)}))
            nb.drop(driver, w)
    return out


def _root_causes(impls: tuple[str, ...], seed: int, budget: float, repeats: int
                 ) -> list[Result]:
    snap, symptoms, planted = rca_workload(seed)
    n_edges = len(snap.edges)
    out = []
    if "ccm" in impls:
        root_causes(snap, symptoms, k=10)   # warm-up, as for every other measurement
        sec, k, res = median_time(lambda: root_causes(snap, symptoms, k=10), repeats)
        rank = next((c.rank for c in res if c.root == planted), None)
        out.append(Result("root_causes", "ccm", n_edges, sec, repeats=k, extra={
            "services": snap.n, "changes": len(snap.changes), "symptoms": len(symptoms),
            "hypotheses": res.hypotheses, "planted_rank": rank}))
    if "networkx" in impls:
        out.append(_networkx("root_causes", n_edges, seed, budget, 1))
    return out


def run(edges: list[int], impls: tuple[str, ...] = IMPLS, *, seed: int = 0,
        budget: float = 120.0, repeats: int = 7,
        log: Callable[[str], None] = lambda m: None) -> dict[str, Any]:
    """Run the benchmark; return ``{"results": [...], "graphs": ..., "machine": ...}``."""
    machine = {"cpus": os.cpu_count(), "numba_threads": numba.get_num_threads(),
               "load_avg_at_start": list(os.getloadavg()), "python": platform.python_version(),
               "numba": numba.__version__, "numpy": np.__version__}
    impls = tuple(i for i in impls if _available(i, log))
    compile_s = warm_up()
    results: list[Result] = []
    graphs: dict[str, Any] = {}
    built: list[Workload] = []
    for n_edges in edges:  # in-process measurements first, before any other process runs
        start = time.perf_counter()
        w = workload(n_edges, seed)
        graphs[str(n_edges)] = {**w.describe(), "generate_and_snapshot_s":
                                time.perf_counter() - start}
        built.append(w)
        log(f"{n_edges} edges: {w.describe()}")
        for impl, measure in (("ccm", _ccm), ("scipy", _scipy), ("igraph", _igraph)):
            if impl in impls:
                results += measure(w, repeats)
    log("root causes on 10,000 services")
    results += _root_causes(tuple(i for i in impls if i == "ccm"), seed, budget, repeats)
    if "networkx" in impls:
        for w in built:
            for op in ("reachability", "blast_radius", "monte_carlo"):
                log(f"networkx {op} on {len(w.snapshot.edges)} edges (budget {budget:g} s)")
                results.append(_networkx(op, len(w.snapshot.edges), seed, budget, 3))
        results += _root_causes(("networkx",), seed, budget, 1)
    if "neo4j" in impls and built:
        results += _neo4j(built, budget, 3, log)
    return {"results": [r.to_dict() for r in results], "graphs": graphs,
            "machine": {**machine, "compile_s": compile_s,
                        "load_avg_at_end": list(os.getloadavg())},
            "targets": check_targets(results)}


# Competitors that come with the ``test`` extra, not with CCM itself.
_OPTIONAL = {"igraph": "igraph"}


def _available(impl: str, log: Callable[[str], None]) -> bool:
    """Whether ``impl``'s package is installed; if not, say so in one line."""
    module = _OPTIONAL.get(impl)
    if module is None or importlib.util.find_spec(module) is not None:
        return True
    log(f"{impl} skipped: its package is not installed "
        "(pip install 'context-control-model[test]')")
    return False


def _find(results: list[Result], op: str, impl: str, edges: int | None = None) -> Result | None:
    rows = [r for r in results if r.op == op and r.impl == impl
            and (edges is None or r.edges == edges)]
    return max(rows, key=lambda r: r.edges) if rows else None


def check_targets(results: list[Result]) -> dict[str, Any]:
    """The issue's targets, on the largest graph measured."""
    biggest = max((r.edges for r in results if r.op == "blast_radius"), default=None)
    out: dict[str, Any] = {"edges": biggest}
    ccm_br = _find(results, "blast_radius", "ccm", biggest)
    nx_br = _find(results, "blast_radius", "networkx", biggest)
    sp = _find(results, "reachability", "scipy", biggest)
    mc = _find(results, "monte_carlo", "ccm", biggest)
    rc = _find(results, "root_causes", "ccm")
    if ccm_br and ccm_br.seconds:
        if nx_br:
            out["blast_radius_vs_networkx"] = {
                "speedup": nx_br.seconds / ccm_br.seconds if nx_br.seconds else None,
                "networkx_status": nx_br.status, "target": ">= 100"}
        if sp and sp.seconds:
            out["blast_radius_vs_scipy_bfs"] = {"ratio": ccm_br.seconds / sp.seconds,
                                                "target": "<= 3"}
    if mc and mc.seconds:
        out["monte_carlo_1000"] = {"seconds": mc.seconds, "target": "< 1"}
    if rc and rc.seconds:
        out["root_causes_10k"] = {"seconds": rc.seconds, "target": "< 0.1"}
    return out
