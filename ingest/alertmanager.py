"""Alertmanager alerts: webhook payloads (``"version": "4"``) exactly as Alertmanager
posts them, and its API v2 alert list (``GET /api/v2/alerts``) as it answers.

A file holds one payload, one payload per line, or one alert list. Each alert:

- it is skipped and counted when it is about no component (``Watchdog``,
  ``InfoInhibitor``, an alert without any target label: see
  :mod:`ingest.alert_targets`);
- its node is found from its labels by the resolution order of
  :mod:`ingest.alert_targets`; an alert whose labels resolve nothing is kept on the
  unresolved placeholder and named in the file's notes;
- its signal is its ``signal`` label (a word of :data:`ingest.alerts.SIGNAL_WORDS`),
  else its ``alertname`` in the signal table (:data:`ingest.alerts.DEFAULT_SIGNALS`,
  overridable with a YAML file), else ``errors``;
- its id is ``<fingerprint>@<startsAt>`` (the fingerprint identifies the label set,
  the onset makes a re-fire of the same alert a new alert; without a fingerprint,
  a hash of the labels stands in);
- ``startsAt`` is the onset; a ``firing`` alert is a symptom, open-ended; a
  ``resolved`` one is history, valid until ``endsAt``. An alert without a ``status``
  takes its payload's; every alert of an API v2 list is firing (the list holds the
  alerts not resolved: active, suppressed or unprocessed).

A payload, or ``batch_size`` alerts of a list, is one batch; a bad alert is rejected
alone, naming the payload, its index, the field and the value. Labels and
annotations are stored as data and never interpreted.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from graph_schema import Close, FactError, TimeParseError, format_time, parse_time
from graph_schema.facts import Fact
from ingest.alert_targets import (
    Step,
    candidates,
    is_placeholder,
    placeholder_ref,
    resolve_candidates,
)
from ingest.alerts import alert_facts, signal_for, signal_of_word
from ingest.core import Batch, Context
from ingest.source import Source, iter_json_records

SOURCE = "alertmanager"
#: what a skipped alert is counted as in the file's report
NO_TARGET = "alert without target"
#: the most unresolved alerts a batch's note names
_SHOWN = 3


def _labels(alert: Mapping[str, Any], key: str, where: str) -> dict[str, str]:
    value = alert.get(key) or {}
    if not isinstance(value, Mapping):
        raise FactError(where, key, value, "expected a map of strings")
    return {str(k): str(v) for k, v in value.items()}


def _time(alert: Mapping[str, Any], key: str, where: str) -> int:
    value = alert.get(key)
    if not isinstance(value, str) or not value:
        raise FactError(where, key, value, "missing")
    try:
        return parse_time(value)
    except TimeParseError as exc:
        raise FactError(where, key, value, str(exc)) from None


def alert_id(fingerprint: str | None, labels: Mapping[str, str], starts_at: int) -> str:
    """``<fingerprint>@<startsAt>``; a hash of the labels when there is no fingerprint."""
    fp = fingerprint or hashlib.blake2b(json.dumps(labels, sort_keys=True).encode(),
                                        digest_size=8).hexdigest()
    return f"{fp}@{format_time(starts_at)}"


def alert_status(alert: Mapping[str, Any], default: Any, where: str) -> str:
    """``firing`` or ``resolved``: the alert's status, else its payload's; an API v2
    status object (``{state, silencedBy, inhibitedBy}``) is an unresolved alert."""
    status = alert.get("status")
    if isinstance(status, Mapping):
        return "firing"
    if status is None:
        status = default
    if status not in ("firing", "resolved"):
        raise FactError(where, "status", alert.get("status"), "expected firing or resolved")
    return str(status)


@dataclass
class _Read:
    """What reading a group of alerts gave: facts, rejected alerts, skipped, remarks."""

    facts: list[Fact] = field(default_factory=list)
    #: each alert read's ``(where, number of facts)``, in order (ingest.core.Batch.spans)
    spans: list[tuple[str, int]] = field(default_factory=list)
    #: the rejected alerts: their index among the items, and why
    errors: list[tuple[int, FactError]] = field(default_factory=list)
    good: int = 0
    skipped: int = 0
    unresolved: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: ``(ref, onset, node, where)`` of alerts resolved to a component while their
    #: placeholder exists (an earlier notification may have left them on it)
    resolved: list[tuple[str, int, str, str]] = field(default_factory=list)


def _alert_attrs(alert: Mapping[str, Any], labels: dict[str, str],
                 annotations: dict[str, str]) -> dict[str, Any]:
    attrs: dict[str, Any] = {"labels": labels, "annotations": annotations}
    for key, label in (("alertname", "alertname"), ("severity", "severity")):
        if labels.get(label):
            attrs[key] = labels[label]
    summary = annotations.get("summary") or annotations.get("description")
    if summary:
        attrs["summary"] = summary
    if isinstance(alert.get("fingerprint"), str) and alert["fingerprint"]:
        attrs["fingerprint"] = alert["fingerprint"]
    if isinstance(alert.get("generatorURL"), str) and alert["generatorURL"]:
        attrs["generator_url"] = alert["generatorURL"]
    return attrs


def _read_alert(ctx: Context, alert: Any, where: str, default_status: Any, out: _Read,
                names: list[tuple[Step, str]]) -> None:
    if not isinstance(alert, Mapping):
        raise FactError(where, "(alert)", alert, "expected an alert object")
    labels = _labels(alert, "labels", where)
    if ctx.alert_targets.about_nothing(labels):
        out.skipped += 1
        return
    annotations = _labels(alert, "annotations", where)
    status = alert_status(alert, default_status, where)
    starts = _time(alert, "startsAt", where)
    ends = _time(alert, "endsAt", where) if status == "resolved" else None
    target = resolve_candidates(ctx.resolver, names)
    placeholder: dict[str, Any] | None = None
    if target is None:
        target = placeholder_ref(labels)
        placeholder = {"unresolved": True, "monitored": False}
        if labels.get("namespace"):
            placeholder["namespace"] = labels["namespace"]
        out.unresolved.append(_describe(labels, ctx) if len(out.unresolved) < _SHOWN else "")
    signal = signal_for(labels.get("alertname"), labels, ctx.signals)
    if "signal" in labels and signal_of_word(labels["signal"]) is None:
        out.notes.append(f"{where}: signal label {labels['signal']!r} is no known signal "
                         f"word; the alert counts as {signal}")
    attrs = _alert_attrs(alert, labels, annotations)
    aid = alert_id(attrs.get("fingerprint"), labels, starts)
    if placeholder is None and ctx.resolver.exists(placeholder_ref(labels)):
        out.resolved.append((f"alert:{aid}", starts, target, where))
    out.facts.extend(alert_facts(
        ctx, alert_id=aid, starts_at=starts,
        service=target, signal=signal, ends_at=ends, attrs=attrs, where=where,
        source=SOURCE, placeholder=placeholder))
    out.good += 1


def _describe(labels: Mapping[str, str], ctx: Context) -> str:
    wanted = {s.label for s in ctx.alert_targets.order} | {"namespace", "instance", "node"}
    shown = ", ".join(f"{k}={v}" for k, v in sorted(labels.items()) if k in wanted)
    return f"{labels.get('alertname', '(no alertname)')} ({shown})"


def _read_alerts(ctx: Context, items: list[tuple[str, Any]], default_status: Any = None
                ) -> _Read:
    """Facts for alerts ``(where, alert)``; a bad alert is kept in ``errors`` alone."""
    out = _Read()
    names = [_candidates(ctx, alert) for _, alert in items]
    ctx.resolver.prefetch([name for group in names for _, name in group]
                          + [placeholder_ref(_namespace(a)) for _, a in items])
    for i, (where, alert) in enumerate(items):
        facts_before = len(out.facts)
        try:
            _read_alert(ctx, alert, where, default_status, out, names[i])
        except FactError as exc:
            del out.facts[facts_before:]
            out.errors.append((i, exc))
            continue
        if len(out.facts) > facts_before:
            out.spans.append((where, len(out.facts) - facts_before))
    if out.resolved:
        out.facts.extend(_off_placeholders(ctx, out.resolved))
    if out.unresolved:
        n = len(out.unresolved)
        more = f"; and {n - _SHOWN} more" if n > _SHOWN else ""
        out.notes.append(f"{n} alert{'s' if n != 1 else ''}: component not resolved, kept "
                         f"on the unresolved placeholder: "
                         + "; ".join(out.unresolved[:_SHOWN]) + more)
    return out


def _off_placeholders(ctx: Context, resolved: list[tuple[str, int, str, str]]) -> list[Close]:
    """Closes, at their onset (so they were never valid), of the edges that earlier
    notifications of these alerts drew to a placeholder before their component was
    known: the alert moves to its component instead of pointing at both."""
    current = ctx.current_attrs((ref, t) for ref, t, _, _ in resolved)
    out = []
    for ref, t, target, where in resolved:
        old = current.get((ref, t), {}).get("service")
        if isinstance(old, str) and old != target and is_placeholder(old):
            out.append(Close(f"{ref}|SYMPTOM_OF|{old}", t, source=SOURCE, origin=where))
    return out


def _namespace(alert: Any) -> dict[str, str]:
    labels = alert.get("labels") if isinstance(alert, Mapping) else None
    ns = labels.get("namespace") if isinstance(labels, Mapping) else None
    return {"namespace": ns} if isinstance(ns, str) and ns else {}


def _candidates(ctx: Context, alert: Any) -> list[tuple[Step, str]]:
    """The names an alert's labels offer (none for a malformed alert: it is refused)."""
    labels = alert.get("labels") if isinstance(alert, Mapping) else None
    if not isinstance(labels, Mapping):
        return []
    return list(candidates({str(k): str(v) for k, v in labels.items()}, ctx.alert_targets))


def payload_alerts(payload: Any, where: str) -> list[Any]:
    if not isinstance(payload, Mapping) or not isinstance(payload.get("alerts"), list):
        raise FactError(where, "alerts", None, "not an Alertmanager webhook payload")
    version = payload.get("version")
    if version is not None and str(version) != "4":
        raise FactError(where, "version", version, "only webhook payload version 4 is known")
    return payload["alerts"]


def is_listed_alert(value: Any) -> bool:
    """Whether ``value`` is an alert of an API v2 list (not a webhook payload)."""
    return isinstance(value, Mapping) and "alerts" not in value and "labels" in value


class AlertmanagerWebhook:
    """The ``alertmanager`` format: webhook payloads and API v2 alert lists."""

    name = "alertmanager"
    description = "Alertmanager webhook payloads (version 4) and API v2 alert lists"
    order = 60

    def sniff(self, src: Source, head: str) -> bool:
        if not src.named_like(".json", ".jsonl", ".ndjson"):
            return False
        if head.lstrip().startswith("["):
            return '"fingerprint"' in head and any(
                k in head for k in ('"receivers"', '"updatedAt"', '"silencedBy"'))
        return '"alerts"' in head and any(
            k in head for k in ('"receiver"', '"groupKey"', '"commonLabels"'))

    def read(self, src: Source, ctx: Context) -> Iterator[Batch]:
        done = 0

        def count(n: int) -> None:
            nonlocal done
            done += n

        listed: list[tuple[str, Any]] = []
        for where, value in iter_json_records(src, count):
            if isinstance(value, list):  # an API v2 list on one line
                value = [(f"{where}[{i}]", a) for i, a in enumerate(value)]
                for k in range(0, len(value), ctx.batch_size):
                    yield from self._batches(ctx, _span(value[k:k + ctx.batch_size]),
                                             value[k:k + ctx.batch_size], None, done)
            elif is_listed_alert(value):
                listed.append((where, value))
                if len(listed) >= ctx.batch_size:
                    yield from self._batches(ctx, _span(listed), listed, None, done)
                    listed = []
            else:
                yield from self._payload(ctx, where, value, done)
        if listed:
            yield from self._batches(ctx, _span(listed), listed, None, done)

    def _payload(self, ctx: Context, where: str, payload: Any, done: int) -> Iterator[Batch]:
        try:
            if isinstance(payload, FactError):
                raise payload
            alerts = payload_alerts(payload, where)
        except FactError as exc:
            yield Batch(where, _count(payload), error=exc, bytes_done=done)
            return
        items = [(f"{where} alerts[{i}]", a) for i, a in enumerate(alerts)]
        truncated = payload.get("truncatedAlerts")
        notes = [f"{where}: Alertmanager left out {truncated} alerts of this group "
                 f"(the receiver's max_alerts); they are not in the graph"] \
            if type(truncated) is int and truncated > 0 else []
        yield from self._batches(ctx, where, items, payload.get("status"), done, notes)

    def _batches(self, ctx: Context, where: str, items: list[tuple[str, Any]],
                 default_status: Any, done: int, notes: list[str] | None = None
                 ) -> Iterator[Batch]:
        """One batch of the alerts: a bad one is rejected alone (read, built, or refused
        by the store: see ingest.records), the others are written."""
        yield self._batch(ctx, where, items, default_status, done, notes)

    def _batch(self, ctx: Context, where: str, items: list[tuple[str, Any]],
               default_status: Any, done: int, notes: list[str] | None = None) -> Batch:
        out = _read_alerts(ctx, items, default_status)
        out.notes[:0] = notes or []
        batch = Batch(where, len(items), out.facts, bytes_done=done,
                      skipped={NO_TARGET: out.skipped} if out.skipped else None,
                      notes=out.notes or None, spans=out.spans,
                      rejects=[exc for _, exc in out.errors])
        batch.redo = lambda: self._batch(ctx, where, items, default_status, done)
        return batch


def _span(items: list[tuple[str, Any]]) -> str:
    """Where a group of listed alerts is: the first one's place, to the last one's."""
    return items[0][0] if len(items) == 1 else f"{items[0][0]}-{items[-1][0]}"


def _count(payload: Any) -> int:
    alerts = payload.get("alerts") if isinstance(payload, Mapping) else None
    return len(alerts) if isinstance(alerts, list) else 1


ADAPTERS = (AlertmanagerWebhook(),)
