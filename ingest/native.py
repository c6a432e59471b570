"""Native JSONL: one JSON object per line, in the shapes of the benchmark spec.

- topology: ``{"type": "node", "kind", "name", "attrs", "time"}`` and
  ``{"type": "edge", "kind", "from", "to", "attrs", "time"}`` (no time: valid
  from the beginning; ``from``/``to`` may be bare names, resolved as the spec says);
- changes: ``{"id", "time", "kind", "target", "version", "changes": [{key, old, new}],
  "description"}``;
- alerts: ``{"id", "time", "service", "signal", "severity"}`` (optionally
  ``ends_at``/``status``, ``alertname``, ``summary``). ``service`` is an explicit
  target (a name no node has becomes a ``service:`` node); ``signal`` may be a word of
  :data:`ingest.alerts.SIGNAL_WORDS` (``timeouts`` -> latency); an unknown word counts
  as ``errors`` for that alert, with a note in the file's report.

Three formats are registered (``native``, ``native-changes``, ``native-alerts``) so
that a folder's topology is read before its changes and its alerts; each reads
every shape. A batch is ``batch_size`` consecutive lines.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from graph_schema import (
    CHANGE_KINDS,
    EdgeFact,
    FactError,
    NodeFact,
)
from graph_schema.facts import Fact
from ingest.alerts import UNKNOWN_SIGNAL, alert_facts, signal_of_word
from ingest.changes import change_facts
from ingest.core import Batch, Context, get_time
from ingest.memory_kinds import refuse_memory_facts
from ingest.records import per_record
from ingest.source import Source, iter_lines, loads

_EXTS = (".jsonl", ".ndjson", ".json")
_CHANGE_ATTRS = {"version": "version", "description": "description", "author": "author",
                 "previous_version": "previous_version", "reversible": "reversible",
                 "destructive": "destructive", "flag": "flag"}
_NAME_KEYS = ("from", "to", "target", "service")
_ALERT_ATTRS = ("alertname", "severity", "summary", "fingerprint", "labels", "annotations")


def shape(record: Any) -> str | None:
    """``topology``, ``change``, ``alert`` or None for a parsed line."""
    if type(record) is not dict and not isinstance(record, Mapping):
        return None
    if record.get("type") in ("node", "edge"):
        return "topology"
    if "target" in record and "kind" in record:
        return "change"
    if "service" in record and ("signal" in record or "time" in record):
        return "alert"
    return None


def _first_shape(head: str) -> str | None:
    for line in head.splitlines():
        if line.strip():
            try:
                return shape(loads(line))
            except ValueError:
                return None
    return None


def get_str(record: Mapping[str, Any], key: str, where: str) -> str:
    value = record.get(key)
    if not isinstance(value, str) or not value:
        raise FactError(where, key, value, "missing" if value is None else "expected a string")
    return value


def topology_facts(ctx: Context, rec: Mapping[str, Any], where: str) -> list[Fact]:
    t = 0 if rec.get("time") is None else get_time(rec, "time", where, required=True) or 0
    vt = None if rec.get("valid_to") is None else get_time(rec, "valid_to", where, required=True)
    if rec["type"] == "node":
        fact = NodeFact(rec.get("kind"), rec.get("name"),  # type: ignore[arg-type]
                        rec.get("attrs") or {}, t, vt, origin=where)
        if isinstance(fact.kind, str) and isinstance(fact.name, str):
            ctx.resolver.note(fact.ref)
        return [fact]
    src = ctx.resolver.resolve(get_str(rec, "from", where))
    dst = ctx.resolver.resolve(get_str(rec, "to", where))
    return [EdgeFact(rec.get("kind"), src, dst,  # type: ignore[arg-type]
                     rec.get("attrs") or {}, t, vt, origin=where)]


def native_change_facts(ctx: Context, rec: Mapping[str, Any], where: str) -> list[Fact]:
    kind = get_str(rec, "kind", where)
    if kind not in CHANGE_KINDS:
        raise FactError(where, "kind", kind, "expected one of " + ", ".join(CHANGE_KINDS))
    diff = rec.get("changes") or []
    if not isinstance(diff, list):
        raise FactError(where, "changes", diff, "expected a list of {key, old, new}")
    attrs = {a: rec[k] for k, a in _CHANGE_ATTRS.items() if rec.get(k) is not None}
    return change_facts(ctx, change_id=str(get_str(rec, "id", where)),
                        time=get_time(rec, "time", where, required=True) or 0, change_kind=kind,
                        target=get_str(rec, "target", where), diff=diff, attrs=attrs,
                        where=where)


def native_alert_facts(ctx: Context, rec: Mapping[str, Any], where: str,
                       notes: list[str] | None = None) -> list[Fact]:
    word = rec.get("signal", "errors")
    signal = signal_of_word(word)
    if signal is None:
        signal = UNKNOWN_SIGNAL
        if notes is not None:
            notes.append(f"{where}: signal {word!r} is no known signal word; the alert "
                         f"counts as {signal}")
    ends = get_time(rec, "ends_at", where, required=False)
    attrs = {k: rec[k] for k in _ALERT_ATTRS if rec.get(k) is not None}
    if "severity" in attrs:
        attrs["severity"] = str(attrs["severity"])
    return alert_facts(ctx, alert_id=str(get_str(rec, "id", where)),
                       starts_at=get_time(rec, "time", where, required=True) or 0,
                       service=get_str(rec, "service", where), signal=signal, ends_at=ends,
                       attrs=attrs, where=where)


_HANDLERS = {"topology": topology_facts, "change": native_change_facts}


def record_facts(ctx: Context, rec: Any, where: str, notes: list[str] | None = None
                 ) -> list[Fact]:
    kind = shape(rec)
    if kind is None:
        raise FactError(where, "(record)", rec if not isinstance(rec, Mapping) else
                        sorted(rec)[:6], "not a native node, edge, change or alert record")
    if kind == "alert":
        facts = native_alert_facts(ctx, rec, where, notes)
    else:
        facts = _HANDLERS[kind](ctx, rec, where)
    refuse_memory_facts(facts, where)
    return facts


def names_of(rec: Any) -> list[str]:
    """The names a record will resolve (to look them up in one query per batch)."""
    if type(rec) is not dict and not isinstance(rec, Mapping):
        return []
    return [v for k in _NAME_KEYS if type(v := rec.get(k)) is str and v]


class NativeJsonl:
    """Native JSONL adapter; ``kind`` picks which records make a file detectable."""

    #: batches only ask the resolver about the store, so a big file's writes may overlap
    #: the building of its next batch (ingest.writer)
    overlapped = True

    def __init__(self, name: str, kind: str, order: int, description: str) -> None:
        self.name = name
        self.kind = kind
        self.order = order
        self.description = description

    def sniff(self, src: Source, head: str) -> bool:
        return src.named_like(*_EXTS) and _first_shape(head) == self.kind

    def read(self, src: Source, ctx: Context) -> Iterator[Batch]:
        done = 0

        def count(n: int) -> None:
            nonlocal done
            done += n

        lines: list[tuple[int, str | FactError]] = []
        for n, line in iter_lines(src, count):
            if isinstance(line, str) and not line.strip():
                continue
            lines.append((n, line))
            if len(lines) >= ctx.batch_size:
                yield self._batch(ctx, src, lines, done)
                lines = []
        if lines:
            yield self._batch(ctx, src, lines, done)

    def _batch(self, ctx: Context, src: Source, lines: list[tuple[int, str | FactError]],
               done: int) -> Batch:
        first, last = lines[0][0], lines[-1][0]
        where = f"{src}:{first}" if first == last else f"{src}:{first}-{last}"
        name = str(src)
        records = [(f"{name}:{n}", self._parse(name, n, line)) for n, line in lines]
        ctx.resolver.prefetch({n for _, rec in records for n in names_of(rec)})
        notes: list[str] = []
        built = per_record(records, lambda rec_where, rec: record_facts(ctx, rec, rec_where,
                                                                       notes))
        batch = Batch(where, len(lines), built.facts, None, done, spans=built.spans,
                      rejects=built.rejects, notes=notes or None)
        batch.redo = lambda: self._batch(ctx, src, lines, done)
        return batch

    @staticmethod
    def _parse(src: str, n: int, line: str | FactError) -> Any:
        if isinstance(line, FactError):
            return line
        try:
            return loads(line)
        except ValueError as exc:
            return FactError(f"{src}:{n}", "(line)", line.strip()[:80], f"not JSON: {exc}")
        except RecursionError:
            return FactError(f"{src}:{n}", "(line)", line.strip()[:80], "JSON nested too deeply")


ADAPTERS = (
    NativeJsonl("native", "topology", 10, "native JSONL nodes and edges (the spec's shapes)"),
    NativeJsonl("native-changes", "change", 40, "native JSONL changes (id, time, kind, target)"),
    NativeJsonl("native-alerts", "alert", 60, "native JSONL alerts (id, time, service, signal)"),
)
