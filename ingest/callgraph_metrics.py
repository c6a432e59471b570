"""The live call graph from request metrics: OpenTelemetry servicegraph, Istio, Linkerd.

Read from a Prometheus scrape (exposition text, ``/metrics``), from the Prometheus
HTTP API's JSON (``/api/v1/query`` vector or ``/api/v1/query_range`` matrix
answers, one per file or per line) or from OTLP/JSON metrics (the collector's
file exporter). The series used (every other series is ignored):

- servicegraph (collector connector, Tempo metrics-generator):
  ``traces_service_graph_request_total{client, server}`` (a ``failed="true"`` label
  counts as failed), ``traces_service_graph_request_failed_total``,
  ``traces_service_graph_request_server_seconds_bucket``;
- Istio: ``istio_requests_total{source_workload, source_workload_namespace,
  destination_workload, destination_service_name, response_code, reporter}`` (5xx
  and gRPC statuses other than 0 are errors), ``istio_request_duration_milliseconds_bucket``;
- Linkerd: ``response_total{direction="outbound", deployment, dst_deployment,
  classification}`` (``failure`` is an error; ``request_total`` when a pair has no
  ``response_total``), ``response_latency_ms_bucket``.

Each client/server pair becomes ``client DEPENDS_ON server`` with ``call_count``,
``error_rate``, ``p50_ms``/``p95_ms``/``p99_ms`` (from the histogram's buckets, as
``histogram_quantile`` does) and, over a time window, ``calls_per_s``. A series
with one sample (a scrape, a vector) gives its counter value: the calls since the
process started, a weight, not a rate. A series with several samples (a matrix)
gives its increase over the window (counter resets handled) and the rate.
Istio reports a request twice (``reporter="source"`` and ``"destination"``): the
destination's report is used when there is one. Istio's ``unknown`` source
(ingress traffic), servicegraph's ``user`` / ``unknown`` virtual nodes and Linkerd
inbound series are not components: they are skipped and counted.

Names resolve through the run's resolver (``ctx.resolver.find``), most specific
label first, each also tried as ``name.namespace``; a pair nothing resolves
creates a ``service:`` named by the canonical service (Istio), the workload
(Linkerd) or the service name (servicegraph); pairs that resolve to one edge are
added up. Facts are valid from the earliest
sample's time, else ``--at``. As with traces, only the measured attributes replace
what other sources said, and an edge absent from a later scrape is not closed.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from graph_schema import EdgeFact, FactError
from graph_schema.facts import Fact
from ingest.core import Batch, Context, node_at
from ingest.metrics_read import Series, has_callgraph_series, read_series
from ingest.snapshot import merge_current
from ingest.source import Source

SOURCE = "callgraph-metrics"
_OWNED = ("call_count", "calls_per_s", "error_rate", "p50_ms", "p95_ms", "p99_ms")
#: which report of a pair is used, best first (Istio's reporters, Linkerd's two counters)
_REPORTERS = ("destination", "source", "waypoint", "response_total", "request_total", "")
_UNKNOWN = ("", "unknown")


@dataclass(frozen=True)
class Endpoint:
    """One side of a call: the names to try (most specific first), the namespace, the
    name a new node gets, and the kind of a new node."""

    names: tuple[str, ...]
    namespace: str
    create: str
    kind: str = "service"

    @property
    def ident(self) -> tuple[str, str, str]:
        """What identifies the endpoint across series: its most specific name (two
        reports of one call may differ in their other labels)."""
        return self.names[0], self.namespace, self.kind

    def union(self, other: Endpoint) -> Endpoint:
        return Endpoint(tuple(dict.fromkeys(self.names + other.names)), self.namespace,
                        self.create, self.kind)


@dataclass(frozen=True)
class Reading:
    """What one series says of one call edge."""

    mesh: str
    role: str            # requests | failed | bucket
    client: Endpoint
    server: Endpoint
    reporter: str = ""
    #: the series counts failed calls (None: its labels do not say)
    error: bool | None = None
    protocol: str | None = None
    scale: float = 1.0   # bucket bounds -> milliseconds


def _endpoint(labels: Mapping[str, str], names: tuple[str, ...], namespaces: tuple[str, ...],
              create: tuple[str, ...], kind: str = "service") -> Endpoint | None:
    found = tuple(v for k in names if (v := labels.get(k, "")) not in _UNKNOWN and ":" not in v)
    if not found:
        return None
    ns = next((v for k in namespaces if (v := labels.get(k, "")) not in _UNKNOWN), "")
    first = next((v for k in create if (v := labels.get(k, "")) in found), found[0])
    return Endpoint(tuple(dict.fromkeys(found)), ns, first, kind)


def _servicegraph(s: Series) -> Reading | str | None:
    role = {"traces_service_graph_request_total": "requests",
            "traces_service_graph_request_failed_total": "failed",
            "traces_service_graph_request_server_seconds_bucket": "bucket"}.get(s.name)
    if role is None:
        return None
    lab = s.labels
    if lab.get("client") in ("user", "unknown") or lab.get("server") in _UNKNOWN:
        return "servicegraph virtual node (uninstrumented peer)"
    client = _endpoint(lab, ("client",), ("client_service_namespace",
                                          "client_k8s_namespace_name"), ("client",))
    kind = "datastore" if lab.get("connection_type") == "database" else "service"
    server = _endpoint(lab, ("server",), ("server_service_namespace",
                                          "server_k8s_namespace_name"), ("server",), kind)
    if client is None or server is None:
        return "servicegraph series without client or server"
    failed = lab.get("failed")
    return Reading("servicegraph", role, client, server,
                   error=None if failed is None else failed == "true", scale=1000.0)


def _istio(s: Series) -> Reading | str | None:
    role = {"istio_requests_total": "requests",
            "istio_request_duration_milliseconds_bucket": "bucket"}.get(s.name)
    if role is None:
        return None
    lab = s.labels
    client = _endpoint(lab, ("source_workload", "source_canonical_service", "source_app"),
                       ("source_workload_namespace",),
                       ("source_canonical_service", "source_app", "source_workload"))
    if client is None:
        return "istio request from an unknown source (ingress traffic)"
    server = _endpoint(lab, ("destination_workload", "destination_canonical_service",
                             "destination_service_name", "destination_app"),
                       ("destination_workload_namespace", "destination_service_namespace"),
                       ("destination_canonical_service", "destination_service_name",
                        "destination_app", "destination_workload"))
    if server is None:
        return "istio request to an unknown destination"
    protocol = lab.get("request_protocol") or None
    grpc = lab.get("grpc_response_status", "")
    error = lab.get("response_code", "").startswith("5") or (
        protocol == "grpc" and grpc not in ("", "0", "-"))
    return Reading("istio", role, client, server, lab.get("reporter", ""), error,
                   protocol if protocol in ("http", "grpc") else None)


def _linkerd(s: Series) -> Reading | str | None:
    role = {"response_total": "requests", "request_total": "requests",
            "response_latency_ms_bucket": "bucket"}.get(s.name)
    lab = s.labels
    if role is None or ("direction" not in lab and not any(k.startswith("dst_") for k in lab)):
        return None
    if lab.get("direction") != "outbound":
        return "linkerd inbound series (its caller's outbound series count it)"
    workloads = ("deployment", "statefulset", "daemonset")
    client = _endpoint(lab, workloads, ("namespace",), workloads)
    dst = tuple(f"dst_{w}" for w in workloads) + ("dst_service",)
    server = _endpoint(lab, dst, ("dst_namespace",), dst)
    if client is None or server is None:
        return "linkerd outbound series without a source or destination workload"
    reporter = "request_total" if s.name == "request_total" else "response_total"
    return Reading("linkerd", role, client, server, reporter,
                   lab.get("classification") == "failure")


_FAMILIES = (_servicegraph, _istio, _linkerd)


def reading(s: Series) -> Reading | str | None:
    """What ``s`` says of a call edge; a reason when it is deliberately not one;
    None when it is another metric."""
    if not s.name:
        return "Prometheus API series without __name__ (query the metric, not an expression)"
    for family in _FAMILIES:
        found = family(s)
        if found is not None:
            return found
    return None


@dataclass
class Flow:
    """The calls of one pair as one reporter saw them."""

    mesh: str
    total: float = 0.0
    #: failed calls counted by the requests series' own labels, and by a counter of
    #: failures (servicegraph's ``request_failed_total``: used when the labels do not say)
    failed_labelled: float = 0.0
    failed_counted: float = 0.0
    labelled: bool = False
    window: int = 0                  # µs covered by the samples (0: a single reading)
    buckets: dict[float, float] = field(default_factory=dict)
    protocol: str | None = None

    def add(self, r: Reading, s: Series) -> None:
        value, window = amount(s)
        self.window = max(self.window, window)
        self.protocol = self.protocol or r.protocol
        if r.role == "bucket":
            le = s.labels.get("le", "")
            bound = math.inf if le in ("+Inf", "Inf", "inf") else float(le) * r.scale
            self.buckets[bound] = self.buckets.get(bound, 0.0) + value
            return
        if r.role == "failed":
            self.failed_counted += value
            return
        self.total += value
        if r.error is not None:
            self.labelled = True
            self.failed_labelled += value if r.error else 0.0

    @property
    def failed(self) -> float:
        return self.failed_labelled if self.labelled else self.failed_counted

    def plus(self, other: Flow) -> Flow:
        """The calls of this flow and ``other`` together."""
        buckets = dict(self.buckets)
        for bound, count in other.buckets.items():
            buckets[bound] = buckets.get(bound, 0.0) + count
        return Flow(self.mesh, total=self.total + other.total,
                    failed_labelled=self.failed + other.failed, labelled=True,
                    window=max(self.window, other.window), buckets=buckets,
                    protocol=self.protocol or other.protocol)

    def attrs(self) -> dict[str, Any]:
        out: dict[str, Any] = {"call_count": int(round(self.total)),
                               "evidence": f"{self.mesh} metrics"}
        if self.total > 0:
            out["error_rate"] = min(1.0, self.failed / self.total)
        if self.window > 0:
            out["calls_per_s"] = round(self.total / (self.window / 1e6), 6)
        for q, key in ((0.5, "p50_ms"), (0.95, "p95_ms"), (0.99, "p99_ms")):
            v = quantile(q, self.buckets)
            if v is not None:
                out[key] = round(v, 3)
        if self.protocol:
            out["protocol"] = self.protocol
        return out


def amount(s: Series) -> tuple[float, int]:
    """A counter series' calls and the µs they span: its value when it has one sample,
    else its increase over the samples (a drop is a counter reset)."""
    values = [v for _, v in s.points if math.isfinite(v)]
    if not values:
        return 0.0, 0
    if len(values) == 1:
        return values[0], 0
    increase = sum(b - a if b >= a else b for a, b in zip(values, values[1:], strict=False))
    times = [t for t, _ in s.points if t is not None]
    return increase, (max(times) - min(times)) if len(times) > 1 else 0


def quantile(q: float, buckets: Mapping[float, float]) -> float | None:
    """``histogram_quantile(q)`` of cumulative buckets ``{upper bound: count}``."""
    if math.inf not in buckets or buckets[math.inf] <= 0:
        return None
    rank = q * buckets[math.inf]
    lower, below = 0.0, 0.0
    for bound in sorted(buckets):
        count = buckets[bound]
        if count >= rank:
            if bound == math.inf:
                return lower
            if count == below:
                return bound
            return lower + (bound - lower) * (rank - below) / (count - below)
        lower, below = bound, count
    return None


Ident = tuple[str, str, str]


def aggregate(series: list[Series]) -> tuple[dict[tuple[Endpoint, Endpoint], Flow],
                                             dict[str, int]]:
    """The flows of each pair (the best reporter's) and the series skipped, by why
    (counted once per label set: a histogram's buckets and its requests are one)."""
    flows: dict[tuple[Ident, Ident, str], Flow] = {}
    endpoints: dict[Ident, Endpoint] = {}
    skipped: dict[str, set[frozenset[tuple[str, str]]]] = {}
    for s in series:
        r = reading(s)
        if isinstance(r, str):
            labels = frozenset((k, v) for k, v in s.labels.items() if k != "le")
            skipped.setdefault(r, set()).add(labels)
            continue
        if r is None:
            continue
        for ep in (r.client, r.server):
            known = endpoints.get(ep.ident)
            endpoints[ep.ident] = ep if known is None else known.union(ep)
        key = (r.client.ident, r.server.ident, r.reporter)
        flows.setdefault(key, Flow(r.mesh)).add(r, s)
    best: dict[tuple[Ident, Ident], tuple[int, Flow]] = {}
    for (client, server, reporter), flow in flows.items():
        rank = _REPORTERS.index(reporter) if reporter in _REPORTERS else len(_REPORTERS)
        if (client, server) not in best or rank < best[(client, server)][0]:
            best[(client, server)] = (rank, flow)
    return ({(endpoints[c], endpoints[v]): f for (c, v), (_, f) in best.items()},
            {r: len(v) for r, v in skipped.items()})


def resolve_flows(ctx: Context, flows: Mapping[tuple[Endpoint, Endpoint], Flow]
                  ) -> dict[tuple[str, str], Flow]:
    """The flows by the nodes their endpoints resolve to, summed where several pairs
    name one edge (Bookinfo's reviews-v2 and reviews-v3 are both ``service:reviews``);
    a pair that resolves to one node is no dependency."""
    ctx.resolver.prefetch(n for pair in flows for ep in pair for name in ep.names
                          for n in (name, f"{name}.{ep.namespace}"))
    out: dict[tuple[str, str], Flow] = {}
    for (client, server), flow in flows.items():
        key = (resolve(ctx, client), resolve(ctx, server))
        if key[0] != key[1]:
            out[key] = out[key].plus(flow) if key in out else flow
    return out


def resolve(ctx: Context, ep: Endpoint) -> str:
    """The node an endpoint names: the first of its names (``name.namespace`` tried
    before the bare name) the resolver finds, else a new node."""
    for name in ep.names:
        for cand in ((f"{name}.{ep.namespace}", name) if ep.namespace else (name,)):
            found = ctx.resolver.find(cand)
            if found:
                return found
    return f"{ep.kind}:{ep.create}"


class CallGraphMetrics:
    """The ``callgraph-metrics`` format."""

    name = "callgraph-metrics"
    description = ("servicegraph, Istio and Linkerd request metrics (Prometheus text, "
                   "Prometheus API JSON, OTLP/JSON metrics)")
    order = 33

    def sniff(self, src: Source, head: str) -> bool:
        return has_callgraph_series(src, head)

    def read(self, src: Source, ctx: Context) -> Iterator[Batch]:
        series: list[Series] = []
        done = 0
        for where, item, size in read_series(src):
            done = size
            if isinstance(item, FactError):
                yield Batch(where, 1, error=item, bytes_done=done)
            else:
                series.extend(item)
        flows, skipped = aggregate(series)
        if skipped:
            yield Batch(str(src), 0, skipped=skipped, bytes_done=done)
        times = [t for s in series for t, _ in s.points if t is not None]
        at = min(times) if times else ctx.at
        items = sorted(resolve_flows(ctx, flows).items())
        for start in range(0, len(items), ctx.batch_size):
            yield self._batch(ctx, src, items[start:start + ctx.batch_size], at, done)

    def _batch(self, ctx: Context, src: Source, chunk: list[tuple[tuple[str, str], Flow]],
               at: int, done: int) -> Batch:
        where = f"{src}: edges {chunk[0][0][0]} -> {chunk[0][0][1]} and {len(chunk) - 1} more"
        facts: list[Fact] = []
        # each new node, and each edge, is a record of its own: a bad edge is rejected
        # alone, and an edge naming a bad node with it
        spans: list[tuple[str, int]] = []
        for (client, server), flow in chunk:
            for ref in (client, server):
                if not ctx.resolver.exists(ref):
                    facts.append(node_at(ref, at, source=SOURCE, origin=f"{src}: {ref}"))
                    spans.append((f"{src}: {ref}", 1))
                    ctx.resolver.note(ref)
            edge_where = f"{src}: {client} -> {server}"
            facts.append(EdgeFact("DEPENDS_ON", client, server, flow.attrs(), at,
                                  source=SOURCE, origin=edge_where))
            spans.append((edge_where, 1))
        facts = merge_current(ctx, facts, at, lambda k: _OWNED if k == "DEPENDS_ON" else (),
                              weak=("evidence", "protocol"))
        batch = Batch(where, len(chunk), facts, bytes_done=done, spans=spans)
        batch.redo = lambda: self._batch(ctx, src, chunk, at, done)
        return batch


ADAPTERS = (CallGraphMetrics(),)
