"""The graph at a time, a node's neighbourhood in it, and diffs: as the front doors serve them."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from typing import Any

from ccm.errors import NotFound
from ccm.store import Graph, Store

__all__ = ["graph_view", "neighbourhood"]


def neighbourhood(g: Graph, center: str, depth: int) -> Graph:
    """The nodes within ``depth`` hops of ``center`` (edges followed both ways) and the
    edges between them. Raises :class:`NotFound` when ``center`` is not in ``g``."""
    if center not in g.nodes:
        raise NotFound(f"no node {center!r} in the graph at that time (references look "
                       "like service:cart or config:cart/REDIS_ADDR)")
    adjacent: dict[str, list[str]] = {}
    for e in g.edges.values():
        adjacent.setdefault(e.src, []).append(e.dst)
        adjacent.setdefault(e.dst, []).append(e.src)
    seen = {center: 0}
    queue = deque([center])
    while queue:
        ref = queue.popleft()
        if seen[ref] >= depth:
            continue
        for nxt in adjacent.get(ref, ()):
            if nxt not in seen:
                seen[nxt] = seen[ref] + 1
                queue.append(nxt)
    return _restrict(g, seen)


def _restrict(g: Graph, keep: Iterable[str]) -> Graph:
    keep_set = set(keep)
    out = Graph(g.valid_at, g.known_at, {r: n for r, n in g.nodes.items() if r in keep_set})
    out.edges = {f: e for f, e in g.edges.items() if e.src in out.nodes and e.dst in out.nodes}
    return out


def graph_view(store: Store, valid_at: int | None = None, known_at: int | None = None, *,
               node: str | None = None, depth: int = 1, kinds: Iterable[str] = (),
               limit: int | None = None) -> dict[str, Any]:
    """The graph (or a node's neighbourhood) as a JSON-ready dict.

    ``kinds`` keeps only nodes of those kinds (and edges between them); ``limit``
    keeps the first nodes by reference and says ``truncated``; ``revision`` is the
    store's revision read before the graph (the graph includes every write up to it).
    """
    revision = store.revision()
    g = store.graph(valid_at, known_at)
    if node is not None:
        g = neighbourhood(g, node, depth)
    kinds = set(kinds)
    if kinds:
        g = _restrict(g, (r for r, n in g.nodes.items() if n.kind in kinds or r == node))
    truncated = False
    if limit is not None and len(g.nodes) > limit:
        g = _restrict(g, sorted(g.nodes, key=lambda r: (r != node, r))[:limit])
        truncated = True
    out = g.to_dict()
    out["truncated"] = truncated
    out["revision"] = revision
    if node is not None:
        out["center"], out["depth"] = node, depth
    return out
