"""Jaeger service dependencies: the body of Jaeger's ``/api/dependencies``.

``{"data": [{"parent": "frontend", "child": "cart", "callCount": 42}, ...]}`` or the
bare list. Each item is ``parent DEPENDS_ON child`` with ``call_count`` (the
edge's traffic weight: a caller's calls split across its callees by it). Names
resolve as the spec says (an existing node of that name whatever its kind, else a
new ``service:``). Self-calls are skipped. The body carries no time: facts are
valid from ``--at``. A dependency seen in traces keeps the attributes other
sources gave its edge (protocol, evidence from a manifest); only ``call_count`` is
replaced. Dependencies missing from a later body are not closed: absence from a
trace window is not proof that a dependency is gone.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from graph_schema import EdgeFact, FactError, NodeFact
from graph_schema.facts import Fact
from ingest.core import Batch, Context
from ingest.records import per_record
from ingest.snapshot import merge_current
from ingest.source import Source, parse_json, read_text

SOURCE = "jaeger"
_SNIFF = re.compile(r"\"parent\"\s*:")


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


def owned(kind: str) -> tuple[str, ...]:
    return ("call_count",) if kind == "DEPENDS_ON" else ()


class JaegerDependencies:
    """The ``jaeger`` format."""

    name = "jaeger"
    description = "Jaeger /api/dependencies JSON (parent, child, callCount)"
    order = 30

    def sniff(self, src: Source, head: str) -> bool:
        return src.named_like(".json") and bool(_SNIFF.search(head)) and "callCount" in head

    def read(self, src: Source, ctx: Context) -> Iterator[Batch]:
        items = dependencies(parse_json(read_text(src), str(src)), str(src))
        total = src.size()
        for start in range(0, len(items), ctx.batch_size):
            chunk = list(enumerate(items[start:start + ctx.batch_size], start))
            done = total * min(len(items), start + len(chunk)) // max(1, len(items))
            yield self._batch(ctx, src, chunk, done)

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
