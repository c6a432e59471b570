"""OpenTelemetry traces in OTLP/JSON, as the collector's file exporter writes them.

One ``{"resourceSpans": [...]}`` object per line (JSON Lines) or one per file, or
the envelopes query APIs answer with (:func:`resource_spans`): Jaeger API v3
``{"result": {"resourceSpans": [...]}}``, Tempo ``{"trace": {"resourceSpans" or
"batches": [...]}}`` and older Tempo's bare ``{"batches": [...]}``. The spans of the
whole source are aggregated into service edges:

- a CLIENT (or PRODUCER) span in service A whose child SERVER (or CONSUMER) span
  is in service B gives ``A DEPENDS_ON B`` (a cross-service parent of another kind
  counts too, for services instrumented without client spans);
- a CLIENT span with ``db.system`` gives ``A DEPENDS_ON <datastore>`` (``cache`` for
  redis, memcached...), named by ``peer.service``, else ``server.address`` /
  ``net.peer.name``, else the ``db.system``;
- a PRODUCER or CONSUMER span with ``messaging.system`` gives an edge to the queue
  ``messaging.destination.name`` (else the system), marked ``async``;
- other CLIENT spans without a server child use ``peer.service`` / ``server.address``.

Each edge carries ``call_count``, ``error_rate`` (spans with status ERROR),
``p50_ms``/``p95_ms``/``p99_ms`` (client-side durations when there is a client
span) and a protocol from ``rpc.system``, ``db.system``, ``messaging.system`` or
HTTP attributes. Facts are valid from the earliest span start of the source (the
trace window's own time). As with Jaeger, only the measured attributes replace
what other sources said, and edges absent from a later window are not closed.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from graph_schema import EdgeFact, FactError
from graph_schema.facts import Fact
from ingest.core import Batch, Context, node_at
from ingest.hosts import split_cluster_host
from ingest.snapshot import merge_current
from ingest.source import Source, iter_json_records

SOURCE = "otlp"
KINDS = {1: "INTERNAL", 2: "SERVER", 3: "CLIENT", 4: "PRODUCER", 5: "CONSUMER"}
_CACHES = ("redis", "memcached", "valkey", "hazelcast")
_DB_PROTOCOLS = {"redis": "redis", "memcached": "memcached", "postgresql": "postgresql",
                 "mysql": "mysql", "mariadb": "mysql", "mongodb": "mongodb",
                 "cassandra": "cql"}
_MQ_PROTOCOLS = {"kafka": "kafka", "rabbitmq": "amqp", "activemq": "amqp", "nats": "nats"}
_OWNED = ("call_count", "error_rate", "p50_ms", "p95_ms", "p99_ms")


@dataclass(slots=True)
class Span:
    service: str
    kind: str
    start: int   # ns
    end: int
    error: bool
    attrs: dict[str, Any]


@dataclass
class EdgeStats:
    kind: str                          # component kind of the callee when it is new
    protocol: str | None = None
    is_async: bool = False
    count: int = 0
    errors: int = 0
    durations: list[float] = field(default_factory=list)
    evidence: str = "otlp traces"

    def add(self, span: Span) -> None:
        self.count += 1
        self.errors += int(span.error)
        self.durations.append(max(0, span.end - span.start) / 1e6)

    def attrs(self) -> dict[str, Any]:
        q = np.percentile(np.asarray(self.durations), [50, 95, 99]) if self.durations else None
        out: dict[str, Any] = {"call_count": self.count, "error_rate": self.errors / self.count,
                               "evidence": self.evidence}
        if q is not None:
            out.update(p50_ms=round(float(q[0]), 3), p95_ms=round(float(q[1]), 3),
                       p99_ms=round(float(q[2]), 3))
        if self.protocol:
            out["protocol"] = self.protocol
        if self.is_async:
            out["async"] = True
        return out


def any_value(v: Any) -> Any:
    """The Python value of an OTLP ``AnyValue`` (``{"stringValue": "x"}``...)."""
    if not isinstance(v, Mapping) or not v:
        return None
    key, val = next(iter(v.items()))
    if key == "intValue":
        try:
            return int(val)
        except (TypeError, ValueError):
            return None
    if key == "arrayValue" and isinstance(val, Mapping):
        return [any_value(x) for x in val.get("values") or []]
    return val if key in ("stringValue", "boolValue", "doubleValue") else None


def attributes(items: Any) -> dict[str, Any]:
    if not isinstance(items, list):
        return {}
    return {str(kv["key"]): any_value(kv.get("value")) for kv in items
            if isinstance(kv, Mapping) and "key" in kv}


def _nanos(value: Any, where: str, name: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise FactError(where, name, value, "expected nanoseconds since the epoch") from None


def _object(value: Any, where: str, name: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise FactError(where, name, value, "expected an object")
    return value


def _list(value: Any, where: str, name: str) -> list[Any]:
    if not isinstance(value, list):
        raise FactError(where, name, value, "expected a list")
    return value


def _span(service: str, raw: Any, where: str) -> tuple[Span, Mapping[str, Any]]:
    if not isinstance(raw, Mapping):
        raise FactError(where, "(span)", raw, "expected a span object")
    kind = raw.get("kind", 0)
    kind = KINDS.get(kind) if isinstance(kind, int) else str(kind).removeprefix("SPAN_KIND_")
    status = raw.get("status") or {}
    code = status.get("code") if isinstance(status, Mapping) else None
    return Span(service, kind or "INTERNAL", _nanos(raw.get("startTimeUnixNano"), where,
                "startTimeUnixNano"), _nanos(raw.get("endTimeUnixNano"), where,
                "endTimeUnixNano"), code in (2, "STATUS_CODE_ERROR"),
                attributes(raw.get("attributes"))), raw


def resource_spans(doc: Any, where: str) -> list[Any]:
    """The ``resourceSpans`` of an OTLP/JSON traces object, or of the envelope that
    carries one: Jaeger API v3 ``{"result": ...}``, Tempo ``{"trace": ...}``, and
    ``batches`` (Tempo's name for ``resourceSpans``)."""
    if isinstance(doc, Mapping):
        if isinstance(doc.get("error"), Mapping) and "result" not in doc:
            raise FactError(where, "error", doc["error"].get("message"),
                            "the query API answered an error, not traces")
        inner = doc.get("result", doc.get("trace"))
        body = inner if isinstance(inner, Mapping) else doc
        for key in ("resourceSpans", "batches"):
            if isinstance(body.get(key), list):
                return list(body[key])
    raise FactError(where, "resourceSpans", type(doc).__name__,
                    "expected an OTLP/JSON traces object (or a Jaeger v3 / Tempo envelope)")


class Aggregator:
    """Collects the spans of a source and turns them into edge statistics."""

    def __init__(self) -> None:
        self.spans: dict[tuple[str, str], Span] = {}
        self.children: list[tuple[str, str, Span]] = []
        self.start: int | None = None

    def add(self, request: Any, where: str) -> int:
        """Add one ``TracesData`` object; returns how many spans it held. A bad request
        adds nothing: its spans are all read before any of them is kept."""
        read: list[tuple[Span, Mapping[str, Any]]] = []
        for r_i, rs in enumerate(resource_spans(request, where)):
            path = f"{where} resourceSpans[{r_i}]"
            res = _object(rs, path, "(resourceSpans item)").get("resource")
            service = attributes(_object(res or {}, path, "resource").get("attributes")) \
                .get("service.name")
            service = str(service) if service else "unknown_service"
            scopes = rs.get("scopeSpans") or rs.get("instrumentationLibrarySpans") or []
            for s_i, scope in enumerate(_list(scopes, path, "scopeSpans")):
                s_path = f"{path}.scopeSpans[{s_i}]"
                spans = _object(scope or {}, s_path, "(scopeSpans item)").get("spans") or []
                for p_i, span in enumerate(_list(spans, s_path, "spans")):
                    read.append(_span(service, span, f"{s_path}.spans[{p_i}]"))
        for span, raw in read:
            self.keep(span, str(raw.get("traceId", "")), str(raw.get("spanId", "")),
                      str(raw.get("parentSpanId") or ""))
        return len(read)

    def keep(self, span: Span, trace: str, span_id: str, parent: str,
             child: bool | None = None) -> None:
        """Add one span. ``child``: whether it is the callee's side of a call from its
        parent (default: a SERVER or CONSUMER span)."""
        self.start = span.start if self.start is None else min(self.start, span.start)
        self.spans[(trace, span_id)] = span
        if child is None:
            child = span.kind in ("SERVER", "CONSUMER")
        if parent and child:
            self.children.append((trace, parent, span))

    def edges(self) -> dict[tuple[str, str], EdgeStats]:
        """``(caller service, callee name) -> stats`` over everything added."""
        out: dict[tuple[str, str], EdgeStats] = {}
        matched: set[int] = set()
        for trace, parent_id, child in self.children:
            parent = self.spans.get((trace, parent_id))
            if parent is None or parent.service == child.service:
                continue
            if child.kind == "CONSUMER" and _messaging(child):
                continue
            measured = parent if parent.kind in ("CLIENT", "PRODUCER") else child
            stats = out.setdefault((parent.service, child.service), EdgeStats("service"))
            stats.protocol = stats.protocol or _protocol(measured) or _protocol(child)
            stats.is_async = stats.is_async or parent.kind == "PRODUCER"
            stats.add(measured)
            matched.add(id(parent))
        for span in self.spans.values():
            if span.kind in ("PRODUCER", "CONSUMER") and _messaging(span):
                key, stats = _queue_edge(span)
            elif span.kind == "CLIENT" and id(span) not in matched:
                found = _peer_edge(span)
                if found is None:
                    continue
                key, stats = found
            else:
                continue
            existing = out.setdefault(key, stats)
            existing.add(span)
        return out


def _messaging(span: Span) -> bool:
    return bool(span.attrs.get("messaging.system"))


def _protocol(span: Span) -> str | None:
    a = span.attrs
    if a.get("rpc.system"):
        return "grpc" if a["rpc.system"] == "grpc" else str(a["rpc.system"])
    if a.get("db.system"):
        return _DB_PROTOCOLS.get(str(a["db.system"]), str(a["db.system"]))
    if a.get("messaging.system"):
        return _MQ_PROTOCOLS.get(str(a["messaging.system"]), str(a["messaging.system"]))
    if any(k.startswith("http.") for k in a):
        return "http"
    return None


def _host(span: Span) -> str | None:
    a = span.attrs
    for key in ("peer.service", "server.address", "net.peer.name"):
        if isinstance(a.get(key), str) and a[key]:
            name, _, dotted = split_cluster_host(a[key].lower())
            return a[key] if key == "peer.service" or dotted else name
    return None


def _queue_edge(span: Span) -> tuple[tuple[str, str], EdgeStats]:
    a = span.attrs
    dest = a.get("messaging.destination.name") or a.get("messaging.destination") \
        or a.get("messaging.system")
    return (span.service, str(dest)), EdgeStats("queue", _protocol(span), True)


def _peer_edge(span: Span) -> tuple[tuple[str, str], EdgeStats] | None:
    a = span.attrs
    if a.get("db.system"):
        name = _host(span) or str(a["db.system"])
        kind = "cache" if str(a["db.system"]) in _CACHES else "datastore"
        return (span.service, name), EdgeStats(kind, _protocol(span))
    peer = _host(span)
    if peer is None or peer == span.service:
        return None
    return (span.service, peer), EdgeStats("service", _protocol(span))


class OtlpTraces:
    """The ``otlp`` format."""

    name = "otlp"
    description = ("OpenTelemetry OTLP/JSON traces (the collector's file exporter; Jaeger "
                   "API v3 and Tempo answers)")
    order = 35

    def sniff(self, src: Source, head: str) -> bool:
        return src.named_like(".json", ".jsonl", ".ndjson") and (
            '"resourceSpans"' in head or ('"batches"' in head and '"resource"' in head))

    def read(self, src: Source, ctx: Context) -> Iterator[Batch]:
        agg = Aggregator()
        done = 0

        def count(n: int) -> None:
            nonlocal done
            done += n

        spans = 0
        for where, value in iter_json_records(src, count):
            try:
                if isinstance(value, FactError):
                    raise value
                spans += agg.add(value, where)
            except FactError as exc:
                yield Batch(where, 1, error=exc, bytes_done=done)
                continue
            yield Batch(where, 0, bytes_done=done)
        yield from self.edge_batches(ctx, src, agg, done)

    def edge_batches(self, ctx: Context, src: Source, agg: Aggregator, done: int,
                     evidence: str = "otlp traces") -> Iterator[Batch]:
        """The batches of the edges of everything ``agg`` holds (``evidence`` names the
        source's format on each edge)."""
        if agg.start is None:
            return
        at = agg.start // 1000
        items = sorted(agg.edges().items())
        if not items:
            services = ", ".join(sorted({span.service for span in agg.spans.values()}))
            n = len(agg.spans)
            yield Batch(str(src), 0, bytes_done=done, notes=[
                f"{src}: {n} span{'s' if n != 1 else ''} of {services}: no call between "
                "services (no span with a parent in another service, a peer, a database "
                "or a messaging destination), so no dependency"])
            return
        for _, stats in items:
            stats.evidence = evidence
        for start in range(0, len(items), ctx.batch_size):
            chunk = items[start:start + ctx.batch_size]
            yield self._batch(ctx, src, chunk, at, done)

    def _batch(self, ctx: Context, src: Source,
               chunk: list[tuple[tuple[str, str], EdgeStats]], at: int, done: int) -> Batch:
        where = f"{src}: edges {chunk[0][0][0]} -> {chunk[0][0][1]} and {len(chunk) - 1} more"
        facts: list[Fact] = []
        ctx.resolver.prefetch(n for (a, b), _ in chunk for n in (a, b))
        spans = []  # a new node is a record of its own: a bad one takes no edge's other end
        for (caller, callee), stats in chunk:
            refs = []
            for name, kind in ((caller, "service"), (callee, stats.kind)):
                ref = ctx.resolver.resolve(name, kind)
                if not ctx.resolver.exists(ref):
                    facts.append(node_at(ref, at, source=SOURCE, origin=f"{src}: {name}"))
                    ctx.resolver.note(ref)
                    spans.append((f"{src}: {name}", 1))
                refs.append(ref)
            if refs[0] != refs[1]:
                facts.append(EdgeFact("DEPENDS_ON", refs[0], refs[1], stats.attrs(), at,
                                      source=SOURCE, origin=f"{src}: {caller} -> {callee}"))
                spans.append((f"{src}: {caller} -> {callee}", 1))
        facts = merge_current(ctx, facts, at, lambda k: _OWNED if k == "DEPENDS_ON" else (),
                              weak=("evidence", "protocol", "async"))
        batch = Batch(where, len(chunk), facts, bytes_done=done, spans=spans)
        batch.redo = lambda: self._batch(ctx, src, chunk, at, done)
        return batch


ADAPTERS = (OtlpTraces(),)
