"""Prometheus metrics of one app (its own registry, so several apps can coexist).

- ``ccm_http_request_duration_seconds{method,route,status}``: latency histogram, by
  route template (``/v1/actions/{action_id}``), never by raw path.
- ``ccm_http_requests_in_flight``: requests being served.
- ``ccm_verdicts_total{decision,phase}``: policy verdicts given.
- ``ccm_refusals_total{reason}``: requests refused: ``unauthenticated``, ``forbidden``,
  ``policy`` (an action refused), ``kill_switch``.
- ``ccm_engine_seconds{op,stage}``: engine timings (``op``: impact, rca; ``stage``:
  compile, run).
- ``ccm_ingested_facts_total{format,outcome}``: facts added / unchanged / closed /
  rejected by the ingest endpoints.
"""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["ApiMetrics", "MetricsMiddleware"]

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                    10.0, 30.0)


class ApiMetrics:
    """The metrics an app records (see the module docstring)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.latency = Histogram("ccm_http_request_duration_seconds",
                                 "HTTP request latency by route template",
                                 ("method", "route", "status"), registry=r,
                                 buckets=_LATENCY_BUCKETS)
        self.in_flight = Gauge("ccm_http_requests_in_flight", "HTTP requests being served",
                               registry=r)
        self.verdicts = Counter("ccm_verdicts_total", "policy verdicts given",
                                ("decision", "phase"), registry=r)
        self.refusals = Counter("ccm_refusals_total", "requests refused, by reason",
                                ("reason",), registry=r)
        self.engine = Histogram("ccm_engine_seconds", "engine time per call",
                                ("op", "stage"), registry=r, buckets=_LATENCY_BUCKETS)
        self.ingested = Counter("ccm_ingested_facts_total", "facts written by the ingest "
                                "endpoints", ("format", "outcome"), registry=r)

    def engine_timings(self, op: str, timings: Any) -> None:
        """Record an engine result's ``timings`` (compile_s, run_s)."""
        if timings is None:
            return
        self.engine.labels(op, "compile").observe(float(getattr(timings, "compile_s", 0.0)))
        self.engine.labels(op, "run").observe(float(getattr(timings, "run_s", 0.0)))


class MetricsMiddleware:
    """Times every HTTP request (a plain ASGI middleware: no body buffering)."""

    def __init__(self, app: ASGIApp, metrics: ApiMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500
        start = time.perf_counter()

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        self.metrics.in_flight.inc()
        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            self.metrics.in_flight.dec()
            route = scope.get("route")
            template = getattr(route, "path_format", None) or "(unmatched)"
            self.metrics.latency.labels(scope["method"], template, str(status)).observe(
                time.perf_counter() - start)
