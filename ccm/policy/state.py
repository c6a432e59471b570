"""Load the control-plane state one evaluation reads (see :class:`PolicyState`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ccm.policy.autonomy import AUTONOMY, autonomy_key
from ccm.policy.context import Grant, PolicyState, Switch
from ccm.policy.controls import GRANTS, SWITCHES
from ccm.policy.counters import ACTIVITY, RATE, SESSIONS, session_key
from ccm.policy.identities import get_identity
from ccm.policy.impact import ImpactSummary
from ccm.policy.proposal import Proposal
from ccm.store import Store
from ccm.store.types import Graph


@dataclass(frozen=True)
class Topology:
    """What the policy reads from a whole graph, indexed once per graph read (the
    controller keeps it with the graph it caches): the zone each node's ``IN_ZONE``
    edge names, each node's trust zone (its ``zone`` attribute, else that edge), and
    each zone's trust."""

    in_zone: Mapping[str, str]
    zone: Mapping[str, str]
    zone_trust: Mapping[str, str]

    @classmethod
    def of(cls, graph: Graph) -> Topology:
        in_zone = {e.src: e.dst.split(":", 1)[1] for e in graph.edges_of("IN_ZONE")}
        zone = dict(in_zone)
        for ref, node in graph.nodes.items():
            # decode only the attributes that can hold a zone (most nodes have none)
            if '"zone"' in node.attrs_json and node.attrs.get("zone"):
                zone[ref] = str(node.attrs["zone"])
        return cls(in_zone, zone,
                   {n.name: str(n.attrs.get("trust", "")) for n in graph.nodes_of("zone")})


def zones_of(graph: Graph, refs: list[str], topology: Topology | None = None
             ) -> dict[str, str]:
    """Trust zone of each node: its ``zone`` attribute, else its IN_ZONE edge."""
    zone = (topology or Topology.of(graph)).zone
    return {ref: zone[ref] for ref in refs if ref in zone}


def load_state(store: Store, p: Proposal, impact: ImpactSummary | None, graph: Graph, *,
               audit_ready: bool, memory_enabled: bool, zone_threshold: float = 0.0,
               topology: Topology | None = None) -> PolicyState:
    """Read switches, grants, counters, identity and topology for one evaluation
    (``topology``: the graph's :class:`Topology`, when the caller keeps one)."""
    topology = topology or Topology.of(graph)
    switches = {r.key: Switch.from_dict(r.doc) for r in store.list_records(SWITCHES)}
    grants = [Grant.from_dict(r.doc) for r in store.list_records(GRANTS)
              if r.doc.get("agent") == p.agent]
    rate = {}
    for scope in (p.target, f"agent:{p.agent}"):
        rec = store.get_record(RATE, scope)
        rate[scope] = [tuple(e) for e in rec.doc.get("events", [])] if rec else []
    session = store.get_record(SESSIONS, session_key(p)) if p.session else None
    activity = store.get_record(ACTIVITY, p.agent)
    autonomy = store.get_record(AUTONOMY, autonomy_key(p.tenant, p.action, p.target))
    target = graph.nodes.get(p.target)
    refs = [p.target] + (impact.impacted(zone_threshold) if impact else [])
    return PolicyState(
        identity=get_identity(store, p.agent), switches=switches, grants=grants,
        rate_events=rate,
        session_calls=tuple(session.doc.get("calls", [])) if session else (),
        session_failed=session.doc.get("failed") if session else None,
        activity=tuple(activity.doc.get("events", [])) if activity else (),
        autonomy=autonomy.doc if autonomy else None,
        audit_ready=audit_ready, memory_enabled=memory_enabled,
        target_exists=target is not None,
        target_attrs=dict(target.attrs) if target is not None else {},
        zones=zones_of(graph, refs, topology), zone_trust=topology.zone_trust)
