"""Opsgenie webhooks: an alert's lifecycle as an incident.

Opsgenie's webhook integration posts ``{"action", "alert": {"alertId", "message",
"entity", "priority", "createdAt", "updatedAt", ...}, "source", "integrationName"}``,
one per file or per line. The incident node is ``incident:opsgenie-<alertId>``:

- ``Create`` opens it at ``createdAt`` (epoch milliseconds): ``status: open``,
  ``started_at``, ``detected_at``;
- ``Acknowledge``, ``UnAcknowledge``, ``Escalate``, ``AssignOwnership`` and
  ``TakeOwnership`` restate it open at ``updatedAt`` (epoch nanoseconds);
- ``Close`` resolves it at ``updatedAt`` (``resolved_at``).

Each version carries ``title`` (``message``) and ``severity`` (``priority``: ``P3``
for 3), merged with what the alert's earlier events said; ``entity`` is an
``INVOLVES`` edge when it names a component the graph has (see
:mod:`ingest.incident_events`). Other actions (notes, tags, recipients, teams,
custom actions, deletion) are skipped and counted.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graph_schema import FactError
from graph_schema.facts import Fact
from ingest.core import Batch, Context
from ingest.incident_events import incident_event_facts, merge_with_earlier
from ingest.source import Source
from ingest.webhooks import Tally, get, payload_batches, text

OPEN_ACTIONS = ("Create", "Acknowledge", "UnAcknowledge", "Escalate", "AssignOwnership",
                "TakeOwnership")


#: microseconds from an epoch time in these units
_TO_MICROS = {"ms": lambda v: v * 1000, "ns": lambda v: v // 1000}


def epoch(payload: Any, path: str, where: str, unit: str) -> int | None:
    """An integer epoch field in ``unit`` (``ms`` or ``ns``) as microseconds; absent:
    None; anything else than a non-negative integer is a FactError naming it."""
    value = get(payload, path, where, required=False)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise FactError(where, path, value, f"expected an epoch time in {unit}")
    return int(_TO_MICROS[unit](value))


def alert_facts(ctx: Context, payload: Any, where: str, tally: Tally) -> list[Fact]:
    """The facts of one Opsgenie webhook payload (see the module doc)."""
    action = text(payload, "action", where)
    if action not in OPEN_ACTIONS and action != "Close":
        return tally.skip(f"Opsgenie {action}")
    alert_id = text(payload, "alert.alertId", where)
    where = f"{where} (alert {alert_id})"
    created = epoch(payload, "alert.createdAt", where, "ms")
    updated = epoch(payload, "alert.updatedAt", where, "ns")
    at = created if action == "Create" else updated or created
    if at is None:
        raise FactError(where, "alert.updatedAt" if action != "Create" else "alert.createdAt",
                        None, "missing")
    attrs: dict[str, Any] = {"status": "open"}
    if action == "Create":
        attrs.update(started_at=at, detected_at=at)
    elif action == "Close":
        attrs.update(status="resolved", resolved_at=at)
    title = text(payload, "alert.message", where, required=False)
    if title:
        attrs["title"] = title
    priority = get(payload, "alert.priority", where, required=False)
    if isinstance(priority, int) and not isinstance(priority, bool):
        attrs["severity"] = f"P{priority}"
    elif isinstance(priority, str) and priority:
        attrs["severity"] = priority
    entity = text(payload, "alert.entity", where, required=False)
    return incident_event_facts(ctx, f"opsgenie-{alert_id}", attrs, at, where, entity,
                                tally, "Opsgenie")


def names_in(payload: Any) -> list[str]:
    entity = get(payload, "alert.entity", "", required=False)
    return [entity] if isinstance(entity, str) and entity else []


class OpsgenieWebhooks:
    """The ``opsgenie`` format."""

    name = "opsgenie"
    description = "Opsgenie webhooks: alerts created, acknowledged and closed, as incidents"
    order = 70

    def sniff(self, src: Source, head: str) -> bool:
        return src.named_like(".json", ".jsonl", ".ndjson") and '"alertId"' in head \
            and '"action"' in head and '"integrationName"' in head

    def read(self, src: Source, ctx: Context) -> Iterator[Batch]:
        return payload_batches(src, ctx, alert_facts, names_in, merge_with_earlier)


ADAPTERS = (OpsgenieWebhooks(),)
