"""What incident webhooks share (PagerDuty, Opsgenie): one event is one version of an
incident, merged with what its earlier events said.

An event gives the node ``incident:<name>`` from its time with the attributes it
carries (``status`` open or resolved, ``started_at``/``detected_at`` when it opens
the incident, ``resolved_at`` when it resolves it, title, severity, url), and an
``INVOLVES`` edge to the component the tracker's service or entity names, only when
the graph has that component: otherwise the incident is kept without the edge and a
note names it, rather than inventing a node that root-cause analysis could blame.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from graph_schema import EdgeFact, NodeFact
from graph_schema.facts import Fact
from ingest.core import Context
from ingest.snapshot import merge_current
from ingest.webhooks import Tally

#: what each version of an incident owns (a later version never inherits them)
OWNED = ("status", "resolved_at")


def incident_event_facts(ctx: Context, name: str, attrs: Mapping[str, Any], at: int,
                         where: str, involves: str | None, tally: Tally,
                         tracker: str) -> list[Fact]:
    """The facts of one incident event (see the module doc); ``involves`` is the name
    the ``tracker`` (PagerDuty, Opsgenie) gives the affected service, if any."""
    ref = f"incident:{name}"
    facts: list[Fact] = [NodeFact("incident", name, dict(attrs), at, origin=where)]
    ctx.resolver.note(ref)
    if involves:
        target = ctx.resolver.find(involves)
        if target is None:
            tally.notes.append(f"{where}: {tracker} service {involves!r} names no component "
                               "of the graph: the incident is kept without an INVOLVES edge")
        else:
            facts.append(EdgeFact("INVOLVES", ref, target, {}, at, origin=where))
    return facts


def owned(kind: str) -> tuple[str, ...]:
    """The attributes an incident event owns, by fact kind (for merge_current)."""
    return OWNED if kind == "incident" else ()


def merge_with_earlier(ctx: Context, facts: list[Fact]) -> list[Fact]:
    """Each incident version merged with what earlier events said of it then: the
    store's versions, and the earlier events of the same batch."""
    facts = merge_current(ctx, facts, None, owned)
    latest: dict[str, NodeFact] = {}
    order = sorted(range(len(facts)), key=lambda i: getattr(facts[i], "valid_from", 0))
    for i in order:
        f = facts[i]
        if not isinstance(f, NodeFact) or f.kind != "incident":
            continue
        before = latest.get(f.name)
        if before is not None:
            kept = {k: v for k, v in before.attrs.items() if k not in OWNED}
            f = facts[i] = dataclasses.replace(f, attrs={**kept, **f.attrs})
        latest[f.name] = f
    return facts
