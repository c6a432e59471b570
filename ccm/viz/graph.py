"""The dependency graph drawn with networkx and matplotlib: a layered layout, a root-cause
chain highlighted (with a postmortem's chain beside it), an action's blast radius
coloured by probability.

>>> g = store.graph(at)                                   # doctest: +SKIP
>>> draw_chain(g, chains[0].nodes, truth=truth.chain)     # doctest: +SKIP
>>> draw_impact(g, impact.nodes, seeds=[impact.action.target])   # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import networkx as nx

from ccm.store import Graph
from graph_schema import COMPONENT_KINDS

__all__ = ["KIND_COLOURS", "chain_roles", "dependency_graph", "draw_chain", "draw_graph",
           "draw_impact", "layered_layout"]

#: fill colour of a node by kind (components, and the extra nodes a chain brings)
KIND_COLOURS = {
    "service": "#8fb8de", "gateway": "#a9c9a4", "datastore": "#c3a6d8", "cache": "#f2c48d",
    "queue": "#8fd3c7", "external": "#d0d0d0", "config": "#f6e58d", "change": "#f5a3a3",
    "alert": "#ff7b7b",
}
#: where an extra node sits relative to the drawn node it hangs from (dx, dy)
_OFFSETS = {"config": (0.5, -0.5), "change": (0.0, -0.5), "alert": (0.5, 0.45)}
_PLACE_FIRST = {"config": 0, "alert": 0, "change": 1}
_ANCHOR_EDGES = ("HAS_CONFIG", "CHANGED", "SYMPTOM_OF")
CHAIN_COLOUR, TRUTH_COLOUR = "#d62728", "#2ca02c"


def dependency_graph(graph: Graph, extra: Iterable[str] = ()) -> nx.DiGraph:
    """The components of ``graph`` and their ``DEPENDS_ON`` edges (caller -> callee), plus
    the ``extra`` nodes (changes, config keys, alerts: say, a chain's) with the
    ``HAS_CONFIG``, ``CHANGED`` and ``SYMPTOM_OF`` edges that join them to the rest.
    References missing from ``graph`` are added bare (kind from the reference)."""
    g = nx.DiGraph()
    for n in graph.nodes.values():
        if n.kind in COMPONENT_KINDS:
            g.add_node(n.ref, kind=n.kind, name=n.name)
    for ref in extra:
        if ref not in g:
            node = graph.nodes.get(ref)
            kind, _, name = ref.partition(":")
            g.add_node(ref, kind=node.kind if node else kind, name=node.name if node else name,
                       extra=True)
    for e in graph.edges.values():
        if e.src in g and e.dst in g and (e.kind == "DEPENDS_ON" or (
                e.kind in _ANCHOR_EDGES and (g.nodes[e.src].get("extra")
                                             or g.nodes[e.dst].get("extra")))):
            g.add_edge(e.src, e.dst, kind=e.kind)
    return g


def _layers(g: nx.DiGraph) -> dict[str, int]:
    """Longest-path layer from the nodes nobody depends on (strongly connected components
    share a layer)."""
    cond = nx.condensation(g)
    layer: dict[int, int] = {}
    for c in nx.topological_sort(cond):
        layer[c] = max((layer[p] + 1 for p in cond.predecessors(c)), default=0)
    mapping = cond.graph["mapping"]
    return {n: layer[mapping[n]] for n in g}


def _order(g: nx.DiGraph, layer: Mapping[str, int], sweeps: int = 4) -> dict[int, list[str]]:
    rows: dict[int, list[str]] = {}
    for n in sorted(layer):
        rows.setdefault(layer[n], []).append(n)
    depth = max(rows, default=0)
    for sweep in range(sweeps):
        down = sweep % 2 == 0
        for i in (range(1, depth + 1) if down else range(depth - 1, -1, -1)):
            ref_row = {n: k for k, n in enumerate(rows.get(i - 1 if down else i + 1, []))}
            if not ref_row:
                continue

            def centre(n: str, ref_row: dict[str, int] = ref_row) -> float:
                near = [ref_row[m] for m in (*g.predecessors(n), *g.successors(n))
                        if m in ref_row]
                return sum(near) / len(near) if near else float(len(ref_row)) / 2
            rows[i] = sorted(rows[i], key=lambda n: (centre(n), n))
    return rows


def _free_spot(pos: Mapping[str, tuple[float, float]], at: tuple[float, float],
               kind: str) -> tuple[float, float]:
    """The first spot around ``at`` (the kind's usual side first) clear of every node and
    its label."""
    dx, dy = _OFFSETS.get(kind, (0.5, -0.5))
    tries = [(dx, dy), (0.5, dy), (-0.5, dy), (1.0, dy), (-1.0, dy), (0.5, -dy), (-0.5, -dy),
             (0.0, 2 * dy), (1.5, dy), (-1.5, dy)]
    for ox, oy in tries:
        spot = (at[0] + ox, at[1] + oy)
        if all(abs(spot[0] - x) >= 0.9 or abs(spot[1] - y) >= 0.45 for x, y in pos.values()):
            return spot
    return (at[0] + dx, at[1] + dy)


def layered_layout(g: nx.DiGraph, *, gap: float = 1.0) -> dict[str, tuple[float, float]]:
    """Positions for drawing: callers above what they call (components in layers by longest
    dependency path, ordered to keep edges short), and extra nodes (config keys, changes,
    alerts) beside the component they hang from. Deterministic."""
    comps = g.subgraph(n for n in g if not g.nodes[n].get("extra"))
    rows = _order(comps, _layers(comps)) if len(comps) else {}
    widest = max((len(r) for r in rows.values()), default=1)
    pos: dict[str, tuple[float, float]] = {}
    for depth, row in rows.items():
        spread = gap * widest / max(len(row), 1)
        for k, n in enumerate(row):
            pos[n] = ((k - (len(row) - 1) / 2) * spread, -float(depth))
    pending = sorted((n for n in g if n not in pos),
                     key=lambda n: (_PLACE_FIRST.get(g.nodes[n].get("kind", ""), 2), n))
    for _ in range(len(pending) + 1):  # extras may hang from extras (change -> config)
        for n in list(pending):
            near = [m for m in (*g.successors(n), *g.predecessors(n)) if m in pos]
            anchor = next((m for m in near if g.nodes[m].get("extra")), near[0] if near else None)
            if anchor is None:
                continue
            pos[n] = _free_spot(pos, pos[anchor], g.nodes[n].get("kind", ""))
            pending.remove(n)
    for k, n in enumerate(sorted(pending)):  # nothing to hang from
        pos[n] = ((k - (len(pending) - 1) / 2) * gap, 1.0)
    return pos


def chain_roles(chain: Sequence[str], truth: Sequence[str] = ()) -> dict[str, str]:
    """Each node of either chain: ``both``, ``chain`` (the predicted one only) or
    ``truth`` (the confirmed one only)."""
    out = {n: "truth" for n in truth}
    for n in chain:
        out[n] = "both" if n in out else "chain"
    return out


def _name(g: nx.DiGraph, n: str) -> str:
    name = str(g.nodes[n].get("name") or n.split(":", 1)[-1])
    return name.split("/", 1)[-1] if g.nodes[n].get("kind") == "config" else name


NODE_SIZE = 520


def draw_graph(g: nx.DiGraph, pos: Mapping[str, tuple[float, float]] | None = None,
               ax: Any = None, *, fill: Mapping[str, Any] | None = None,
               outline: Mapping[str, str] | None = None, inside: Mapping[str, str] | None = None,
               title: str | None = None) -> Any:
    """Draw ``g`` (see :func:`dependency_graph`): nodes filled by kind unless ``fill`` says
    otherwise, ``outline`` colours for emphasis, names under the nodes and ``inside``
    text (say, a probability) in them."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(11, 6.5))
    pos = dict(pos or layered_layout(g))
    nodes = list(g)
    colours = [(fill or {}).get(n, KIND_COLOURS.get(g.nodes[n].get("kind", ""), "#dddddd"))
               for n in nodes]
    edge_col = [(outline or {}).get(n, "#555555") for n in nodes]
    widths = [3.0 if outline and n in outline else 0.8 for n in nodes]
    nx.draw_networkx_edges(g, pos, ax=ax, edge_color="#a8a8a8", arrows=True, arrowsize=9,
                           width=0.8, node_size=NODE_SIZE, connectionstyle="arc3,rad=0.04")
    nx.draw_networkx_nodes(g, pos, nodelist=nodes, node_color=colours, edgecolors=edge_col,
                           linewidths=widths, node_size=NODE_SIZE, ax=ax)
    below = {n: (x, y - 0.2) for n, (x, y) in pos.items()}
    nx.draw_networkx_labels(g, below, labels={n: _name(g, n) for n in nodes}, font_size=7,
                            ax=ax, bbox={"boxstyle": "round,pad=0.15", "fc": "white",
                                         "ec": "none", "alpha": 0.75})
    if inside:
        nx.draw_networkx_labels(g, pos, labels=dict(inside), font_size=6.5,
                                font_weight="bold", ax=ax)
    if title:
        ax.set_title(title, fontsize=11)
    ax.set_axis_off()
    ax.margins(0.08)
    return ax


def _overlay(ax: Any, pos: Mapping[str, tuple[float, float]], path: Sequence[str],
             colour: str, style: str, rad: float) -> bool:
    pairs = [(a, b) for a, b in zip(path, path[1:], strict=False) if a in pos and b in pos]
    if pairs:
        nx.draw_networkx_edges(nx.DiGraph(pairs), pos, ax=ax, edge_color=colour, width=2.4,
                               style=style, arrows=True, arrowsize=15, node_size=NODE_SIZE,
                               connectionstyle=f"arc3,rad={rad}")
    return bool(pairs)


def draw_chain(graph: Graph, chain: Sequence[str], ax: Any = None, *,
               truth: Sequence[str] = (), title: str | None = None) -> Any:
    """The dependency graph with a root-cause chain (cause first) drawn over it in red, in
    the direction the failure travelled, and a confirmed ``truth`` chain in dashed green."""
    from matplotlib.lines import Line2D

    g = dependency_graph(graph, [*chain, *truth])
    pos = layered_layout(g)
    roles = chain_roles(chain, truth)
    colour = {"chain": CHAIN_COLOUR, "truth": TRUTH_COLOUR, "both": "#000000"}
    ax = draw_graph(g, pos, ax, outline={n: colour[r] for n, r in roles.items()}, title=title)
    handles = []
    if _overlay(ax, pos, chain, CHAIN_COLOUR, "solid", 0.15):
        handles.append(Line2D([], [], color=CHAIN_COLOUR, lw=2.4, label="predicted chain"))
    if _overlay(ax, pos, truth, TRUTH_COLOUR, "dashed", -0.15):
        handles.append(Line2D([], [], color=TRUTH_COLOUR, lw=2.4, ls="dashed",
                              label="postmortem chain"))
    if handles:
        ax.legend(handles=handles, loc="lower left", fontsize=8, frameon=False)
    return ax


def draw_impact(graph: Graph, probabilities: Mapping[str, float], ax: Any = None, *,
                seeds: Sequence[str] = (), title: str | None = None,
                cmap: str = "YlOrRd") -> Any:
    """The dependency graph with every node coloured by its impact probability (0 grey,
    1 dark red) and labelled with it; ``seeds`` (what the action touches) are outlined."""
    import matplotlib.pyplot as plt
    from matplotlib.colors import Normalize

    g = dependency_graph(graph, [s for s in seeds if s not in graph.nodes or
                                 graph.nodes[s].kind not in COMPONENT_KINDS])
    norm, colours = Normalize(0.0, 1.0), plt.get_cmap(cmap)
    fill = {n: colours(norm(probabilities[n])) if probabilities.get(n, 0) > 0 else "#eeeeee"
            for n in g}
    inside = {n: f"{probabilities[n]:.0%}" for n in g if probabilities.get(n, 0) > 0}
    ax = draw_graph(g, layered_layout(g), ax, fill=fill, inside=inside,
                    outline={s: "#000000" for s in seeds}, title=title)
    bar = plt.colorbar(plt.cm.ScalarMappable(norm=norm, cmap=colours), ax=ax, shrink=0.6)
    bar.set_label("P(impacted | the action fails)")
    return ax
