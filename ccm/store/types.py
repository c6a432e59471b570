"""Values the stores return: versions, graphs at a time, diffs, histories, write results."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from graph_schema.facts import present_attrs
from graph_schema.timeutil import OPEN, format_time


class _Version:
    __slots__ = ("_attrs", "attrs_json", "hash", "origin", "recorded_at", "seq", "source",
                 "superseded_at", "valid_from", "valid_to")

    def __init__(self, attrs_json: str, hash: str, valid_from: int, valid_to: int,
                 recorded_at: int, superseded_at: int, source: str, origin: str,
                 seq: int) -> None:
        self.attrs_json = attrs_json
        self.hash = hash
        self.valid_from = valid_from
        self.valid_to = valid_to
        self.recorded_at = recorded_at
        self.superseded_at = superseded_at
        self.source = source
        self.origin = origin
        self.seq = seq
        self._attrs: dict[str, Any] | None = None

    @property
    def attrs(self) -> dict[str, Any]:
        """The attributes (decoded on first access)."""
        if self._attrs is None:
            self._attrs = json.loads(self.attrs_json)
        return self._attrs

    @property
    def is_open(self) -> bool:
        return self.valid_to == OPEN

    def _time_dict(self) -> dict[str, Any]:
        return {
            "valid_from": format_time(self.valid_from),
            "valid_to": format_time(self.valid_to),
            "recorded_at": format_time(self.recorded_at),
        }


class NodeVersion(_Version):
    """One version of a node: its attributes over ``[valid_from, valid_to)``."""

    __slots__ = ("kind", "name", "ref")

    def __init__(self, ref: str, attrs_json: str, hash: str, valid_from: int, valid_to: int,
                 recorded_at: int, superseded_at: int = OPEN, source: str = "",
                 origin: str = "", seq: int = 0) -> None:
        super().__init__(attrs_json, hash, valid_from, valid_to, recorded_at, superseded_at,
                         source, origin, seq)
        self.ref = ref
        self.kind, self.name = ref.split(":", 1)

    @property
    def fact_id(self) -> str:
        return self.ref

    def to_dict(self) -> dict[str, Any]:
        return {"type": "node", "ref": self.ref, "kind": self.kind, "name": self.name,
                "attrs": present_attrs(self.kind, self.attrs), **self._time_dict()}

    def __repr__(self) -> str:
        return (f"NodeVersion({self.ref!r}, {self.attrs_json}, "
                f"[{format_time(self.valid_from)}, {format_time(self.valid_to)}))")


class EdgeVersion(_Version):
    """One version of an edge ``src -[kind]-> dst``."""

    __slots__ = ("dst", "kind", "src")

    def __init__(self, kind: str, src: str, dst: str, attrs_json: str, hash: str,
                 valid_from: int, valid_to: int, recorded_at: int, superseded_at: int = OPEN,
                 source: str = "", origin: str = "", seq: int = 0) -> None:
        super().__init__(attrs_json, hash, valid_from, valid_to, recorded_at, superseded_at,
                         source, origin, seq)
        self.kind = kind
        self.src = src
        self.dst = dst

    @property
    def fact_id(self) -> str:
        return f"{self.src}|{self.kind}|{self.dst}"

    def to_dict(self) -> dict[str, Any]:
        return {"type": "edge", "kind": self.kind, "from": self.src, "to": self.dst,
                "attrs": present_attrs(self.kind, self.attrs), **self._time_dict()}

    def __repr__(self) -> str:
        return (f"EdgeVersion({self.src!r} -[{self.kind}]-> {self.dst!r}, {self.attrs_json}, "
                f"[{format_time(self.valid_from)}, {format_time(self.valid_to)}))")


Version = NodeVersion | EdgeVersion


@dataclass(slots=True)
class Graph:
    """The graph as it was true at ``valid_at``, as known at ``known_at``.

    Edges whose endpoints are not both present at ``valid_at`` are left out.
    """

    valid_at: int
    known_at: int
    nodes: dict[str, NodeVersion] = field(default_factory=dict)
    edges: dict[str, EdgeVersion] = field(default_factory=dict)

    def nodes_of(self, *kinds: str) -> Iterator[NodeVersion]:
        return (n for n in self.nodes.values() if not kinds or n.kind in kinds)

    def edges_of(self, *kinds: str) -> Iterator[EdgeVersion]:
        return (e for e in self.edges.values() if not kinds or e.kind in kinds)

    def to_networkx(self, edge_kinds: tuple[str, ...] = ()) -> Any:
        """A networkx MultiDiGraph with node/edge attributes (for oracles and drawing)."""
        import networkx as nx

        g = nx.MultiDiGraph()
        for n in self.nodes.values():
            g.add_node(n.ref, kind=n.kind, **n.attrs)
        for e in self.edges_of(*edge_kinds):
            g.add_edge(e.src, e.dst, key=e.kind, kind=e.kind, **e.attrs)
        return g

    def to_dict(self) -> dict[str, Any]:
        return {
            "valid_at": format_time(self.valid_at),
            "known_at": format_time(self.known_at),
            "nodes": [n.to_dict() for n in sorted(self.nodes.values(), key=lambda n: n.ref)],
            "edges": [e.to_dict() for e in sorted(self.edges.values(), key=lambda e: e.fact_id)],
        }


@dataclass(slots=True)
class GraphDiff:
    """Facts added, removed and changed between the graph at ``t1`` and at ``t2``."""

    t1: int
    t2: int
    known_at: int
    added: list[Version] = field(default_factory=list)
    removed: list[Version] = field(default_factory=list)
    changed: list[tuple[Version, Version]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.changed)

    def to_dict(self) -> dict[str, Any]:
        return {
            "t1": format_time(self.t1), "t2": format_time(self.t2),
            "known_at": format_time(self.known_at),
            "added": [v.to_dict() for v in self.added],
            "removed": [v.to_dict() for v in self.removed],
            "changed": [{"before": a.to_dict(), "after": b.to_dict()} for a, b in self.changed],
        }


@dataclass(slots=True)
class History:
    """Every version of one node, and of the edges to and from it, over valid time."""

    ref: str
    known_at: int
    node: list[NodeVersion] = field(default_factory=list)
    edges: list[EdgeVersion] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ref": self.ref, "known_at": format_time(self.known_at),
            "node": [v.to_dict() for v in self.node],
            "edges": [v.to_dict() for v in self.edges],
        }


@dataclass(frozen=True, slots=True)
class Mark:
    """Where a store's knowledge stands: its revision (moved by every write that changed
    the graph) and that write's ``recorded_at``, read together."""

    revision: int
    recorded_at: int


@dataclass(slots=True)
class WriteResult:
    """What one write did: facts added (or versioned), unchanged, and versions closed."""

    added: int = 0
    unchanged: int = 0
    closed: int = 0
    recorded_at: int | None = None
    #: the same counts for each part of a write made of parts (``write(parts=...)``)
    parts: list[WriteResult] = field(default_factory=list)

    def __add__(self, other: WriteResult) -> WriteResult:
        return WriteResult(self.added + other.added, self.unchanged + other.unchanged,
                           self.closed + other.closed, other.recorded_at or self.recorded_at)

    def to_dict(self) -> dict[str, Any]:
        return {"added": self.added, "unchanged": self.unchanged, "closed": self.closed}


def diff_graphs(a: Graph, b: Graph) -> GraphDiff:
    """Compare two graphs fact by fact (shared by every store)."""
    d = GraphDiff(a.valid_at, b.valid_at, b.known_at)
    for table_a, table_b in ((a.nodes, b.nodes), (a.edges, b.edges)):
        for fid, vb in table_b.items():
            va = table_a.get(fid)
            if va is None:
                d.added.append(vb)
            elif va.hash != vb.hash:
                d.changed.append((va, vb))
        d.removed.extend(va for fid, va in table_a.items() if fid not in table_b)
    d.added.sort(key=lambda v: v.fact_id)
    d.removed.sort(key=lambda v: v.fact_id)
    d.changed.sort(key=lambda p: p[0].fact_id)
    return d
