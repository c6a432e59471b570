"""The graph at a time, a node's neighbourhood in it, and diffs: as the front doors serve them."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

from ccm.errors import NotFound
from ccm.store import Graph, Store
from ccm.store.types import NodeVersion, diff_graphs

__all__ = ["graph_view", "history_view", "diff_view", "neighbourhood", "owner_tenant",
           "tenant_view"]

#: whether the caller may see a tenant's memory (``Identity.sees_tenant``)
SeesTenant = Callable[[str], bool]


def owner_tenant(node: NodeVersion) -> str | None:
    """The tenant whose memory a node is (an action, or what CCM wrote back for a tenant),
    or None for shared facts (everything ingested)."""
    owner = node.attrs.get("tenant")
    if owner:
        return str(owner)
    return "default" if node.kind == "action" else None


def tenant_view(g: Graph, sees: SeesTenant | None) -> Graph:
    """``g`` without the nodes of tenants ``sees`` refuses (and their edges)."""
    if sees is None:
        return g
    hidden = [r for r, n in g.nodes.items()
              if (t := owner_tenant(n)) is not None and not sees(t)]
    return _restrict(g, set(g.nodes).difference(hidden)) if hidden else g


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
               limit: int | None = None, sees: SeesTenant | None = None) -> dict[str, Any]:
    """The graph (or a node's neighbourhood) as a JSON-ready dict.

    ``kinds`` keeps only nodes of those kinds (and edges between them); ``limit``
    keeps the first nodes by reference and says ``truncated``; ``sees`` leaves out the
    memory of tenants the caller may not see (their nodes do not exist for it);
    ``revision`` is the store's revision read before the graph (the graph includes
    every write up to it).
    """
    revision = store.revision()
    g = tenant_view(store.graph(valid_at, known_at), sees)
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


def diff_view(store: Store, t1: int, t2: int, known_at: int | None = None, *,
              sees: SeesTenant | None = None) -> dict[str, Any]:
    """Facts added, removed and changed between ``t1`` and ``t2`` that the caller may see."""
    if sees is None:
        return store.diff(t1, t2, known_at).to_dict()
    return diff_graphs(tenant_view(store.graph(t1, known_at), sees),
                       tenant_view(store.graph(t2, known_at), sees)).to_dict()


def history_view(store: Store, ref: str, known_at: int | None = None, *,
                 sees: SeesTenant | None = None) -> dict[str, Any]:
    """Every version of a node and its edges; a node of a tenant the caller may not see
    is not found, and edges to such nodes are left out."""
    h = store.history(ref, known_at)
    if sees is None:
        return h.to_dict()

    def hidden(node: NodeVersion | None) -> bool:
        t = owner_tenant(node) if node is not None else None
        return t is not None and not sees(t)

    if any(hidden(v) for v in h.node):
        raise NotFound(f"no node {ref!r}")
    ends = {(e.dst if e.src == ref else e.src, e.valid_from) for e in h.edges}
    versions = store.versions_at_times(ends)
    h.edges = [e for e in h.edges if not hidden(_node(versions.get(
        (e.dst if e.src == ref else e.src, e.valid_from))))]
    return h.to_dict()


def _node(v: Any) -> NodeVersion | None:
    return v if isinstance(v, NodeVersion) else None
