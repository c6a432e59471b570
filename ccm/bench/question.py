"""The question every method answers: "what caused these alerts?", as of a time.

:func:`ask` reads a store (holding one ingested case) at ``valid_at = question
time``: the graph true then, the alerts firing then (onset at or before the
question time and not yet resolved by it) and the changes made within the window
before it. Alerts with a later onset, and nodes or edges that only appear later,
are not in the graph at that time, so no method can see them. A case's files carry
no knowledge times (everything is recorded when the harness ingests it), so the
replay is by valid time; ``known_at`` is left at "everything recorded".

Every method gets the same :class:`Question` (and through ``question.store`` the
same store, for methods such as the causal engine that compile their own snapshot).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from ccm.store import Graph, Store
from graph_schema import COMPONENT_KINDS

__all__ = ["Alert", "ChangeInfo", "Question", "ask"]


@dataclass(frozen=True, slots=True)
class Alert:
    """A firing alert: ``alert:<id>`` about ``node``, its signal and onset (µs)."""

    ref: str
    node: str
    signal: str
    time: int


@dataclass(frozen=True, slots=True)
class ChangeInfo:
    """A change made before the question time: what it changed, when, of which kind.

    ``changed`` lists the nodes it CHANGED: its target and, for a configuration
    change, the ``config:<target>/<key>`` nodes of the keys it set.
    """

    ref: str
    kind: str
    time: int
    target: str
    changed: tuple[str, ...]
    keys: tuple[str, ...] = ()

    @property
    def config_nodes(self) -> tuple[str, ...]:
        return tuple(n for n in self.changed if n.startswith("config:"))


@dataclass
class Question:
    """One root-cause question: the graph at ``at``, its firing alerts and recent changes.

    ``callees[u]`` are the nodes ``u`` DEPENDS_ON, ``callers[v]`` the nodes that depend on
    ``v``; ``config_owner[c]`` is the component that reads configuration key ``c``.
    Alerts and changes are sorted by time (then reference).
    """

    case_id: str
    store: Store
    at: int
    window: int
    graph: Graph
    alerts: list[Alert]
    changes: list[ChangeInfo]
    callees: dict[str, list[str]] = field(default_factory=dict)
    callers: dict[str, list[str]] = field(default_factory=dict)
    config_owner: dict[str, str] = field(default_factory=dict)
    #: whether a component has alerts defined (node attr ``monitored``, default true)
    monitored: dict[str, bool] = field(default_factory=dict)

    @property
    def first_alert_time(self) -> int | None:
        return self.alerts[0].time if self.alerts else None

    @property
    def components(self) -> list[str]:
        return sorted(r for r, n in self.graph.nodes.items() if n.kind in COMPONENT_KINDS)

    def alerts_by_node(self) -> dict[str, list[Alert]]:
        out: dict[str, list[Alert]] = defaultdict(list)
        for a in self.alerts:
            out[a.node].append(a)
        return dict(out)

    def changes_on(self, node: str) -> list[ChangeInfo]:
        """Changes whose target is ``node`` or one of its configuration keys, latest first."""
        hits = [c for c in self.changes
                if c.target == node or any(self.config_owner.get(k) == node for k in c.changed)]
        return sorted(hits, key=lambda c: (-c.time, c.ref))


def _alerts(g: Graph) -> list[Alert]:
    about: dict[str, tuple[str, str]] = {}
    for e in g.edges_of("SYMPTOM_OF"):
        about[e.src] = (e.dst, e.attrs.get("signal", ""))
    out = []
    for n in g.nodes_of("alert"):
        node, signal = about.get(n.ref, (n.attrs.get("service", ""), ""))
        if not node or node not in g.nodes:
            continue
        out.append(Alert(n.ref, node, n.attrs.get("signal") or signal or "errors",
                         int(n.attrs.get("starts_at", n.valid_from))))
    return sorted(out, key=lambda a: (a.time, a.ref))


def _changes(g: Graph, at: int, window: int) -> list[ChangeInfo]:
    changed: dict[str, list[str]] = defaultdict(list)
    for e in g.edges_of("CHANGED"):
        changed[e.src].append(e.dst)
    out = []
    for n in g.nodes_of("change"):
        t = int(n.attrs.get("time", n.valid_from))
        if not at - window <= t <= at:
            continue
        target = n.attrs.get("target") or (changed[n.ref][0] if changed[n.ref] else "")
        targets = sorted(changed[n.ref], key=lambda r: (r != target, r))
        out.append(ChangeInfo(n.ref, n.attrs.get("change_kind", "deploy"), t, target,
                              tuple(targets), tuple(n.attrs.get("keys") or ())))
    return sorted(out, key=lambda c: (c.time, c.ref))


def ask(store: Store, case_id: str, at: int, window: int) -> Question:
    """The question for the case in ``store``, as of valid time ``at``."""
    g = store.graph(valid_at=at)
    q = Question(case_id, store, at, window, g, _alerts(g), _changes(g, at, window))
    callees: dict[str, list[str]] = defaultdict(list)
    callers: dict[str, list[str]] = defaultdict(list)
    for e in sorted(g.edges_of("DEPENDS_ON"), key=lambda e: e.fact_id):
        callees[e.src].append(e.dst)
        callers[e.dst].append(e.src)
    q.callees, q.callers = dict(callees), dict(callers)
    q.config_owner = {e.dst: e.src for e in sorted(g.edges_of("HAS_CONFIG"),
                                                   key=lambda e: e.fact_id)}
    q.monitored = {r: bool(n.attrs.get("monitored", True)) for r, n in g.nodes.items()
                   if n.kind in COMPONENT_KINDS}
    return q
