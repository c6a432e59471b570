"""Alarms and other control-plane events: a store log stream (``events``) and
in-process counters the API exports as metrics."""

from __future__ import annotations

from collections import Counter
from typing import Any

from ccm.store import Store
from graph_schema import format_time

STREAM = "events"
#: events emitted by this process, by name (exported as ccm_events_total{name=...})
COUNTS: Counter[str] = Counter()


def emit(store: Store, name: str, subject: str, detail: dict[str, Any], now: int) -> None:
    """Record an event durably and count it."""
    COUNTS[name] += 1
    store.append_log(STREAM, lambda prev, seq: {"seq": seq, "t": now, "time": format_time(now),
                                                "name": name, "subject": subject,
                                                "detail": detail})


def events(store: Store, after: int = 0) -> list[dict[str, Any]]:
    return [doc for _, doc in store.read_log(STREAM, after)]
