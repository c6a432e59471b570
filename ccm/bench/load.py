"""The API load benchmark: ``/v1/impact`` and ``/v1/rca`` on a 10,000-service graph.

Builds (once, cached) an embedded store holding a generated dependency graph of
``services`` services (the engine benchmark's generator: log-normal fan-out,
power-law hubs, local cycles), a week of changes and the alerts of a planted
fault; starts ``ccm serve`` on it on a free loopback port in a subprocess; then
drives each endpoint with 1, 10 and 50 concurrent clients, bounded in requests
and in time, and reports p50/p99 latency, throughput and errors.
"""

from __future__ import annotations

import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from ccm.bench.loadgen import LoadResult, run_load

__all__ = ["LoadPlan", "build_store", "run_benchmark"]

HOUR = 3_600_000_000
#: the graph's facts are valid from here; changes fall in the week before T_END
T0 = 1_735_689_600_000_000  # 2025-01-01T00:00:00Z
T_END = 1_767_225_600_000_000  # 2026-01-01T00:00:00Z
AGENT = "bench-agent"
AGENT_SEED = b"ccm-bench-agent"


@dataclass(frozen=True)
class LoadPlan:
    services: int = 10_000
    concurrency: tuple[int, ...] = (1, 10, 50)
    impact_requests: int = 500
    rca_requests: int = 100
    max_seconds: float = 30.0
    seed: int = 0
    workers: int = 1
    #: the server's Monte Carlo cascades per prediction (CCM_IMPACT_SAMPLES; None: its
    #: default)
    impact_samples: int | None = None
    #: the relative precision they stop at (CCM_IMPACT_PRECISION; None: its default)
    impact_precision: float | None = None
    #: write streams and their rates per second (``ccm.bench.writes``): when given, the
    #: questions are asked while they write (impact at the largest concurrency, rca
    #: by one client) on a copy of the store, for ``max_seconds``
    writes: tuple[tuple[str, float], ...] = ()
    #: where the server imports ccm from (its PYTHONPATH; None: this process's), to
    #: measure another checkout's code with the same client
    server_path: str | None = None


def _facts(services: int, seed: int) -> Iterator[list[Any]]:
    """The graph, a week of changes, and the planted fault's alerts, as fact batches."""
    from ccm.bench.graphs import dependency_graph
    from graph_schema import EdgeFact, NodeFact

    g = dependency_graph(services * 4, seed)
    rng = np.random.default_rng(seed + 1)
    entry, rps = g.nodes.entry, g.nodes.rps
    nodes = []
    for i in range(g.n):
        attrs: dict[str, Any] = {"tier": "critical" if i < 20 else "medium"}
        if entry[i]:
            attrs.update(entrypoint=True, rps=float(rps[i]))
        nodes.append(NodeFact("service", f"s{i}", attrs, T0))
    yield nodes
    e = g.edges
    edges = [EdgeFact("DEPENDS_ON", f"service:s{int(s)}", f"service:s{int(d)}",
                      {"hard": bool(e.hard[k]), "async": bool(e.is_async[k]),
                       "fallback": bool(e.fallback[k]), "calls_per_s": float(e.calls[k])}, T0)
             for k, (s, d) in enumerate(zip(g.src, g.dst, strict=True))]
    for i in range(0, len(edges), 20_000):
        yield edges[i:i + 20_000]
    yield list(_changes_and_alerts(g, rng))


def _changes_and_alerts(g: Any, rng: np.random.Generator, changes: int = 500) -> Iterator[Any]:
    from graph_schema import EdgeFact, NodeFact

    indeg = np.bincount(g.dst, minlength=g.n)
    candidates = np.flatnonzero((indeg >= 3) & (indeg <= 50))
    planted = int(rng.choice(candidates))
    times = np.sort(T_END - rng.integers(2 * HOUR, 7 * 24 * HOUR, changes))
    targets = rng.integers(0, g.n, changes)
    targets[-1], times[-1] = planted, T_END - 7 * HOUR
    for i in range(changes):
        ref = f"service:s{int(targets[i])}"
        yield NodeFact("change", f"c{i}", {"change_kind": "deploy", "time": int(times[i]),
                                          "target": ref, "version": f"v{i}"}, int(times[i]))
        yield EdgeFact("CHANGED", f"change:c{i}", ref, {}, int(times[i]))
    callers = g.src[g.dst == planted][:10]
    for j, c in enumerate(callers):
        t = T_END - HOUR + j * 60_000_000
        ref = f"service:s{int(c)}"
        yield NodeFact("alert", f"a{j}", {"service": ref, "signal": "errors",
                                         "status": "firing", "starts_at": t}, t)
        yield EdgeFact("SYMPTOM_OF", f"alert:a{j}", ref, {"signal": "errors"}, t)


def default_store_path(services: int, seed: int) -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "ccm" / "bench" / f"api-load-{services}-s{seed}.sqlite"


def build_store(path: Path, services: int, seed: int) -> Path:
    """The benchmark store at ``path`` (built once; reused while it is complete)."""
    from ccm.policy.identities import IdentityRecord, put_identity
    from ccm.store import EmbeddedStore

    done = path.with_suffix(".done")
    if path.exists() and done.exists():
        return path
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    store = EmbeddedStore(path)
    try:
        for batch in _facts(services, seed):
            store.write(batch)
        put_identity(store, IdentityRecord(AGENT, "agent", _agent_key().public_b64, "bench"))
    finally:
        store.close()
    done.write_text("complete\n")
    return path


def _agent_key() -> Any:
    import base64
    import hashlib

    from ccm.audit.keys import Signer

    return Signer.from_b64(base64.b64encode(hashlib.sha256(AGENT_SEED).digest()).decode())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def process_tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by process ``pid`` and its live children
    (the workers of ``ccm serve --workers N``), from ``/proc``; 0.0 where there is none."""
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    total = 0.0
    for entry in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = entry.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(entry.parent.name) == pid or int(fields[1]) == pid:
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


@dataclass(frozen=True)
class Served:
    """A running ``ccm serve``: where it listens and its process id."""

    url: str
    pid: int

    def cpu_seconds(self) -> float:
        return process_tree_cpu(self.pid)


@contextmanager
def serve_subprocess(store: Path, token: str, port: int | None = None,
                     workers: int = 1, settings: dict[str, str] | None = None,
                     writer_token: str | None = None) -> Iterator[Served]:
    """``ccm serve`` on ``store`` on a free loopback port, with one agent token (and a
    writer's, role sre) and ``settings`` (``CCM_*`` environment variables; the caller's
    own are not passed)."""
    from ccm.api.auth import hash_token

    port = port or _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CCM_")}
    env.update(settings or {})
    if "PYTHONPATH" in (settings or {}):
        env["PYTHONPATH"] = (settings or {})["PYTHONPATH"]
    tokens = [{"sha256": hash_token(token), "identity": AGENT, "role": "agent"}]
    if writer_token is not None:
        tokens.append({"sha256": hash_token(writer_token), "identity": "bench-writer",
                       "role": "sre"})
    env["CCM_API_TOKENS"] = json.dumps(tokens)
    with tempfile.TemporaryFile("w+") as log:
        # run from the server's checkout: "-m" puts the working directory first on the path
        proc = subprocess.Popen([sys.executable, "-m", "ccm", "serve", "--host", "127.0.0.1",
                                 "--port", str(port), "--store", str(store), "--log-level",
                                 "warning", "--workers", str(workers)],
                                env=env, stdout=log, stderr=log,
                                cwd=env.get("PYTHONPATH") if "PYTHONPATH" in (settings or {})
                                else None)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 120
            while True:
                try:
                    if httpx.get(f"{url}/readyz", timeout=5).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    raise RuntimeError(f"ccm serve did not start:\n{log.read()[-2000:]}")
                time.sleep(0.2)
            yield Served(url, proc.pid)
        finally:
            proc.terminate()
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()


def impact_bodies(services: int, n: int, seed: int) -> list[dict[str, Any]]:
    """Signed dry runs of ``restart`` on ``n`` services chosen at random (seeded)."""
    from ccm.policy.proposal import Proposal

    rng = np.random.default_rng(seed + 2)
    key = _agent_key()
    out = []
    for i in rng.integers(0, services, n):
        p = Proposal("restart", f"service:s{int(i)}", {}, AGENT, "bench", tenant="default",
                     created_at=T_END).signed(key)
        out.append(p.to_dict())
    return out


def _from(body: Callable[[int], Any], offset: int) -> Callable[[int], Any]:
    return lambda i: body(offset + i)


def _measure(server: Served, token: str, plan: LoadPlan) -> list[LoadResult]:
    from graph_schema import format_time

    # a fresh random target per request: predictions are remembered per question, and
    # the benchmark measures questions not asked before (a few repeat by chance)
    levels = len(plan.concurrency)
    bodies = impact_bodies(plan.services, plan.impact_requests * levels + 12 * plan.workers,
                           plan.seed)
    rca = {"at": format_time(T_END), "k": 5}
    endpoints: list[tuple[str, Callable[[int], Any], int]] = [
        ("/v1/impact", bodies.__getitem__, plan.impact_requests),
        ("/v1/rca", lambda i: rca, plan.rca_requests)]
    results = []
    for path, body, requests in endpoints:
        # every server process compiles its own snapshot on its first request: warm each
        # (connections go to whichever process accepts them first)
        warm = run_load(server.url, token, "POST", path, body=_from(body, requests * levels),
                        concurrency=4 * plan.workers, requests=12 * plan.workers,
                        max_seconds=plan.max_seconds * 4)
        if warm.errors:
            raise RuntimeError(f"{path} fails before the benchmark: {warm.statuses}")
        for level, c in enumerate(plan.concurrency):
            results.append(run_load(server.url, token, "POST", path,
                                    body=_from(body, level * requests), concurrency=c,
                                    requests=requests, max_seconds=plan.max_seconds,
                                    label=path, server_cpu=server.cpu_seconds))
    return results


def run_benchmark(plan: LoadPlan, store: Path | None = None) -> dict[str, Any]:
    """Build the store if needed, serve it, measure; the report as a dict."""
    import secrets

    started = time.perf_counter()
    path = build_store(store or default_store_path(plan.services, plan.seed), plan.services,
                       plan.seed)
    built = time.perf_counter() - started
    token = "ccm_bench-" + secrets.token_urlsafe(24)
    load_before = os.getloadavg()
    settings = {name: str(value) for name, value in
                (("CCM_IMPACT_SAMPLES", plan.impact_samples),
                 ("CCM_IMPACT_PRECISION", plan.impact_precision),
                 ("PYTHONPATH", plan.server_path)) if value is not None}
    extra: dict[str, Any] = {}
    if plan.writes:
        results, extra = _measure_under_writes(path, token, plan, settings)
    else:
        with serve_subprocess(path, token, workers=plan.workers, settings=settings) as server:
            results = _measure(server, token, plan)
    return {"results": [r.to_dict() for r in results], **extra,
            "graph": {"services": plan.services, "store": str(path), "seed": plan.seed,
                      "build_s": round(built, 1)},
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                        "platform": platform.platform(), "loadavg_before": load_before,
                        "loadavg_after": os.getloadavg()},
            "plan": {"concurrency": list(plan.concurrency),
                     "impact_requests": plan.impact_requests,
                     "rca_requests": plan.rca_requests, "max_seconds": plan.max_seconds,
                     "workers": plan.workers, "impact_samples": plan.impact_samples,
                     "impact_precision": plan.impact_precision, "writes": dict(plan.writes),
                     "server_path": plan.server_path}}


def _store_bytes(path: Path) -> int:
    return sum(Path(f"{path}{s}").stat().st_size for s in ("", "-wal")
               if Path(f"{path}{s}").exists())


def _measure_under_writes(path: Path, token: str, plan: LoadPlan, settings: dict[str, str]
                          ) -> tuple[list[LoadResult], dict[str, Any]]:
    """Questions while the write streams write, on a copy of the store (the cached one
    stays as built): results per endpoint, freshness, peak memory, store size."""
    import secrets
    import shutil

    from ccm.bench.graphs import dependency_graph
    from ccm.bench.writes import Question, peak_rss_bytes, run_mixed
    from graph_schema import format_time

    writer = "ccm_bench-" + secrets.token_urlsafe(24)
    g = dependency_graph(plan.services * 4, plan.seed)
    pairs = np.stack([g.src, g.dst], axis=1)
    clients = max(plan.concurrency)
    bodies = impact_bodies(plan.services, plan.impact_requests + 1000, plan.seed)
    rca = {"at": format_time(T_END), "k": 5}
    questions = [Question("/v1/impact", bodies.__getitem__, clients, plan.impact_requests),
                 Question("/v1/rca", lambda i: rca, 1, plan.rca_requests)]
    own = Question("/v1/impact", lambda i: bodies[plan.impact_requests + i % 1000], 1, 1)
    with tempfile.TemporaryDirectory(prefix="ccm-bench-") as tmp:
        copy = Path(tmp) / path.name
        shutil.copyfile(path, copy)
        before = _store_bytes(copy)
        with serve_subprocess(copy, token, workers=plan.workers, settings=settings,
                              writer_token=writer) as server:
            for q in (questions[0], questions[1], own):  # compile each snapshot once
                warm = run_load(server.url, token, "POST", q.path, body=q.body,
                                concurrency=1, requests=2, max_seconds=plan.max_seconds * 4)
                if warm.errors:
                    raise RuntimeError(f"{q.path} fails before the benchmark: {warm.statuses}")
            cpu = server.cpu_seconds()
            results, fresh = run_mixed(server.url, token, writer, questions,
                                       dict(plan.writes), plan.services, pairs,
                                       plan.max_seconds, own)
            cpu = server.cpu_seconds() - cpu
            rss = peak_rss_bytes(server.pid)
        after = _store_bytes(copy)
    for r in results:
        r.server_cpu_s = cpu
    return results, {"freshness": fresh, "server": {"peak_rss_bytes": rss},
                     "store": {"bytes_before": before, "bytes_after": after}}


def summary_rows(report: dict[str, Any]) -> Sequence[tuple[str, ...]]:
    def share(cpu: float | None, r: dict[str, Any]) -> str:
        return "" if cpu is None or not r["seconds"] else f"{100 * cpu / r['seconds']:.0f}"

    return [(r["endpoint"], str(r["concurrency"]), f"{r['p50_ms']:.1f}", f"{r['p99_ms']:.1f}",
             f"{r['rps']:.1f}", str(r["errors"]), str(r["requests"]),
             share(r.get("server_cpu_s"), r), share(r.get("client_cpu_s"), r))
            for r in report["results"]]
