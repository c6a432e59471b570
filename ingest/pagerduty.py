"""PagerDuty webhooks (v3): incidents as they open and resolve.

A v3 webhook posts one event, ``{"event": {"id", "event_type", "resource_type",
"occurred_at", "agent", "data": {<the incident>}}}``. The incident node is
``incident:pagerduty-<data.id>``:

- ``incident.triggered`` opens it at ``occurred_at`` (``status: open``,
  ``started_at`` and ``detected_at``);
- ``incident.acknowledged``, ``unacknowledged``, ``reopened``, ``escalated``,
  ``reassigned``, ``delegated``, ``priority_updated`` restate it open at theirs;
- ``incident.resolved`` is its resolved version from ``occurred_at``
  (``resolved_at``).

Each version carries ``title``, ``url`` (``html_url``) and ``severity`` (the
priority's name, ``P1``..., else the urgency), merged with what earlier events said
(an acknowledgement keeps the trigger's ``started_at``). The PagerDuty service
(``data.service.summary``) is an ``INVOLVES`` edge when it names a component the
graph has (see :mod:`ingest.incident_events`).
Other events (services, annotations, responders, status updates, workflows) are
skipped and counted by type.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graph_schema.facts import Fact
from ingest.core import Batch, Context
from ingest.incident_events import incident_event_facts, merge_with_earlier
from ingest.source import Source
from ingest.webhooks import Tally, get, payload_batches, text, time_of

OPEN_EVENTS = ("incident.triggered", "incident.acknowledged", "incident.unacknowledged",
               "incident.reopened", "incident.escalated", "incident.reassigned",
               "incident.delegated", "incident.priority_updated")


def event_facts(ctx: Context, payload: Any, where: str, tally: Tally) -> list[Fact]:
    """The facts of one v3 webhook payload (see the module doc)."""
    event_type = text(payload, "event.event_type", where)
    assert event_type is not None
    if event_type not in OPEN_EVENTS and event_type != "incident.resolved":
        return tally.skip(f"PagerDuty {event_type}")
    inc_id = text(payload, "event.data.id", where)
    where = f"{where} (incident {inc_id})"
    at = time_of(payload, "event.occurred_at", where)
    assert at is not None
    attrs: dict[str, Any] = {"status": "open"}
    if event_type == "incident.triggered":
        attrs.update(started_at=at, detected_at=at)
    elif event_type == "incident.resolved":
        attrs.update(status="resolved", resolved_at=at)
    for key, path in (("title", "event.data.title"), ("url", "event.data.html_url")):
        value = text(payload, path, where, required=False)
        if value:
            attrs[key] = value
    severity = text(payload, "event.data.priority.summary", where, required=False) \
        or text(payload, "event.data.urgency", where, required=False)
    if severity:
        attrs["severity"] = severity
    service = text(payload, "event.data.service.summary", where, required=False)
    return incident_event_facts(ctx, f"pagerduty-{inc_id}", attrs, at, where, service,
                                tally, "PagerDuty")


def names_in(payload: Any) -> list[str]:
    service = get(payload, "event.data.service.summary", "", required=False)
    return [service] if isinstance(service, str) and service else []


class PagerDutyWebhooks:
    """The ``pagerduty`` format."""

    name = "pagerduty"
    description = "PagerDuty v3 webhooks: incidents triggered, acknowledged and resolved"
    order = 70

    def sniff(self, src: Source, head: str) -> bool:
        return src.named_like(".json", ".jsonl", ".ndjson") and '"event_type"' in head \
            and '"resource_type"' in head and '"occurred_at"' in head

    def read(self, src: Source, ctx: Context) -> Iterator[Batch]:
        return payload_batches(src, ctx, event_facts, names_in, merge_with_earlier)


ADAPTERS = (PagerDutyWebhooks(),)
