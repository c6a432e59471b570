"""Jaeger service dependencies (the body of ``/api/dependencies``) and traces.

``{"data": [{"parent": "frontend", "child": "cart", "callCount": 42}, ...]}`` or the
bare list. The query API's empty answer (``{"data": [], "total": 0, "limit": 0,
"offset": 0, "errors": null}``) is read too: no dependencies, no error. Each item
is ``parent DEPENDS_ON child`` with ``call_count`` (the edge's traffic weight: a
caller's calls split across its callees by it). Names resolve as the spec says (an existing node of that name whatever its kind, else a
new ``service:``). Self-calls are skipped. The body carries no time: facts are
valid from ``--at``. A dependency seen in traces keeps the attributes other
sources gave its edge (protocol, evidence from a manifest); only ``call_count`` is
replaced. Dependencies missing from a later body are not closed: absence from a
trace window is not proof that a dependency is gone.

Jaeger's own trace JSON (``/api/traces`` and ``/api/traces/<id>``: ``{"data":
[{"traceID", "spans", "processes"}]}``, or one trace object as the UI downloads it)
is read as traces: each span's service is its process's ``serviceName``, its parent
the first ``CHILD_OF`` (else ``FOLLOWS_FROM``) reference in the same trace, its kind
the ``span.kind`` tag, an ``error`` tag of true an error; the spans are then joined
into edges exactly as OTLP spans are (:mod:`ingest.otlp`), a span without a
``span.kind`` counting as its parent's callee, so that every parent -> child pair
across services is a dependency, as Jaeger's own dependency job counts them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from graph_schema import EdgeFact, FactError, NodeFact
from graph_schema.facts import Fact
from ingest.core import Batch, Context
from ingest.otlp import Aggregator, OtlpTraces, Span
from ingest.records import per_record
from ingest.snapshot import merge_current
from ingest.source import Source, parse_json, read_text

SOURCE = "jaeger"
_SNIFF = re.compile(r"\"parent\"\s*:")
_EMPTY = re.compile(r"\"data\"\s*:\s*\[\s*\]")


def dependencies(doc: Any, where: str) -> list[Any]:
    """The list of dependency items of a Jaeger body."""
    items = doc.get("data") if isinstance(doc, Mapping) else doc
    if not isinstance(items, list):
        raise FactError(where, "data", type(items).__name__,
                        "expected a list of {parent, child, callCount}")
    return items


def dependency_facts(ctx: Context, item: Any, where: str, at: int) -> list[Fact]:
    if not isinstance(item, Mapping):
        raise FactError(where, "(item)", item, "expected {parent, child, callCount}")
    for key in ("parent", "child"):
        if not isinstance(item.get(key), str) or not item[key]:
            raise FactError(where, key, item.get(key), "expected a service name")
    count = item.get("callCount", 0)
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise FactError(where, "callCount", count, "expected a count (integer >= 0)")
    if item["parent"] == item["child"]:
        return []
    facts: list[Fact] = []
    refs = []
    for name in (item["parent"], item["child"]):
        ref = ctx.resolver.resolve(name)
        if not ctx.resolver.exists(ref):
            kind, node = ref.split(":", 1)
            facts.append(NodeFact(kind, node, {}, at, source=SOURCE, origin=where))
            ctx.resolver.note(ref)
        refs.append(ref)
    facts.append(EdgeFact("DEPENDS_ON", refs[0], refs[1],
                          {"call_count": count, "evidence": "jaeger dependencies"}, at,
                          source=SOURCE, origin=where))
    return facts


def is_trace(doc: Any) -> bool:
    return isinstance(doc, Mapping) and "spans" in doc


def trace_spans(agg: Aggregator, trace: Any, where: str) -> int:
    """Add the spans of one Jaeger trace to ``agg``; returns how many. A trace with a
    bad span adds nothing: its spans are all read before any is kept."""
    if not is_trace(trace) or not isinstance(trace["spans"], list):
        raise FactError(where, "spans", type(trace).__name__,
                        "expected a Jaeger trace {traceID, spans, processes}")
    procs = trace.get("processes")
    procs = procs if isinstance(procs, Mapping) else {}
    read: list[tuple[Span, str, str, str, bool]] = []
    for i, raw in enumerate(trace["spans"]):
        w = f"{where}.spans[{i}]"
        if not isinstance(raw, Mapping):
            raise FactError(w, "(span)", raw, "expected a span object")
        tags = {str(t["key"]): t.get("value") for t in raw.get("tags") or []
                if isinstance(t, Mapping) and "key" in t}
        proc = procs.get(raw.get("processID")) or raw.get("process")
        name = proc.get("serviceName") if isinstance(proc, Mapping) else None
        start, length = (_micros(raw.get(k), w, k) for k in ("startTime", "duration"))
        kind = str(tags["span.kind"]).upper() if tags.get("span.kind") else None
        error = tags.get("error") in (True, "true") or tags.get("otel.status_code") == "ERROR"
        trace_id = str(raw.get("traceID") or trace.get("traceID") or "")
        span = Span(str(name) if name else "unknown_service", kind or "INTERNAL",
                    start * 1000, (start + length) * 1000, error, tags)
        read.append((span, trace_id, str(raw.get("spanID", "")), _parent(raw, trace_id),
                     kind in (None, "SERVER", "CONSUMER")))
    for span, trace_id, span_id, parent, child in read:
        agg.keep(span, trace_id, span_id, parent, child)
    return len(read)


def _micros(value: Any, where: str, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise FactError(where, name, value, "expected microseconds (a number >= 0)")
    return int(value)


def _parent(span: Mapping[str, Any], trace_id: str) -> str:
    refs = [r for r in span.get("references") or [] if isinstance(r, Mapping)]
    for ref_type in ("CHILD_OF", "FOLLOWS_FROM"):
        for r in refs:
            if r.get("refType") == ref_type and str(r.get("traceID") or trace_id) == trace_id:
                return str(r.get("spanID", ""))
    return str(span.get("parentSpanID") or "")


def owned(kind: str) -> tuple[str, ...]:
    return ("call_count",) if kind == "DEPENDS_ON" else ()


class JaegerDependencies:
    """The ``jaeger`` format."""

    name = "jaeger"
    description = "Jaeger /api/dependencies JSON (parent, child, callCount) and trace JSON"
    order = 30

    def sniff(self, src: Source, head: str) -> bool:
        if not src.named_like(".json"):
            return False
        return (bool(_SNIFF.search(head)) and "callCount" in head) or (
            bool(_EMPTY.search(head)) and '"total"' in head) or (
            '"traceID"' in head and '"spans"' in head)

    def read(self, src: Source, ctx: Context) -> Iterator[Batch]:
        doc = parse_json(read_text(src), str(src))
        total = src.size()
        if is_trace(doc):
            yield from self._traces(ctx, src, [(str(src), doc)], total)
            return
        items = dependencies(doc, str(src))
        if any(is_trace(it) for it in items):
            yield from self._traces(ctx, src, [(f"{src}: data[{i}]", it)
                                               for i, it in enumerate(items)], total)
            return
        for start in range(0, len(items), ctx.batch_size):
            chunk = list(enumerate(items[start:start + ctx.batch_size], start))
            done = total * min(len(items), start + len(chunk)) // max(1, len(items))
            yield self._batch(ctx, src, chunk, done)

    def _traces(self, ctx: Context, src: Source, traces: list[tuple[str, Any]],
                total: int) -> Iterator[Batch]:
        agg = Aggregator()
        for where, trace in traces:
            try:
                trace_spans(agg, trace, where)
            except FactError as exc:
                yield Batch(where, 1, error=exc, bytes_done=total)
        yield from OtlpTraces().edge_batches(ctx, src, agg, total, evidence="jaeger traces")

    def _batch(self, ctx: Context, src: Source, chunk: list[tuple[int, Any]],
               done: int) -> Batch:
        where = f"{src}: data[{chunk[0][0]}..{chunk[-1][0]}]"
        facts: list[Fact] = []
        try:
            ctx.resolver.prefetch(v for _, it in chunk if isinstance(it, Mapping)
                                  for k in ("parent", "child")
                                  if isinstance(v := it.get(k), str))
            built = per_record(((f"{src}: data[{i}]", item) for i, item in chunk),
                               lambda at, item: dependency_facts(ctx, item, at, ctx.at))
            facts = merge_current(ctx, built.facts, ctx.at, owned, weak=("evidence",))
        except FactError as exc:
            return Batch(where, len(chunk), error=exc, bytes_done=done)
        batch = Batch(where, len(chunk), facts, bytes_done=done, spans=built.spans,
                      rejects=built.rejects)
        batch.redo = lambda: self._batch(ctx, src, chunk, done)
        return batch


ADAPTERS = (JaegerDependencies(),)
