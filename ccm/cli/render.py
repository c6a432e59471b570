"""Tables for people: graphs, histories and diffs rendered with rich."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from rich.table import Table

from ccm.store.types import EdgeVersion, Graph, GraphDiff, History, NodeVersion, Version
from graph_schema import format_time, present_attrs

_SHOWN_ATTRS = 4


def short_attrs(attrs: dict[str, Any], limit: int = _SHOWN_ATTRS, kind: str = "") -> str:
    attrs = present_attrs(kind, attrs) if kind else attrs
    items = [(k, v) for k, v in sorted(attrs.items()) if k not in ("evidence", "labels",
                                                                   "annotations", "diff")]
    text = ", ".join(f"{k}={_val(v)}" for k, v in items[:limit])
    if len(items) > limit:
        text += f", +{len(items) - limit}"
    return text


def _val(v: Any) -> str:
    if isinstance(v, str):
        return v if len(v) <= 40 else v[:37] + "..."
    return json.dumps(v)


def when(t: int | None) -> str:
    return format_time(t) or "-"


def graph_summary(g: Graph) -> str:
    nodes = Counter(n.kind for n in g.nodes.values())
    edges = Counter(e.kind for e in g.edges.values())
    n_txt = ", ".join(f"{c} {k}" for k, c in sorted(nodes.items())) or "no nodes"
    e_txt = ", ".join(f"{c} {k}" for k, c in sorted(edges.items())) or "no edges"
    return f"{len(g.nodes)} nodes ({n_txt}); {len(g.edges)} edges ({e_txt})"


def nodes_table(nodes: list[NodeVersion], title: str, limit: int) -> Table:
    t = Table(title=title, title_justify="left")
    t.add_column("node")
    t.add_column("since")
    t.add_column("attributes", overflow="fold")
    for n in nodes[:limit]:
        t.add_row(n.ref, when(n.valid_from), short_attrs(n.attrs, kind=n.kind))
    if len(nodes) > limit:
        t.add_row(f"... {len(nodes) - limit} more", "", "")
    return t


def edges_table(edges: list[EdgeVersion], title: str, limit: int) -> Table:
    t = Table(title=title, title_justify="left")
    t.add_column("from")
    t.add_column("edge")
    t.add_column("to")
    t.add_column("attributes", overflow="fold")
    for e in edges[:limit]:
        t.add_row(e.src, e.kind, e.dst, short_attrs(e.attrs, kind=e.kind))
    if len(edges) > limit:
        t.add_row(f"... {len(edges) - limit} more", "", "", "")
    return t


def graph_tables(g: Graph, limit: int = 200) -> list[Table]:
    nodes = sorted(g.nodes.values(), key=lambda n: (n.kind, n.ref))
    edges = sorted(g.edges.values(), key=lambda e: (e.kind, e.src, e.dst))
    return [nodes_table(nodes, "Nodes", limit), edges_table(edges, "Edges", limit)]


def _fact_label(v: Version) -> str:
    if isinstance(v, NodeVersion):
        return v.ref
    return f"{v.src} -[{v.kind}]-> {v.dst}"


def attr_changes(a: dict[str, Any], b: dict[str, Any]) -> str:
    keys = sorted(set(a) | set(b))
    parts = [f"{k}: {_val(a.get(k)) if k in a else '∅'} -> {_val(b.get(k)) if k in b else '∅'}"
             for k in keys if a.get(k) != b.get(k)]
    return "; ".join(parts)


def diff_table(d: GraphDiff, limit: int = 200) -> Table:
    t = Table(title=f"Changes between {when(d.t1)} and {when(d.t2)}", title_justify="left")
    t.add_column("", width=1)
    t.add_column("fact")
    t.add_column("what", overflow="fold")
    rows: list[tuple[str, str, str]] = []
    rows += [("+", _fact_label(v), short_attrs(v.attrs, kind=v.kind)) for v in d.added]
    rows += [("-", _fact_label(v), f"ended {when(v.valid_to)}") for v in d.removed]
    rows += [("~", _fact_label(b), attr_changes(a.attrs, b.attrs)) for a, b in d.changed]
    for sign, label, what in rows[:limit]:
        style = {"+": "green", "-": "red", "~": "yellow"}[sign]
        t.add_row(f"[{style}]{sign}[/{style}]", label, what)
    if len(rows) > limit:
        t.add_row("", f"... {len(rows) - limit} more", "")
    return t


def history_tables(h: History) -> list[Table]:
    t = Table(title=f"History of {h.ref}", title_justify="left")
    for col in ("valid from", "valid to", "recorded", "attributes"):
        t.add_column(col, overflow="fold" if col == "attributes" else "ellipsis")
    for v in h.node:
        t.add_row(when(v.valid_from), when(v.valid_to), when(v.recorded_at),
                  short_attrs(v.attrs, 8, kind=v.kind))
    e = Table(title=f"Edges of {h.ref}", title_justify="left")
    for col in ("edge", "valid from", "valid to", "attributes"):
        e.add_column(col, overflow="fold")
    for ev in h.edges:
        e.add_row(_fact_label(ev), when(ev.valid_from), when(ev.valid_to),
                  short_attrs(ev.attrs, kind=ev.kind))
    return [t, e]
