"""Alertmanager webhook payloads (``"version": "4"``), exactly as Alertmanager posts them.

One payload per file, or one per line. Each alert of a payload:

- its node is the first present label of ``service``, ``app``,
  ``app_kubernetes_io_name``, ``job``, ``container`` (resolved as the spec says);
- its signal is its ``signal`` label, else its ``alertname`` in the signal table
  (:data:`ingest.alerts.DEFAULT_SIGNALS`, overridable with a YAML file);
- its id is ``<fingerprint>@<startsAt>`` (the fingerprint identifies the label set,
  the onset makes a re-fire of the same alert a new alert; without a fingerprint,
  a hash of the labels stands in);
- ``startsAt`` is the onset; a ``firing`` alert is a symptom, open-ended; a
  ``resolved`` one is history, valid until ``endsAt``.

A payload is one batch: a bad alert rejects its payload, naming the alert and field.
Labels and annotations are stored as data and never interpreted.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from typing import Any

from graph_schema import FactError, TimeParseError, format_time, parse_time
from graph_schema.facts import Fact
from ingest.alerts import alert_facts, signal_for
from ingest.core import Batch, Context
from ingest.records import per_record
from ingest.source import Source, iter_json_records

SERVICE_LABELS = ("service", "app", "app_kubernetes_io_name", "job", "container")
SOURCE = "alertmanager"


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


def webhook_alert_facts(ctx: Context, alert: Any, where: str) -> list[Fact]:
    if not isinstance(alert, Mapping):
        raise FactError(where, "(alert)", alert, "expected an alert object")
    labels = _labels(alert, "labels", where)
    annotations = _labels(alert, "annotations", where)
    service = next((labels[k] for k in SERVICE_LABELS if labels.get(k)), None)
    if service is None:
        raise FactError(where, "labels", labels, "no service label (one of "
                        + ", ".join(SERVICE_LABELS) + ")")
    status = alert.get("status")
    if status not in ("firing", "resolved"):
        raise FactError(where, "status", status, "expected firing or resolved")
    starts = _time(alert, "startsAt", where)
    ends = _time(alert, "endsAt", where) if status == "resolved" else None
    fingerprint = alert.get("fingerprint") if isinstance(alert.get("fingerprint"), str) else None
    attrs: dict[str, Any] = {"labels": labels, "annotations": annotations}
    if labels.get("alertname"):
        attrs["alertname"] = labels["alertname"]
    if labels.get("severity"):
        attrs["severity"] = labels["severity"]
    summary = annotations.get("summary") or annotations.get("description")
    if summary:
        attrs["summary"] = summary
    if fingerprint:
        attrs["fingerprint"] = fingerprint
    if isinstance(alert.get("generatorURL"), str) and alert["generatorURL"]:
        attrs["generator_url"] = alert["generatorURL"]
    return alert_facts(ctx, alert_id=alert_id(fingerprint, labels, starts), starts_at=starts,
                       service=service, signal=signal_for(labels.get("alertname"), labels,
                                                          ctx.signals),
                       ends_at=ends, attrs=attrs, where=where, source=SOURCE)


def payload_alerts(payload: Any, where: str) -> list[Any]:
    if not isinstance(payload, Mapping) or not isinstance(payload.get("alerts"), list):
        raise FactError(where, "alerts", None, "not an Alertmanager webhook payload")
    version = payload.get("version")
    if version is not None and str(version) != "4":
        raise FactError(where, "version", version, "only webhook payload version 4 is known")
    return payload["alerts"]


class AlertmanagerWebhook:
    """The ``alertmanager`` format."""

    name = "alertmanager"
    description = "Alertmanager webhook payloads (version 4)"
    order = 60

    def sniff(self, src: Source, head: str) -> bool:
        return src.named_like(".json", ".jsonl", ".ndjson") and '"alerts"' in head and any(
            k in head for k in ('"receiver"', '"groupKey"', '"commonLabels"'))

    def read(self, src: Source, ctx: Context) -> Iterator[Batch]:
        done = 0

        def count(n: int) -> None:
            nonlocal done
            done += n

        for where, payload in iter_json_records(src, count):
            yield self._batch(ctx, where, payload, done)

    def _batch(self, ctx: Context, where: str, payload: Any, done: int) -> Batch:
        try:
            if isinstance(payload, FactError):
                raise payload
            alerts = payload_alerts(payload, where)
            ctx.resolver.prefetch(
                str(a["labels"][k]) for a in alerts if isinstance(a, Mapping)
                and isinstance(a.get("labels"), Mapping) for k in SERVICE_LABELS
                if a["labels"].get(k))
            built = per_record(((f"{where} alerts[{i}]", a) for i, a in enumerate(alerts)),
                               lambda at, alert: webhook_alert_facts(ctx, alert, at))
        except FactError as exc:
            return Batch(where, _count(payload), error=exc, bytes_done=done)
        batch = Batch(where, len(alerts), built.facts, bytes_done=done, spans=built.spans,
                      rejects=built.rejects)
        batch.redo = lambda: self._batch(ctx, where, payload, done)
        return batch


def _count(payload: Any) -> int:
    alerts = payload.get("alerts") if isinstance(payload, Mapping) else None
    return len(alerts) if isinstance(alerts, list) else 1


ADAPTERS = (AlertmanagerWebhook(),)
