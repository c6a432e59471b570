"""CDEvents (spec v0.3, v0.4 and v0.5) as JSON: one event per file, or one per line,
bare or inside a CloudEvents envelope.

An event may come in a CloudEvents structured-mode envelope (``{"specversion":
"1.0", "type", "id", "source", "time", "datacontenttype", "data": <the CDEvent>}``,
``data`` as JSON, a JSON string or ``data_base64``), alone or in a batch (a JSON
list); an envelope whose ``type`` is not the CDEvent's ``context.type`` is refused
naming ``type``. A binary-mode request (``ce-*`` headers, the CDEvent as body) is
turned into the structured form by :func:`structured_from_binary`.

Handled event types (any event version):

- ``dev.cdevents.service.deployed|upgraded`` -> a ``deploy`` change,
  ``...rolledback`` -> ``rollback``, ``...removed`` -> ``removal``: the service node
  (and so its edges) is closed at the event's time, and the change node names it
  in ``target`` (no CHANGED edge: it would end as it starts);
- ``dev.cdevents.environment.modified`` -> an ``infra_change`` (``config_change``
  when ``customData.changes`` lists ``{key, old, new}``) on the environment: the
  component of that name if there is one, else ``zone:<environment>``;
- ``dev.cdevents.incident.detected|reported`` -> an open ``incident:<subject.id>``
  INVOLVES its ``content.service``; ``...resolved`` -> its resolved version.

The change id is ``context.id``, its time ``context.timestamp``, its target the last
path segment of ``subject.id`` (``service/cart`` -> the node named ``cart``,
resolved as the spec says); the version is the ``@version`` of the
``content.artifactId`` package URL. Other event types (and CloudEvents that are not
CDEvents) are skipped and counted in the file's report, by subject and predicate.
Changes use the shared mapping of :mod:`ingest.changes`.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import unquote

from graph_schema import Close, EdgeFact, FactError, NodeFact, TimeParseError, parse_time
from graph_schema.facts import Fact
from ingest.changes import change_facts, deploy_change_id
from ingest.core import Batch, Context, node_at
from ingest.incident_events import owned
from ingest.records import per_record
from ingest.snapshot import merge_current
from ingest.source import Source, parse_json
from ingest.webhooks import Tally, payload_chunks

_TYPE = re.compile(r"^dev\.cdevents\.(?P<subject>[A-Za-z]+)\.(?P<predicate>[A-Za-z]+)\."
                   r"(?P<version>\d+\.\d+\.\d+\S*)$")
_CHANGE_KINDS = {("service", "deployed"): "deploy", ("service", "upgraded"): "deploy",
                 ("service", "rolledback"): "rollback", ("service", "removed"): "removal",
                 ("environment", "modified"): "infra_change"}
_INCIDENT = {"detected": "open", "reported": "open", "resolved": "resolved"}
#: ctx.state key: what the run's written batches said of each incident
_WRITTEN = "cdevents-incidents"


def _str(m: Mapping[str, Any], key: str, where: str, field: str) -> str:
    value = m.get(key)
    if not isinstance(value, str) or not value.strip():
        raise FactError(where, field, value, "missing" if value is None else "expected a string")
    return value.strip()


def last_segment(subject_id: str) -> str:
    """``service/cart`` -> ``cart`` (the name the spec resolves)."""
    return subject_id.rstrip("/").rsplit("/", 1)[-1]


def purl_version(artifact: Any) -> str | None:
    """``pkg:oci/cart@v1.4.2?repository_url=...`` -> ``v1.4.2``."""
    if not isinstance(artifact, str) or "@" not in artifact:
        return None
    version = unquote(artifact.rsplit("@", 1)[1].split("?", 1)[0].split("#", 1)[0])
    return version or None


def unwrap(record: Any, where: str) -> Any:
    """The CDEvent of a record: the record itself, or the ``data`` of a CloudEvents
    structured-mode envelope (None: a CloudEvent that is not a CDEvent)."""
    if not isinstance(record, Mapping) or "context" in record or "specversion" not in record:
        return record
    if str(record["specversion"]) != "1.0":
        raise FactError(where, "specversion", record["specversion"],
                        "expected CloudEvents specversion 1.0")
    typ = record.get("type")
    if not isinstance(typ, str) or not typ.startswith("dev.cdevents."):
        return None
    if "data_base64" in record and "data" not in record:
        try:
            text = base64.b64decode(str(record["data_base64"]), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise FactError(where, "data_base64", str(record["data_base64"])[:40],
                            "not base64 of UTF-8 text") from None
        data = parse_json(text, f"{where}: data_base64")
    else:
        data = record.get("data")
        if isinstance(data, str):
            data = parse_json(data, f"{where}: data")
    if not isinstance(data, Mapping):
        raise FactError(where, "data", data, "expected the CDEvent (a JSON object)")
    context = data.get("context")
    inner = context.get("type") if isinstance(context, Mapping) else None
    if inner is not None and inner != typ:
        raise FactError(where, "type", typ, f"the CloudEvent's type is not its CDEvent's "
                        f"context.type {inner!r}")
    return data


def structured_from_binary(headers: Mapping[str, str], body: bytes) -> bytes:
    """A CloudEvents binary-mode request (``ce-*`` headers, the CDEvent as body) as one
    structured-mode envelope, which :func:`unwrap` reads like any other."""
    envelope: dict[str, Any] = {k.lower()[3:]: v for k, v in headers.items()
                                if k.lower().startswith("ce-")}
    content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), None)
    if content_type:
        envelope["datacontenttype"] = content_type
    envelope["data"] = body.decode("utf-8", errors="replace")
    return json.dumps(envelope).encode()


def event_facts(ctx: Context, event: Any, where: str,
                building: dict[str, dict[str, Any]], tally: Tally | None = None
                ) -> list[Fact]:
    """Facts of one CDEvent, bare or in a CloudEvents envelope ([] for event types CCM
    does not use, counted in ``tally``). ``building`` holds what the events of the
    batch being built said of each incident so far."""
    tally = tally or Tally()
    event = unwrap(event, where)
    if event is None:
        return tally.skip("CloudEvent that is not a CDEvent")
    if not isinstance(event, Mapping) or not isinstance(event.get("context"), Mapping):
        raise FactError(where, "context", None, "not a CDEvent (no context)")
    context = event["context"]
    typ = _str(context, "type", where, "context.type")
    m = _TYPE.match(typ)
    if m is None:
        raise FactError(where, "context.type", typ, "not a dev.cdevents.<subject>.<predicate>."
                        "<version> type")
    subject_name, predicate = m.group("subject").lower(), m.group("predicate").lower()
    if (subject_name, predicate) not in _CHANGE_KINDS and not (
            subject_name == "incident" and predicate in _INCIDENT):
        return tally.skip(f"CDEvent {subject_name}.{predicate}")
    event_id = _str(context, "id", where, "context.id")
    where = f"{where} (event {event_id})"
    try:
        at = parse_time(_str(context, "timestamp", where, "context.timestamp"))
    except TimeParseError as exc:
        raise FactError(where, "context.timestamp", context.get("timestamp"), str(exc)) from None
    subject = event.get("subject")
    if not isinstance(subject, Mapping):
        raise FactError(where, "subject", subject, "missing")
    content: Mapping[str, Any] = subject["content"] \
        if isinstance(subject.get("content"), Mapping) else {}
    custom: Mapping[str, Any] = event["customData"] \
        if isinstance(event.get("customData"), Mapping) else {}
    if subject_name == "incident":
        return _incident(ctx, subject, content, custom, _INCIDENT[predicate], at, where,
                         building)
    return _change(ctx, typ, subject_name, predicate, subject, content, custom, event_id, at,
                   where)


def _change(ctx: Context, typ: str, subject_name: str, predicate: str,
            subject: Mapping[str, Any], content: Mapping[str, Any], custom: Mapping[str, Any],
            event_id: str, at: int, where: str) -> list[Fact]:
    name = last_segment(_str(subject, "id", where, "subject.id"))
    kind = _CHANGE_KINDS[(subject_name, predicate)]
    diff = custom.get("changes") or []
    if not isinstance(diff, list):
        raise FactError(where, "customData.changes", diff, "expected a list of {key, old, new}")
    if subject_name == "environment":
        target = ctx.resolver.find(name) or f"zone:{name}"
        kind = "config_change" if diff else kind
    else:
        target = ctx.resolver.resolve(name)
    attrs: dict[str, Any] = {"event_type": typ}
    env = content.get("environment")
    if isinstance(env, Mapping) and isinstance(env.get("id"), str):
        attrs["environment"] = env["id"]
    if isinstance(content.get("artifactId"), str) and content["artifactId"]:
        attrs["artifact"] = content["artifactId"]
        if (version := purl_version(content["artifactId"])) is not None:
            attrs["version"] = version
    if isinstance(custom.get("description"), str):
        attrs["description"] = custom["description"]
    exists = ctx.resolver.exists(target)
    if kind == "removal":
        # no CHANGED edge: the target's edges end with it; the change names it instead
        attrs.update(change_kind=kind, time=at, target=target)
        change = NodeFact("change", event_id, attrs, at, origin=where)
        return [Close(target, at, origin=where), change] if exists else [change]
    if kind == "deploy" and "version" in attrs:
        # a re-ingested manifest recorded this deploy first: the event is the same change
        gitops = deploy_change_id(target, attrs["version"])
        if ctx.resolver.exists(f"change:{gitops}"):
            event_id = gitops
    facts = change_facts(ctx, change_id=event_id, time=at, change_kind=kind, target=target,
                         where=where, diff=diff, attrs=attrs)
    if exists and target.split(":", 1)[0] != "zone":
        # a deploy after a removal brings the service back (a no-op while it runs)
        facts.insert(0, node_at(target, at, origin=where))
    return facts


def _incident(ctx: Context, subject: Mapping[str, Any], content: Mapping[str, Any],
              custom: Mapping[str, Any], status: str, at: int, where: str,
              building: dict[str, dict[str, Any]]) -> list[Fact]:
    inc_id = last_segment(_str(subject, "id", where, "subject.id"))
    attrs: dict[str, Any] = {"status": status}
    if status == "open":
        attrs.update(started_at=at, detected_at=at)
    else:
        attrs["resolved_at"] = at
    if isinstance(content.get("description"), str):
        attrs["title" if status == "open" else "summary"] = content["description"]
    if isinstance(content.get("ticketURI"), str):
        attrs["url"] = content["ticketURI"]
    if isinstance(custom.get("severity"), str):
        attrs["severity"] = custom["severity"]
    # what earlier events of this run said (the store has not seen them yet): of the
    # batches written, and of this batch (kept for later batches once it is written)
    seen = {**ctx.state.get(_WRITTEN, {}).get(inc_id, {}), **building.get(inc_id, {})}
    if status == "resolved" and seen:
        attrs = {**{k: v for k, v in seen.items() if k != "status"}, **attrs}
    building[inc_id] = {**seen, **attrs}
    facts: list[Fact] = [NodeFact("incident", inc_id, attrs, at, origin=where)]
    ctx.resolver.note(f"incident:{inc_id}")
    service = content.get("service")
    name = service.get("id") if isinstance(service, Mapping) else service
    if isinstance(name, str) and name.strip():
        ref = ctx.resolver.resolve(last_segment(name.strip()))
        if not ctx.resolver.exists(ref):
            facts.append(node_at(ref, at, origin=where))
            ctx.resolver.note(ref)
        facts.append(EdgeFact("INVOLVES", f"incident:{inc_id}", ref, {}, at, origin=where))
    return facts


def names_in(event: Any) -> list[str]:
    """The names an event's facts look up: its subject, and the change a re-ingested
    manifest would have recorded for the version it deploys (so that a batch asks the
    store once for all of them, not once per event)."""
    if isinstance(event, Mapping) and isinstance(event.get("data"), Mapping):
        event = event["data"]  # a structured CloudEvent
    subject = event.get("subject") if isinstance(event, Mapping) else None
    sid = subject.get("id") if isinstance(subject, Mapping) else None
    if not isinstance(sid, str) or not sid:
        return []
    name = last_segment(sid)
    content = subject.get("content") if isinstance(subject, Mapping) else None
    version = purl_version(content.get("artifactId")) if isinstance(content, Mapping) \
        else None
    return [name, f"change:{deploy_change_id(name, version)}"] if version else [name]


class CDEvents:
    """The ``cdevents`` format."""

    name = "cdevents"
    description = ("CDEvents v0.3-v0.5 JSON, bare or in CloudEvents envelopes: service, "
                   "environment and incident events")
    order = 45

    def sniff(self, src: Source, head: str) -> bool:
        return src.named_like(".json", ".jsonl", ".ndjson") and '"dev.cdevents.' in head

    def read(self, src: Source, ctx: Context) -> Iterator[Batch]:
        for chunk, done in payload_chunks(src, ctx.batch_size):
            yield self._batch(ctx, src, chunk, done)

    def _batch(self, ctx: Context, src: Source, chunk: list[tuple[str, Any]],
               done: int) -> Batch:
        where = chunk[0][0] if len(chunk) == 1 else f"{chunk[0][0]} to {chunk[-1][0]}"
        facts: list[Fact] = []
        building: dict[str, dict[str, Any]] = {}
        tally = Tally()
        try:
            ctx.resolver.prefetch(n for _, ev in chunk for n in names_in(ev))
            built = per_record(chunk, lambda at, event: event_facts(ctx, event, at, building,
                                                                    tally))
            # each fact merged with what other sources say of it at its own time
            facts = merge_current(ctx, built.facts, None, owned)
        except FactError as exc:
            return Batch(where, len(chunk), error=exc, bytes_done=done)
        batch = Batch(where, len(chunk), facts, bytes_done=done, spans=built.spans,
                      rejects=built.rejects, skipped=tally.skipped or None)
        batch.redo = lambda: self._batch(ctx, src, chunk, done)
        # a rejected batch's incidents must not leak into the events of later batches
        batch.on_written = lambda: ctx.state.setdefault(_WRITTEN, {}).update(building)
        batch.on_dropped = lambda _: building.clear()  # whose incidents: not known here
        return batch



ADAPTERS = (CDEvents(),)
