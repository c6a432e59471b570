"""Facts memory writes back: actions with their outcomes, the changes they made,
resolved incidents with their causal chains, learned propagation on edges.

Pure functions from control-plane documents to graph facts; :mod:`ccm.memory.store`
writes them with ``store.write`` (idempotent: writing the same facts twice is a
no-op).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ccm.store.types import Graph
from graph_schema import COMPONENT_KINDS, EdgeFact, NodeFact
from graph_schema.facts import Fact
from ingest.changes import change_facts
from ingest.core import Context

#: node probabilities kept on an action node for calibration
KEEP_PREDICTED = 50


def action_facts(doc: Mapping[str, Any], tenant: str, params: Mapping[str, Any],
                 target_known: bool = True) -> list[Fact]:
    """The ``action:<id>`` node (its whole lifecycle summarised) and its TARGETS edge
    (when the target is a node of the graph).

    ``params`` are the inputs as they may be stored (already redacted).
    """
    p = doc["proposal"]
    verdict = doc.get("verdict") or {}
    impact = verdict.get("impact") or {}
    outcome = doc.get("outcome") or {}
    execution = doc.get("execution") or {}
    attrs: dict[str, Any] = {
        "action_type": p["action"], "target": p["target"], "status": doc["state"],
        "agent": p["agent"], "model": f"{p.get('model', '')} {p.get('model_version', '')}".strip(),
        "params": dict(params), "proposed_at": doc["proposed_at"], "tenant": tenant,
        "session": p.get("session", ""),
    }
    if verdict.get("decision"):
        attrs["verdict"] = verdict["decision"]
    if impact:
        attrs["predicted_p95_traffic"] = float(impact.get("traffic_p95", 0.0))
        attrs["predicted_services_p95"] = float(impact.get("services_p95", 0.0))
        attrs["predicted_p_fail"] = min(max(float(impact.get("p_fail", 0.0)), 0.0), 1.0)
        nodes = sorted((impact.get("node_probabilities") or {}).items(),
                       key=lambda kv: (-kv[1], kv[0]))[:KEEP_PREDICTED]
        attrs["predicted_nodes"] = dict(nodes)
    if outcome.get("healthy") is not None:
        attrs["outcome"] = "healthy" if outcome["healthy"] else "unhealthy"
        attrs["observed_impacted"] = list(outcome.get("observed_impacted", []))
        if outcome.get("edge_evidence"):
            attrs["edge_evidence"] = dict(outcome["edge_evidence"])
    if execution.get("dry_run"):
        attrs["dry_run"] = True
    if doc.get("revert_of"):
        attrs["revert_of"] = doc["revert_of"]
    if (doc.get("revert") or {}).get("action_id"):
        attrs["reverted"] = True
    if doc.get("change_kind"):
        attrs["change_kind"] = doc["change_kind"]
    if doc.get("closed_at"):
        attrs["closed_at"] = doc["closed_at"]
    name = doc["id"]
    t = int(doc["proposed_at"])
    facts: list[Fact] = [NodeFact("action", name, attrs, t, source="ccm.memory")]
    if target_known:
        facts.append(EdgeFact("TARGETS", f"action:{name}", p["target"], {}, t,
                              source="ccm.memory"))
    return facts


def describe_action(doc: Mapping[str, Any]) -> str:
    p = doc["proposal"]
    return f"{p['action']} on {p['target']} by {p['agent']} through CCM ({doc['id']})"


def executed_change_facts(store: Any, doc: Mapping[str, Any], tenant: str) -> list[Fact]:
    """An executed action is a change to production: ``change:<action id>`` with a
    CHANGED edge to its target (and, for a config change, the key's new version)."""
    p = doc["proposal"]
    # an automatic revert restores the previous state: it is a rollback as a change
    kind = "rollback" if doc.get("revert_of") and doc.get("change_kind") else \
        doc.get("change_kind")
    executed_at = (doc.get("execution") or {}).get("at")
    if not kind or executed_at is None:
        return []
    inputs = p.get("inputs", {})
    attrs: dict[str, Any] = {"author": p["agent"], "description": describe_action(doc),
                             "reversible": bool(doc.get("reversible")), "tenant": tenant}
    if doc.get("destructive"):
        attrs["destructive"] = True
    for key in ("version", "previous_version", "flag"):
        if isinstance(inputs.get(key), str):
            attrs[key] = inputs[key]
    outcome = (doc.get("outcome") or {}).get("healthy")
    if outcome is not None:
        attrs["outcome"] = "healthy" if outcome else "unhealthy"
    diff: list[dict[str, Any]] = []
    if doc.get("change_kind") == "config_change" and isinstance(inputs.get("key"), str):
        diff = [{"key": inputs["key"], "old": inputs.get("previous_value"),
                 "new": inputs.get("value")}]
    ctx = Context(store, int(executed_at))
    return change_facts(ctx, change_id=doc["id"], time=int(executed_at), change_kind=kind,
                        target=p["target"], where=f"action {doc['id']}", source="ccm.memory",
                        diff=diff, attrs=attrs)


def edge_evidence(graph: Graph, failed: Iterable[str]) -> dict[str, int]:
    """For each dependency ``caller -> callee`` whose callee failed: 1 when the caller
    was observed impacted too, else 0 (keys ``caller|callee``)."""
    failed = set(failed)
    out: dict[str, int] = {}
    for e in graph.edges_of("DEPENDS_ON"):
        if e.dst in failed and e.src != e.dst:
            out[f"{e.src}|{e.dst}"] = int(e.src in failed)
    return out


def incident_facts(incident_id: str, tenant: str, chain: Sequence[str], *, title: str,
                   started_at: int, resolved_at: int, severity: str = "",
                   summary: str = "") -> list[Fact]:
    """A resolved incident with its confirmed chain (cause first): the incident node,
    CAUSED edges along the chain, INVOLVES edges to every node of it."""
    ref = f"incident:{incident_id}"
    attrs: dict[str, Any] = {"title": title, "status": "resolved", "started_at": started_at,
                             "resolved_at": resolved_at, "root_cause": chain[0],
                             "chain": list(chain), "tenant": tenant}
    if severity:
        attrs["severity"] = severity
    if summary:
        attrs["summary"] = summary
    facts: list[Fact] = [NodeFact("incident", incident_id, attrs, started_at,
                                  source="ccm.memory")]
    for a, b in zip(chain, chain[1:], strict=False):
        facts.append(EdgeFact("CAUSED", a, b, {"incident": ref, "confidence": 1.0},
                              started_at, source="ccm.memory"))
    for node in dict.fromkeys(chain):
        facts.append(EdgeFact("INVOLVES", ref, node, {}, started_at, source="ccm.memory"))
    return facts


def chain_links(graph: Graph, chain: Sequence[str]) -> list[tuple[str, str]]:
    """The dependency edges (caller, callee) a confirmed chain travelled: for
    consecutive components a -> b of the chain where b depends on a."""
    out = []
    for a, b in zip(chain, chain[1:], strict=False):
        if a.split(":", 1)[0] in COMPONENT_KINDS and b.split(":", 1)[0] in COMPONENT_KINDS \
                and f"{b}|DEPENDS_ON|{a}" in graph.edges:
            out.append((b, a))
    return out


def propagation_facts(graph: Graph, values: Mapping[tuple[str, str], float],
                      at: int) -> list[Fact]:
    """New versions of DEPENDS_ON edges carrying the learned ``propagation`` (their
    other attributes unchanged)."""
    facts: list[Fact] = []
    for (caller, callee), p in sorted(values.items()):
        e = graph.edges.get(f"{caller}|DEPENDS_ON|{callee}")
        if e is None:
            continue
        value = round(min(max(p, 0.0), 1.0), 4)
        if e.attrs.get("propagation") == value:
            continue
        facts.append(EdgeFact("DEPENDS_ON", caller, callee, {**e.attrs, "propagation": value},
                              at, source=e.source))
    return facts
