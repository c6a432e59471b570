"""What the graph lacks: the coverage a user needs before trusting it.

:func:`coverage` reads the graph true at a valid time (one read of the store,
:meth:`~ccm.store.base.Store.graph`: two queries) and reports, in one pass over its
nodes and edges:

- **components without dependencies**: service, datastore, cache, queue, gateway and
  external nodes that no ``DEPENDS_ON`` edge starts or ends at (a manifest set whose
  hosts are compiled into images gives a graph of islands: every prediction and
  root cause then stops at the first node);
- **placeholders**: nodes a source named but no defining source wrote, listed with
  the source of their version and its origin (the file and record that named them):
  nodes marked :data:`~ingest.core.PLACEHOLDER_SOURCE` (a ConfigMap no manifest
  defines, a Backstage owner, system or API no entity defines, the bare-name target of
  an alert or a change), and components whose version came from a source that does not
  define components (traces: ``jaeger``, ``otlp``). A Kubernetes object (source
  ``k8s:...``), a Backstage entity (``backstage:...``) and native JSONL (no source)
  define nodes; a change defines the configuration values it sets;
- **unresolved placeholders**: components with ``unresolved: true`` (alerts whose
  labels name no known component are attached to one), with the alerts attached then.

>>> from ccm.store import open_store
>>> from graph_schema import NodeFact
>>> store = open_store(":memory:")
>>> _ = store.write([NodeFact("service", "cart", {}, 0)])
>>> coverage(store, at=1).without_dependencies
['service:cart']
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ccm.store.base import Store
from ccm.store.types import Graph
from graph_schema.kinds import COMPONENT_KINDS
from graph_schema.timeutil import format_time
from ingest.core import PLACEHOLDER_SOURCE

__all__ = ["DEFINING_SOURCES", "Coverage", "Placeholder", "Unresolved", "coverage",
           "coverage_of", "is_defining", "is_placeholder"]

#: source prefixes of the facts that define nodes (besides native JSONL's empty source)
DEFINING_SOURCES = ("k8s:", "backstage:")
#: node kinds that sources name (events - alerts, changes, incidents - are not named)
NAMED_KINDS = frozenset(COMPONENT_KINDS) | {"config", "zone", "team", "system", "api"}
_COMPONENTS = frozenset(COMPONENT_KINDS)
#: how ``unresolved: true`` reads in stored (canonical) attribute JSON
_UNRESOLVED_JSON = '"unresolved":true'


def is_defining(source: str) -> bool:
    """Whether a fact of ``source`` defines its node (rather than only naming it)."""
    return not source or source.startswith(DEFINING_SOURCES)


def is_placeholder(kind: str, source: str) -> bool:
    """Whether a node of ``kind`` whose version came from ``source`` is a placeholder:
    marked as one, or a component that only a source not defining components wrote."""
    return source == PLACEHOLDER_SOURCE or (kind in _COMPONENTS and not is_defining(source))


@dataclass(frozen=True, slots=True)
class Placeholder:
    """A node a source named but no defining source wrote."""

    ref: str
    #: the source of its version: ``placeholder``, or the adapter that created it
    source: str
    #: the record that named it (file and line, document or alert)
    origin: str

    def to_dict(self) -> dict[str, str]:
        return {"ref": self.ref, "source": self.source, "origin": self.origin}


@dataclass(frozen=True, slots=True)
class Unresolved:
    """A component with ``unresolved: true`` and the alerts attached to it."""

    ref: str
    origin: str
    alerts: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"ref": self.ref, "origin": self.origin, "alerts": list(self.alerts)}


@dataclass(slots=True)
class Coverage:
    """What the graph true at ``valid_at`` (as known at ``known_at``) lacks."""

    valid_at: int
    known_at: int
    #: component nodes (unresolved placeholders not counted)
    components: int = 0
    #: DEPENDS_ON edges
    dependencies: int = 0
    without_dependencies: list[str] = field(default_factory=list)
    placeholders: list[Placeholder] = field(default_factory=list)
    unresolved: list[Unresolved] = field(default_factory=list)

    @property
    def unresolved_alerts(self) -> int:
        """Alerts attached to unresolved placeholders."""
        return sum(len(u.alerts) for u in self.unresolved)

    @property
    def lacking(self) -> bool:
        """Whether anything is listed: a component without dependencies, a placeholder,
        an unresolved placeholder."""
        return bool(self.without_dependencies or self.placeholders or self.unresolved)

    def to_dict(self) -> dict[str, Any]:
        return {
            "valid_at": format_time(self.valid_at),
            "known_at": format_time(self.known_at),
            "components": self.components,
            "dependencies": self.dependencies,
            "without_dependencies": self.without_dependencies,
            "placeholders": [p.to_dict() for p in self.placeholders],
            "unresolved": [u.to_dict() for u in self.unresolved],
            "unresolved_alerts": self.unresolved_alerts,
            "lacking": self.lacking,
        }


def coverage(store: Store, at: int | None = None, known_at: int | None = None) -> Coverage:
    """What the graph true at ``at`` (default: now), as known at ``known_at`` (default:
    everything recorded), lacks. One read of the graph; linear in its size."""
    return coverage_of(store.graph(at, known_at))


def coverage_of(graph: Graph) -> Coverage:
    """What ``graph`` lacks (see the module docstring). Lists are sorted by reference."""
    cov = Coverage(graph.valid_at, graph.known_at)
    unresolved: dict[str, list[str]] = {}
    for n in graph.nodes.values():
        if n.kind in _COMPONENTS and _UNRESOLVED_JSON in n.attrs_json \
                and n.attrs.get("unresolved") is True:
            unresolved[n.ref] = []
    linked: set[str] = set()
    for e in graph.edges.values():
        if e.kind == "DEPENDS_ON":
            cov.dependencies += 1
            linked.add(e.src)
            linked.add(e.dst)
        elif e.kind == "SYMPTOM_OF" and e.dst in unresolved:
            unresolved[e.dst].append(e.src)
    for ref, n in graph.nodes.items():
        if ref in unresolved or n.kind not in NAMED_KINDS:
            continue
        if n.kind in _COMPONENTS:
            cov.components += 1
            if ref not in linked:
                cov.without_dependencies.append(ref)
        if is_placeholder(n.kind, n.source):
            cov.placeholders.append(Placeholder(ref, n.source, n.origin))
    cov.without_dependencies.sort()
    cov.placeholders.sort(key=lambda p: p.ref)
    cov.unresolved = [Unresolved(ref, graph.nodes[ref].origin, tuple(sorted(alerts)))
                      for ref, alerts in sorted(unresolved.items())]
    return cov
