"""A closed-loop HTTP load generator: N concurrent clients, bounded in requests and time.

Each client sends its next request as soon as the previous one answered (closed
loop), so the figures are latency under that concurrency and the throughput it
sustains. Loopback only: the generator refuses any other host.
"""

from __future__ import annotations

import asyncio
import ipaddress
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
import numpy as np

from ccm.errors import ConfigError

__all__ = ["LoadResult", "check_loopback", "run_load"]


@dataclass
class LoadResult:
    """Latency and throughput of one endpoint at one concurrency."""

    endpoint: str
    concurrency: int
    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float] = field(default_factory=list, repr=False)
    statuses: dict[int, int] = field(default_factory=dict)
    #: CPU seconds the load generator itself used (it shares the machine with the server)
    client_cpu_s: float = 0.0
    #: CPU seconds the server's processes used meanwhile, when known
    server_cpu_s: float | None = None

    def percentile(self, q: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        return float(np.percentile(np.asarray(self.latencies_ms), q))

    def to_dict(self) -> dict[str, Any]:
        return {"endpoint": self.endpoint, "concurrency": self.concurrency,
                "p50_ms": round(self.percentile(50), 3), "p99_ms": round(self.percentile(99), 3),
                "rps": round(self.requests / self.seconds, 1) if self.seconds else 0.0,
                "errors": self.errors, "requests": self.requests,
                "seconds": round(self.seconds, 3),
                "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
                "client_cpu_s": round(self.client_cpu_s, 3),
                "server_cpu_s": (round(self.server_cpu_s, 3) if self.server_cpu_s is not None
                                 else None)}


def check_loopback(url: str) -> None:
    """Refuse to load anything but this machine."""
    host = urlsplit(url).hostname or ""
    try:
        ok = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        ok = False
    if not ok:
        raise ConfigError(f"the load benchmark only targets loopback addresses, not {host!r}")


async def _client(http: httpx.AsyncClient, method: str, path: str,
                  body: Callable[[int], Any] | None, claim: Callable[[], int | None],
                  deadline: float, result: LoadResult) -> None:
    while time.perf_counter() < deadline:
        i = claim()
        if i is None:
            return
        start = time.perf_counter()
        try:
            resp = await http.request(method, path, json=body(i) if body else None)
            status = resp.status_code
        except httpx.HTTPError:
            status = 0
        result.latencies_ms.append((time.perf_counter() - start) * 1000.0)
        result.statuses[status] = result.statuses.get(status, 0) + 1
        if not 200 <= status < 300:
            result.errors += 1


async def _run(url: str, headers: dict[str, str], method: str, path: str,
               body: Callable[[int], Any] | None, concurrency: int, requests: int,
               max_seconds: float, label: str) -> LoadResult:
    result = LoadResult(label, concurrency, 0, 0, 0.0)
    issued = 0

    def claim() -> int | None:
        nonlocal issued
        if issued >= requests:
            return None
        issued += 1
        return issued - 1

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, headers=headers, limits=limits,
                                 timeout=60.0) as http:
        start, cpu = time.perf_counter(), time.process_time()
        deadline = start + max_seconds
        await asyncio.gather(*(_client(http, method, path, body, claim, deadline, result)
                               for _ in range(concurrency)))
        result.seconds = time.perf_counter() - start
        result.client_cpu_s = time.process_time() - cpu
    result.requests = len(result.latencies_ms)
    return result


def run_load(url: str, token: str, method: str, path: str, *,
             body: Callable[[int], Any] | None = None, concurrency: int = 1,
             requests: int = 200, max_seconds: float = 30.0, label: str | None = None,
             server_cpu: Callable[[], float] | None = None) -> LoadResult:
    """Send at most ``requests`` requests from ``concurrency`` clients for at most
    ``max_seconds``; ``body(i)`` makes the JSON of request ``i``. ``server_cpu``: the
    server's CPU seconds so far (the result then says how much it used)."""
    check_loopback(url)
    headers = {"Authorization": f"Bearer {token}"}
    before = server_cpu() if server_cpu else 0.0
    result = asyncio.run(_run(url, headers, method, path, body, concurrency, requests,
                              max_seconds, label or f"{method} {path}"))
    if server_cpu is not None:
        result.server_cpu_s = server_cpu() - before
    return result
