"""What only CCM's control plane writes: memory. Ingest refuses it.

Memory (:mod:`ccm.memory`) learns from ``action`` nodes (their outcomes and observed edge
evidence), from the ``outcome`` and ``tenant`` of ``change`` nodes, from any node's
``tenant`` (what a tenant's memory owns) and from the learned ``propagation`` of
``DEPENDS_ON`` edges. Those are written only by the action lifecycle and by resolved
incidents (``ccm.memory.Memory``); a record of generic ingest that would write one is
refused, naming the field, so that an ``ingest:write`` token cannot forge another
tenant's outcomes. Ingested postmortems (shared ``incident`` nodes, no tenant) stay
ingest's to write.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from graph_schema import EdgeFact, FactError, NodeFact
from graph_schema.facts import Fact

__all__ = ["MEMORY_ATTRS", "refuse_memory_facts"]

#: (node or edge kind, attribute) pairs only memory writes; "*": every kind
MEMORY_ATTRS: frozenset[tuple[str, str]] = frozenset({
    ("*", "tenant"), ("change", "outcome"), ("DEPENDS_ON", "propagation")})
_WHY = "written only by CCM's action lifecycle (memory), never by ingest"
#: the attribute names of MEMORY_ATTRS: a fact with none of them is not looked at further
_KEYS = frozenset(key for _, key in MEMORY_ATTRS)


def refuse_memory_facts(facts: Iterable[Fact], where: str) -> None:
    """Raise FactError naming the first field of ``facts`` that only memory may write."""
    for fact in facts:
        if isinstance(fact, NodeFact):
            if fact.kind == "action":
                raise FactError(where, "kind", "action", f"action nodes are {_WHY}")
            kind = fact.kind
        elif isinstance(fact, EdgeFact):
            for field, end in (("from", fact.src), ("to", fact.dst)):
                if isinstance(end, str) and end.startswith("action:"):
                    raise FactError(where, field, end, f"action nodes are {_WHY}")
            kind = fact.kind
        else:
            continue
        attrs = fact.attrs
        if not isinstance(attrs, Mapping) or attrs.keys().isdisjoint(_KEYS):
            continue
        for key in attrs:
            if ("*", key) in MEMORY_ATTRS or (kind, key) in MEMORY_ATTRS:
                raise FactError(where, f"attrs.{key}", attrs[key],
                                f"{kind} {key!r} is {_WHY}")
