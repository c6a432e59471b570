"""Incidents and postmortems: the CCM incident YAML format, and the shared mapping.

One incident per YAML document (``kind: Incident`` or ``kind: Postmortem``); the
format's reference is in ``docs/incidents`` of ``docs/ingest.md``. The mapping,
shared with CDEvents incident events and incident CSV exports:

- ``incident:<id>`` from ``started_at`` (status ``open``: title, severity, start,
  detection), and from ``resolved_at`` a version with everything the postmortem
  established (status ``resolved``, impact, summary, timeline, root cause, chain);
- ``INVOLVES`` edges to the nodes listed in ``involves`` (from ``started_at``) and to
  the nodes of the chain (from ``resolved_at``);
- ``CAUSED`` edges between consecutive nodes of the resolved ``chain`` (cause first),
  with attribute ``incident``, valid from ``resolved_at``: a replay before the
  resolution does not see what the postmortem found;
- each follow-up is a ``policy:<id>`` node with ``incident -[GENERATED]-> policy``.

Node references are ``<kind>:<name>`` or bare names (resolved as the spec says);
they must name nodes the graph has (an unknown one rejects the incident, naming
the entry). Text (titles, impact, timeline entries) is data, never instructions.
Each incident is a snapshot source ``incident:<id>``: re-ingesting a corrected
postmortem removes the links it no longer states.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from graph_schema import EdgeFact, FactError, NodeFact
from graph_schema.facts import Fact
from ingest.core import Batch, Context, get_time
from ingest.records import Built, each_record
from ingest.snapshot import SourceState, replace_all
from ingest.source import Source, YamlDoc, iter_yaml_documents

_SNIFF = re.compile(r"^kind:\s*[\"']?(Incident|Postmortem)[\"']?\s*$", re.M)
_TEXT = ("title", "severity", "impact", "summary", "url")
_POLICY_STATUS = ("proposed", "active", "retired")


def node_refs(ctx: Context, value: Any, where: str, field: str) -> list[str]:
    """References (or bare names, resolved) from a list or a ``a -> b`` string."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        value = [v.strip() for v in re.split(r"\s*(?:->|;)\s*", value) if v.strip()]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise FactError(where, field, value, "expected a list of node references")
    return [ctx.resolver.resolve(v.strip()) for v in value]


def incidents_facts(ctx: Context, records: list[tuple[Any, str]]) -> Built:
    """Facts of incident records ``(record, where)`` with the YAML format's keys, and
    closes for what earlier versions of them stated and they no longer do; a record
    that is a FactError, or is refused while built, is in the result's ``rejects``."""
    ctx.resolver.prefetch(n for doc, _ in records for n in names_in(doc))
    built = Built()
    snapshots = [s for _, s in each_record(((where, doc) for doc, where in records),
                                           lambda where, doc: incident_snapshot(ctx, doc, where),
                                           built.rejects)]
    built.facts = replace_all(ctx, snapshots, None, built.spans)
    return built


def incident_snapshot(ctx: Context, doc: Mapping[str, Any], where: str) -> SourceState:
    """The facts of one incident record (see the module doc)."""
    inc_id = doc.get("id")
    if not isinstance(inc_id, (str, int)) or isinstance(inc_id, bool) or not str(inc_id):
        raise FactError(where, "id", inc_id, "missing")
    inc_id = str(inc_id).strip()
    where = f"{where} (incident {inc_id})"
    started = get_time(doc, "started_at", where) or get_time(doc, "detected_at", where)
    if started is None:
        raise FactError(where, "started_at", None, "missing (or detected_at)")
    detected = get_time(doc, "detected_at", where)
    resolved = get_time(doc, "resolved_at", where)
    if resolved is not None and resolved <= started:
        raise FactError(where, "resolved_at", doc.get("resolved_at"),
                        "must be after started_at")
    status = str(doc.get("status") or ("resolved" if resolved else "open"))
    if status not in ("open", "resolved"):
        raise FactError(where, "status", status, "expected open or resolved")
    chain = node_refs(ctx, doc.get("chain"), where, "chain")
    root = node_refs(ctx, doc.get("root_cause"), where, "root_cause")
    if root and chain and root[0] != chain[0]:
        raise FactError(where, "root_cause", doc.get("root_cause"),
                        f"the chain starts at {chain[0]}: the root cause is the chain's first node")
    if chain and resolved is None:
        raise FactError(where, "chain", chain, "a resolved causal chain needs resolved_at "
                        "(the time it was established)")
    ref = f"incident:{inc_id}"
    source = ref
    base: dict[str, Any] = {"status": "open", "started_at": started}
    base.update({k: str(doc[k]) for k in ("title", "severity", "url") if doc.get(k)})
    if detected is not None:
        base["detected_at"] = detected
    facts: list[Fact] = [NodeFact("incident", inc_id, base, started, source=source,
                                  origin=where)]
    ctx.resolver.note(ref)
    involves = node_refs(ctx, doc.get("involves"), where, "involves")
    edges = _Edges(facts, ref, source)
    for i, target in enumerate(involves):
        edges.add("INVOLVES", ref, target, {}, started, f"{where}: involves[{i}]")
    if resolved is not None and status == "resolved":
        final = dict(base, status="resolved", resolved_at=resolved)
        final.update({k: str(doc[k]) for k in ("impact", "summary") if doc.get(k)})
        if root or chain:
            final["root_cause"] = (root or chain)[0]
        if chain:
            final["chain"] = chain
        if doc.get("timeline"):
            final["timeline"] = _timeline(doc["timeline"], where)
        facts.append(NodeFact("incident", inc_id, final, resolved, source=source, origin=where))
        for i, target in enumerate(chain or root):
            edges.add("INVOLVES", ref, target, {}, resolved, f"{where}: chain[{i}]")
        for i, (a, b) in enumerate(zip(chain, chain[1:], strict=False)):
            edges.add("CAUSED", a, b, {"incident": ref}, resolved, f"{where}: chain[{i + 1}]")
    policy_time = resolved if resolved is not None and status == "resolved" else started
    for i, item in enumerate(doc.get("follow_ups") or []):
        facts.extend(_policy(ctx, ref, item, policy_time, f"{where}: follow_ups[{i}]", source))
    return SourceState(source, facts, policy_time, where)


class _Edges:
    def __init__(self, facts: list[Fact], ref: str, source: str) -> None:
        self.facts, self.ref, self.source = facts, ref, source
        self.seen: set[str] = set()

    def add(self, kind: str, a: str, b: str, attrs: dict[str, Any], at: int,
            where: str) -> None:
        if a == b or f"{a}|{kind}|{b}" in self.seen:
            return
        self.seen.add(f"{a}|{kind}|{b}")
        self.facts.append(EdgeFact(kind, a, b, attrs, at, source=self.source, origin=where))


def _timeline(value: Any, where: str) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        raise FactError(where, "timeline", value, "expected a list of {time, text}")
    out: list[dict[str, Any]] = []
    for i, item in enumerate(value):
        if not isinstance(item, Mapping) or "text" not in item:
            raise FactError(where, f"timeline[{i}]", item, "expected {time, text}")
        t = get_time(item, "time", f"{where} timeline[{i}]")
        out.append({"time": item.get("time") if t is None else _iso(t), "text": str(item["text"])})
    return out


def _iso(t: int) -> str:
    from graph_schema import format_time

    return format_time(t) or ""


def _policy(ctx: Context, incident: str, item: Any, at: int, where: str,
            source: str) -> list[Fact]:
    if not isinstance(item, Mapping) or not isinstance(item.get("id"), str) or not item["id"]:
        raise FactError(where, "id", item.get("id") if isinstance(item, Mapping) else item,
                        "a follow-up needs an id")
    status = str(item.get("status") or "proposed")
    if status not in _POLICY_STATUS:
        raise FactError(where, "status", status, "expected one of " + ", ".join(_POLICY_STATUS))
    attrs: dict[str, Any] = {"status": status}
    for key in ("rule", "description"):
        if item.get(key):
            attrs[key] = str(item[key])
    if item.get("params") is not None:
        attrs["params"] = item["params"]
    t = get_time(item, "created_at", where) or at
    ctx.resolver.note(f"policy:{item['id']}")
    return [NodeFact("policy", item["id"], attrs, t, source=source, origin=where),
            EdgeFact("GENERATED", incident, f"policy:{item['id']}", {}, t, source=source,
                     origin=where)]


def names_in(doc: Any) -> list[str]:
    """Every node name an incident record mentions (to look them up at once)."""
    if not isinstance(doc, Mapping):
        return []
    out: list[str] = []
    for key in ("chain", "involves", "root_cause"):
        value = doc.get(key)
        items: Sequence[Any] = re.split(r"\s*(?:->|;)\s*", value) if isinstance(value, str) \
            else value if isinstance(value, list) else []
        out.extend(v for v in items if isinstance(v, str) and v)
    return out


class IncidentYaml:
    """The ``incident`` format: CCM's incident / postmortem YAML."""

    name = "incident"
    description = "CCM incident / postmortem YAML (kind: Incident; see docs/ingest.md)"
    order = 70

    def sniff(self, src: Source, head: str) -> bool:
        return src.named_like(".yaml", ".yml") and bool(_SNIFF.search(head))

    def read(self, src: Source, ctx: Context) -> Iterator[Batch]:
        done = 0

        def count(n: int) -> None:
            nonlocal done
            done += n

        chunk: list[YamlDoc] = []
        for doc in iter_yaml_documents(src, count):
            chunk.append(doc)
            if len(chunk) >= ctx.batch_size:
                yield self._batch(ctx, src, chunk, done)
                chunk = []
        if chunk:
            yield self._batch(ctx, src, chunk, done)

    def _batch(self, ctx: Context, src: Source, chunk: list[YamlDoc], done: int) -> Batch:
        where = chunk[0].where(src) if len(chunk) == 1 else \
            f"{src}: documents {chunk[0].index}-{chunk[-1].index}"
        try:
            built = incidents_facts(ctx, [(_incident(src, doc), doc.where(src)) for doc in chunk])
        except FactError as exc:
            return Batch(where, len(chunk), error=exc, bytes_done=done)
        batch = Batch(where, len(chunk), built.facts, bytes_done=done, spans=built.spans,
                      rejects=built.rejects)
        batch.redo = lambda: self._batch(ctx, src, chunk, done)
        return batch


def _incident(src: Source, doc: YamlDoc) -> Any:
    """The document's incident record, or why it is none (a FactError)."""
    if doc.error is not None:
        return doc.error
    kind = doc.value.get("kind") if isinstance(doc.value, Mapping) else None
    if kind not in ("Incident", "Postmortem"):
        return FactError(doc.where(src), "kind", kind, "expected kind: Incident")
    return doc.value


ADAPTERS = (IncidentYaml(),)
