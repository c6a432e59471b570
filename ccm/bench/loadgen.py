"""A closed-loop HTTP load generator: N concurrent clients, bounded in requests and time.

Each client sends its next request as soon as the previous one answered (closed
loop), so the figures are latency under that concurrency and the throughput it
sustains. Loopback only: the generator refuses any other host. It runs on the same
cores as the server, so it is lean: keep-alive HTTP/1.1 connections over asyncio
streams (uvloop when installed), responses parsed with httptools; the CPU it used
is reported with each result.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httptools
import numpy as np

from ccm.errors import ConfigError

__all__ = ["LoadResult", "OnAnswer", "check_loopback", "closed_loop", "loop_factory", "paced",
           "run_load"]


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


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's event loop when it is installed (less CPU per request), else asyncio's."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def check_loopback(url: str) -> None:
    """Refuse to load anything but this machine."""
    host = urlsplit(url).hostname or ""
    try:
        ok = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        ok = False
    if not ok:
        raise ConfigError(f"the load benchmark only targets loopback addresses, not {host!r}")


class _Connection:
    """One keep-alive HTTP/1.1 connection: a request written in one go, the response
    parsed with httptools (the parser uvicorn uses). A benchmark client only: much less
    CPU per request than a general client (it shares the cores with the server), and
    no redirects, proxies, chunked request bodies or TLS."""

    def __init__(self, host: str, port: int, headers: dict[str, str]) -> None:
        self.host, self.port = host, port
        self.head = "".join(f"{k}: {v}\r\n" for k, v in
                            {"Host": f"{host}:{port}", **headers}.items())
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.done = False
        self.keep = True
        self.chunks: list[bytes] = []

    def on_body(self, data: bytes) -> None:
        self.chunks.append(data)

    def on_message_complete(self) -> None:
        self.done = True

    @property
    def body(self) -> bytes:
        """The body of the last response."""
        return b"".join(self.chunks)

    async def request(self, method: str, path: str, body: bytes | None) -> int:
        """Send one request and read the whole response; its status code."""
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        extra = "" if body is None else \
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        self.writer.write(f"{method} {path} HTTP/1.1\r\n{self.head}{extra}\r\n".encode()
                          + (body or b""))
        parser = httptools.HttpResponseParser(self)
        self.done = False
        self.chunks = []
        while not self.done:
            data = await self.reader.read(1 << 16)
            if not data:
                raise ConnectionError("the server closed the connection")
            parser.feed_data(data)
        if not parser.should_keep_alive():
            self.close()
        return int(parser.get_status_code())

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


#: ``on_answer(i, status, body, started, done)``: told of each answer (perf_counter times)
OnAnswer = Callable[[int, int, bytes, float, float], None]


async def _send(conn: _Connection, method: str, path: str, payload: bytes | None, i: int,
                result: LoadResult, on_answer: OnAnswer | None) -> None:
    start = time.perf_counter()
    try:
        status = await conn.request(method, path, payload)
    except (OSError, httptools.HttpParserError):
        conn.close()
        status = 0
    done = time.perf_counter()
    result.latencies_ms.append((done - start) * 1000.0)
    result.statuses[status] = result.statuses.get(status, 0) + 1
    if not 200 <= status < 300:
        result.errors += 1
    if on_answer is not None:
        on_answer(i, status, conn.body if status else b"", start, done)


async def _client(conn: _Connection, method: str, path: str,
                  body: Callable[[int], Any] | None, claim: Callable[[], int | None],
                  deadline: float, result: LoadResult, on_answer: OnAnswer | None) -> None:
    try:
        while time.perf_counter() < deadline:
            i = claim()
            if i is None:
                return
            payload = json.dumps(body(i)).encode() if body else None
            await _send(conn, method, path, payload, i, result, on_answer)
    finally:
        conn.close()


async def paced(url: str, headers: dict[str, str], method: str, path: str,
                body: Callable[[int], Any], rate: float, requests: int, max_seconds: float,
                label: str, on_answer: OnAnswer | None = None) -> LoadResult:
    """An open-loop writer: request ``i`` is sent at ``i / rate`` seconds from the start
    (at once when the previous answer came later), at most ``requests`` of them and
    none after ``max_seconds``; one connection, so writes arrive in order."""
    check_loopback(url)
    result = LoadResult(label, 1, 0, 0, 0.0)
    parts = urlsplit(url)
    conn = _Connection(parts.hostname or "127.0.0.1", parts.port or 80, headers)
    start = time.perf_counter()
    try:
        for i in range(requests):
            due = start + i / rate
            if due >= start + max_seconds:
                break
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            await _send(conn, method, path, json.dumps(body(i)).encode(), i, result,
                        on_answer)
    finally:
        conn.close()
    result.seconds = time.perf_counter() - start
    result.requests = len(result.latencies_ms)
    return result


async def closed_loop(url: str, headers: dict[str, str], method: str, path: str,
                      body: Callable[[int], Any] | None, concurrency: int, requests: int,
                      max_seconds: float, label: str,
                      on_answer: OnAnswer | None = None) -> LoadResult:
    """``concurrency`` clients, each sending its next request when the previous one
    answered, at most ``requests`` in all, for at most ``max_seconds``."""
    check_loopback(url)
    result = LoadResult(label, concurrency, 0, 0, 0.0)
    issued = 0

    def claim() -> int | None:
        nonlocal issued
        if issued >= requests:
            return None
        issued += 1
        return issued - 1

    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    start, cpu = time.perf_counter(), time.process_time()
    deadline = start + max_seconds
    await asyncio.gather(*(_client(_Connection(host, port, headers), method, path, body,
                                   claim, deadline, result, on_answer)
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
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        result = runner.run(closed_loop(url, headers, method, path, body, concurrency,
                                        requests, max_seconds, label or f"{method} {path}"))
    if server_cpu is not None:
        result.server_cpu_s = server_cpu() - before
    return result
