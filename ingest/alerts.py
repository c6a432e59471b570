"""The mapping every alert format shares (native JSONL, Alertmanager webhooks).

An alert becomes the node ``alert:<id>`` (valid from its onset until it
resolves) and ``alert:<id> -[SYMPTOM_OF {signal}]-> <node>``. The node is a
reference or a bare name resolved as the spec says; a name that matches no
node becomes a ``service:`` node from the alert's onset. Label, annotation and
summary text is stored as data and never interpreted.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graph_schema import EdgeFact, NodeFact, validate
from graph_schema.facts import Fact
from ingest.core import Context


def alert_facts(ctx: Context, *, alert_id: str, starts_at: int, service: str, signal: str,
                where: str, source: str = "", ends_at: int | None = None,
                attrs: Mapping[str, Any] | None = None) -> list[Fact]:
    """Facts for one alert. ``attrs`` adds alert attributes (alertname, severity,
    labels, annotations, summary, fingerprint, generator_url)."""
    node_ref = ctx.resolver.resolve(service)
    facts: list[Fact] = []
    if not ctx.resolver.exists(node_ref):
        kind, name = node_ref.split(":", 1)
        facts.append(NodeFact(kind, name, {}, starts_at, source=source, origin=where))
        ctx.resolver.note(node_ref)
    status = "resolved" if ends_at is not None else "firing"
    a: dict[str, Any] = {"service": node_ref, "signal": signal, "status": status,
                         "starts_at": starts_at, **(attrs or {})}
    if ends_at is not None:
        a["ends_at"] = ends_at
    facts.append(NodeFact("alert", alert_id, a, starts_at, ends_at, source=source, origin=where))
    facts.append(EdgeFact("SYMPTOM_OF", f"alert:{alert_id}", node_ref, {"signal": signal},
                          starts_at, ends_at, source=source, origin=where))
    ctx.resolver.note(f"alert:{alert_id}")
    return [validate(f) for f in facts]
