"""The API load benchmark under a write stream: questions while production writes.

Writers post, each at its own rate through the API as production would:
``alerts`` (Alertmanager webhooks, one alert firing per post; from the sixth post
on, each post also resolves the alert fired five posts before), ``deploys``
(CDEvents ``service.deployed`` events) and ``edges`` (a Jaeger dependencies body
moving one existing dependency's call count). Meanwhile closed-loop clients ask
``POST /v1/impact`` and ``POST /v1/rca``. Everything runs in one event loop,
bounded in requests and in time, loopback only.

Reported: p50/p99 per endpoint (questions and writes), the time from a write's
acknowledgement to the first answer that includes it, the writer's own next
answer (read your writes), and the server's peak memory.

A write's acknowledgement carries the store revision once it was written; an
answer that carries a revision (``revision`` in the RCA answer and in the impact
summary) includes it when that revision is at least the write's. Servers whose
answers carry no revision are measured by the first answer to a request sent
after the acknowledgement (what a server that reads its writes shows).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ccm.bench.loadgen import LoadResult, closed_loop, loop_factory, paced
from ccm.errors import ConfigError

__all__ = ["WRITE_KINDS", "Freshness", "parse_writes", "peak_rss_bytes", "run_mixed"]

#: write stream -> (method path, what one write is)
WRITE_KINDS = {"alerts": "/v1/alertmanager", "deploys": "/v1/ingest/cdevents",
               "edges": "/v1/ingest/jaeger"}
#: resolve the alert fired this many posts before
RESOLVE_AFTER = 5


def parse_writes(text: str) -> dict[str, float]:
    """``alerts=10,deploys=1,edges=0.2`` -> rates per second by stream."""
    out: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, rate = part.partition("=")
        if name not in WRITE_KINDS:
            raise ConfigError(f"--writes: unknown write stream {name!r} "
                              f"(one of {', '.join(WRITE_KINDS)})")
        try:
            value = float(rate)
        except ValueError:
            value = -1.0
        if not 0 < value <= 1000:
            raise ConfigError(f"--writes: {name}={rate!r} is not a rate in (0, 1000] per "
                              "second")
        out[name] = value
    return out


def _iso(seconds: float) -> str:
    from graph_schema import format_time

    return str(format_time(int(seconds * 1_000_000)))


def alert_post(i: int, services: int, now: float,
               fired: dict[int, tuple[str, str, str]]) -> dict[str, Any]:
    """Alertmanager's webhook: alert ``i`` firing, alert ``i - 5`` resolved."""
    rng = np.random.default_rng(1000 + i)
    fp, starts = f"bench{i:08x}", _iso(now)
    service = f"s{int(rng.integers(0, services))}"
    fired[i] = (fp, starts, service)
    alerts = [{"status": "firing", "labels": {"alertname": "HighErrorRate",
                                              "service": service, "severity": "warning"},
               "annotations": {}, "startsAt": starts, "endsAt": "0001-01-01T00:00:00Z",
               "fingerprint": fp}]
    old = fired.pop(i - RESOLVE_AFTER, None)
    if old is not None:
        alerts.append({"status": "resolved", "labels": {"alertname": "HighErrorRate",
                                                        "service": old[2]},
                       "annotations": {}, "startsAt": old[1], "endsAt": _iso(now),
                       "fingerprint": old[0]})
    return {"version": "4", "status": "firing", "receiver": "ccm", "alerts": alerts}


def deploy_event(i: int, services: int, now: float) -> dict[str, Any]:
    """A CDEvents ``service.deployed`` of a random service."""
    rng = np.random.default_rng(2000 + i)
    name = f"s{int(rng.integers(0, services))}"
    return {"context": {"version": "0.4.1", "id": f"bench-deploy-{i}", "source": "/bench",
                        "type": "dev.cdevents.service.deployed.0.2.0",
                        "timestamp": _iso(now)},
            "subject": {"id": f"service/{name}", "source": "/bench", "type": "service",
                        "content": {"environment": {"id": "prod"},
                                    "artifactId": f"pkg:oci/{name}@v{i}"}}}


def edge_update(i: int, pairs: np.ndarray) -> dict[str, Any]:
    """A Jaeger dependencies body: one existing dependency with a new call count."""
    rng = np.random.default_rng(3000 + i)
    a, b = pairs[int(rng.integers(0, len(pairs)))]
    return {"data": [{"parent": f"s{int(a)}", "child": f"s{int(b)}",
                      "callCount": int(rng.integers(1, 100_000))}]}


@dataclass
class Freshness:
    """Write acknowledgements and answers, to time how soon answers include writes."""

    acks: list[tuple[float, int | None]] = field(default_factory=list)
    answers: list[tuple[float, float, int | None]] = field(default_factory=list)
    own_checked: int = 0
    own_stale: int = 0

    def ack(self, status: int, body: bytes, done: float) -> int | None:
        revision = _revision(body) if 200 <= status < 300 else None
        if 200 <= status < 300:
            self.acks.append((done, revision))
        return revision

    def answer(self, status: int, body: bytes, started: float, done: float) -> None:
        if 200 <= status < 300:
            self.answers.append((started, done, _revision(body)))

    def report(self) -> dict[str, Any]:
        answers = sorted(self.answers, key=lambda a: a[1])
        by_revision = all(a[2] is not None for a in answers) and \
            all(r is not None for _, r in self.acks)
        delays = []
        unseen = 0
        for t_ack, rev in self.acks:
            first = next((done for started, done, r in answers if done > t_ack and (
                r >= rev if by_revision else started >= t_ack)), None)  # type: ignore[operator]
            if first is None:
                unseen += 1
            else:
                delays.append((first - t_ack) * 1000.0)
        d = np.asarray(delays)
        return {"method": "revision" if by_revision else "request sent after the ack",
                "writes": len(self.acks), "unseen": unseen,
                "p50_ms": round(float(np.percentile(d, 50)), 3) if len(d) else None,
                "p99_ms": round(float(np.percentile(d, 99)), 3) if len(d) else None,
                "max_ms": round(float(d.max()), 3) if len(d) else None,
                "own_next_answer": {"checked": self.own_checked, "stale": self.own_stale}}


def _revision(body: bytes) -> int | None:
    try:
        doc = json.loads(body)
    except ValueError:
        return None
    if not isinstance(doc, dict):
        return None
    rev = doc.get("revision")
    if rev is None:
        rev = ((doc.get("verdict") or {}).get("impact") or {}).get("revision")
    return rev if isinstance(rev, int) else None


def peak_rss_bytes(pid: int) -> int | None:
    """The peak resident memory of process ``pid`` (``VmHWM``), from ``/proc``."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


@dataclass(frozen=True)
class Question:
    """A closed-loop question stream: path, request body by index, clients, bound."""

    path: str
    body: Callable[[int], Any]
    clients: int
    requests: int


async def _mixed(url: str, asker: str, writer: str, questions: Sequence[Question],
                 writes: dict[str, float], services: int, pairs: np.ndarray,
                 seconds: float, own: Question, fresh: Freshness) -> list[LoadResult]:
    import time

    ask = {"Authorization": f"Bearer {asker}"}
    post = {"Authorization": f"Bearer {writer}"}
    fired: dict[int, tuple[str, str, str]] = {}
    makers: dict[str, Callable[[int], Any]] = {
        "alerts": lambda i: alert_post(i, services, time.time(), fired),
        "deploys": lambda i: deploy_event(i, services, time.time()),
        "edges": lambda i: edge_update(i, pairs)}
    pending: list[asyncio.Task[Any]] = []

    def on_ack(kind: str) -> Callable[[int, int, bytes, float, float], None]:
        def told(i: int, status: int, body: bytes, started: float, done: float) -> None:
            rev = fresh.ack(status, body, done)
            if kind == "deploys" and rev is not None:  # the writer asks right away
                pending.append(asyncio.ensure_future(_own(rev, i)))
        return told

    async def _own(rev: int, i: int) -> None:
        def check(_: int, status: int, body: bytes, started: float, done: float) -> None:
            got = _revision(body)
            if 200 <= status < 300 and got is not None:
                fresh.own_checked += 1
                fresh.own_stale += int(got < rev)
        await closed_loop(url, ask, "POST", own.path, lambda _: own.body(i), 1, 1, seconds,
                          own.path, check)

    def on_answer(i: int, status: int, body: bytes, started: float, done: float) -> None:
        fresh.answer(status, body, started, done)

    tasks = [closed_loop(url, ask, "POST", q.path, q.body, q.clients, q.requests, seconds,
                         q.path, on_answer) for q in questions]
    tasks += [paced(url, post, "POST", WRITE_KINDS[k], makers[k], rate,
                    int(rate * seconds) + 1, seconds, f"{WRITE_KINDS[k]} ({k})", on_ack(k))
              for k, rate in writes.items()]
    results = list(await asyncio.gather(*tasks))
    await asyncio.gather(*pending)
    # one more question once every write is acknowledged, so that a write acknowledged
    # in the last moments still has an answer after it: "unseen" counts writes that even
    # this answer does not include (not writes the run ended too soon to ask about)
    last = questions[0]
    await closed_loop(url, ask, "POST", last.path, last.body, 1, 1, seconds, last.path,
                      on_answer)
    return results


def run_mixed(url: str, asker: str, writer: str, questions: Sequence[Question],
              writes: dict[str, float], services: int, pairs: np.ndarray, seconds: float,
              own: Question) -> tuple[list[LoadResult], dict[str, Any]]:
    """Questions and writes together for ``seconds``; the results per endpoint and the
    freshness report."""
    fresh = Freshness()
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        results = runner.run(_mixed(url, asker, writer, questions, writes, services, pairs,
                                    seconds, own, fresh))
    return results, fresh.report()
