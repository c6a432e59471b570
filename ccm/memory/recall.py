"""Recall: reading memory back, scoped to one tenant.

- :func:`learn_priors` turns the outcomes and resolved incidents of a graph into
  the :class:`~ccm.memory.priors.Priors` table the engine reads;
- :func:`seen_before` finds resolved incidents that match a new causal chain
  (same kind of root cause on the same target, overlapping chain).

Ingested facts carry no tenant and are shared by every tenant of a store; what
CCM writes back carries its tenant and is seen by that tenant only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ccm.memory.priors import Beta, EdgeEvidence, Priors
from ccm.memory.writeback import chain_links
from ccm.store.types import Graph, NodeVersion
from graph_schema import COMPONENT_KINDS, format_time


def visible(node: NodeVersion, tenant: str) -> bool:
    """Whether ``tenant`` may read this node (its own, or shared: no tenant)."""
    owner = node.attrs.get("tenant")
    return not owner or owner == tenant


def _time_of(node: NodeVersion, *names: str) -> int:
    for name in names:
        value = node.attrs.get(name)
        if isinstance(value, int):
            return value
    return node.valid_from


def learn_priors(graph: Graph, tenant: str, *, as_of: int, retention: int,
                 propagation_strength: float = 2.0) -> Priors:
    """Priors from every visible outcome and incident no older than ``retention``."""
    since = as_of - retention
    outcomes: dict[tuple[str, str], list[float]] = {}
    edges: dict[tuple[str, str], EdgeEvidence] = {}
    roots_failed: set[str] = set()
    balance: dict[str, list[float]] = {}
    # an incident caused by a CCM action repeats the evidence its outcome already gave
    observed = {f"change:{a.name}" for a in graph.nodes_of("action")
                if a.attrs.get("edge_evidence")}
    for inc in graph.nodes_of("incident"):
        if not visible(inc, tenant) or inc.attrs.get("status") != "resolved":
            continue
        if _time_of(inc, "resolved_at", "started_at") < since:
            continue
        chain = [str(r) for r in inc.attrs.get("chain") or []]
        if inc.attrs.get("root_cause"):
            roots_failed.add(str(inc.attrs["root_cause"]))
        _count_balance(balance, chain)
        if chain and chain[0] in observed:
            continue
        for caller, callee in chain_links(graph, chain):
            edges[(caller, callee)] = edges.get((caller, callee), EdgeEvidence()).add(True)
    for ch in graph.nodes_of("change"):
        if not visible(ch, tenant) or _time_of(ch, "time") < since:
            continue
        kind, target = ch.attrs.get("change_kind"), ch.attrs.get("target")
        outcome = ch.attrs.get("outcome")
        if ch.ref in roots_failed and outcome != "unhealthy":
            outcome = "unhealthy"
        if not kind or not target or outcome not in ("healthy", "unhealthy"):
            continue
        counts = outcomes.setdefault((str(kind), str(target)), [0.0, 0.0])
        counts[0 if outcome == "unhealthy" else 1] += 1.0
    for act in graph.nodes_of("action"):
        if act.attrs.get("tenant", "default") != tenant or _time_of(act, "closed_at") < since:
            continue
        for key, reached in (act.attrs.get("edge_evidence") or {}).items():
            caller, _, callee = key.partition("|")
            edges[(caller, callee)] = edges.get((caller, callee), EdgeEvidence()).add(
                bool(reached))
    return Priors(tenant, as_of, {k: Beta(v[0], v[1]) for k, v in outcomes.items()}, edges,
                  propagation_strength, {k: Beta(v[0], v[1]) for k, v in balance.items()})


def _count_balance(balance: dict[str, list[float]], chain: Sequence[str]) -> None:
    """Count a resolved incident's chain (cause first) for its failing component's kind:
    spontaneous when the chain starts at a component, change-caused when it starts at a
    change (the first component of the chain is where it failed); other roots (an
    expired value) are neither."""
    components = [r for r in chain if r.split(":", 1)[0] in COMPONENT_KINDS]
    if not chain or not components:
        return
    root_kind = chain[0].split(":", 1)[0]
    if root_kind in COMPONENT_KINDS:
        balance.setdefault(root_kind, [0.0, 0.0])[0] += 1.0
    elif root_kind == "change":
        balance.setdefault(components[0].split(":", 1)[0], [0.0, 0.0])[1] += 1.0


@dataclass(frozen=True)
class PastIncident:
    """A resolved incident that matches a new chain, and why."""

    ref: str
    when: int
    score: float
    title: str
    why: str

    def describe(self) -> str:
        day = (format_time(self.when) or "?")[:10]
        return f"seen before: {self.ref} on {day} ({self.why})"

    def to_dict(self) -> dict[str, Any]:
        return {"ref": self.ref, "when": format_time(self.when), "score": round(self.score, 3),
                "title": self.title, "why": self.why, "text": self.describe()}


def root_signature(graph: Graph, ref: str) -> tuple[str, str]:
    """What kind of cause a chain's root is, and what it hit: ``(change kind, target)``
    for a change, ``(node kind, ref)`` for anything else."""
    node = graph.nodes.get(ref)
    if ref.startswith("change:") and node is not None:
        return (str(node.attrs.get("change_kind", "change")),
                str(node.attrs.get("target", "")))
    if ref.startswith("config:") and node is not None and node.attrs.get("owner"):
        return ("config", str(node.attrs["owner"]))
    return (ref.split(":", 1)[0], ref)


def seen_before(graph: Graph, tenant: str, chain: Sequence[str], *, before: int,
                min_score: float = 0.6, since: int = 0) -> list[PastIncident]:
    """Resolved incidents (visible to ``tenant``, started before ``before``) whose root
    has the same kind and target as ``chain[0]``, or whose chain overlaps a lot.

    Score: 0.4 same root kind + 0.4 same root target + 0.2 x overlap of the
    components on both chains (Jaccard). Best first.
    """
    if not chain:
        return []
    kind, target = root_signature(graph, chain[0])
    comps = {r for r in chain if r.split(":", 1)[0] in COMPONENT_KINDS}
    found = []
    for inc in graph.nodes_of("incident"):
        if not visible(inc, tenant) or inc.attrs.get("status") != "resolved":
            continue
        when = _time_of(inc, "started_at")
        if not since <= when < before or inc.attrs.get("root_cause") == chain[0]:
            continue
        past = [str(r) for r in inc.attrs.get("chain") or []] or [str(inc.attrs.get(
            "root_cause", ""))]
        p_kind, p_target = root_signature(graph, past[0])
        p_comps = {r for r in past if r.split(":", 1)[0] in COMPONENT_KINDS}
        overlap = len(comps & p_comps) / len(comps | p_comps) if comps | p_comps else 0.0
        score = 0.4 * (p_kind == kind) + 0.4 * (bool(target) and p_target == target) \
            + 0.2 * overlap
        if score >= min_score:
            why = []
            if p_kind == kind and p_target == target:
                why.append(f"same root: {kind} on {target}")
            elif p_kind == kind:
                why.append(f"same kind of root: {kind}")
            elif p_target == target:
                why.append(f"same root target: {target}")
            why.append(f"chain overlap {len(comps & p_comps)}/{len(comps | p_comps)}")
            found.append(PastIncident(inc.ref, when, score, str(inc.attrs.get("title", "")),
                                      "; ".join(why)))
    found.sort(key=lambda m: (-m.score, -m.when, m.ref))
    return found
