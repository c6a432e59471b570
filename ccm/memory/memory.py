"""Memory: one tenant's outcomes and incidents, written back as graph facts and read
back as priors and recalled incidents.

>>> mem = Memory(store, tenant="shop", config=policy.memory)   # doctest: +SKIP
>>> mem.priors().lookup("config_change", "service:cart")          # doctest: +SKIP
Beta(alpha=1.0, beta=4.0)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ccm.errors import ConfigError
from ccm.memory.priors import Priors
from ccm.memory.recall import PastIncident, learn_priors, seen_before, visible
from ccm.memory.structure import structural_propagation
from ccm.memory.writeback import (
    action_facts,
    chain_links,
    edge_evidence,
    executed_change_facts,
    incident_facts,
    propagation_facts,
)
from ccm.policy.config import MemoryConfig
from ccm.store import Clock, Store
from ccm.store.types import Graph, WriteResult
from graph_schema import Close, NodeFact
from graph_schema.timeutil import now_micros


class Memory:
    """One tenant's memory in a store (see the module docstring)."""

    def __init__(self, store: Store, tenant: str = "default",
                 config: MemoryConfig | None = None, clock: Clock | None = None) -> None:
        if not tenant or ":" in tenant or "|" in tenant:
            raise ConfigError(f"tenant must be a non-empty name without ':' or '|' "
                              f"(got {tenant!r})")
        self.store = store
        self.tenant = tenant
        self.config = config or MemoryConfig()
        self.clock: Clock = clock or now_micros
        self._cache: tuple[int, int, Priors] | None = None

    @property
    def enabled(self) -> bool:
        return self.config.enabled_for(self.tenant)

    # -- reads ---------------------------------------------------------------------------
    def priors(self, at: int | None = None, known_at: int | None = None) -> Priors:
        """The priors table as of ``at`` (default now), reused while the store's revision
        is unchanged and ``at`` is within a minute of the cached one."""
        t = self.clock() if at is None else at
        rev = self.store.revision()
        if known_at is None and self._cache and self._cache[0] == rev and \
                abs(self._cache[1] - t) < 60_000_000:
            return self._cache[2]
        priors = learn_priors(self.store.graph(t, known_at), self.tenant, as_of=t,
                              retention=self.config.retention,
                              propagation_strength=self.config.propagation_strength)
        if known_at is None:
            self._cache = (rev, t, priors)
        return priors

    def seen_before(self, chain: Sequence[str], at: int | None = None,
                    min_score: float = 0.6, known_at: int | None = None
                    ) -> list[PastIncident]:
        """Resolved incidents of this tenant (or shared) that match ``chain``, started
        before ``at`` (as known at ``known_at``)."""
        t = self.clock() if at is None else at
        return seen_before(self.store.graph(t, known_at), self.tenant, chain, before=t,
                           min_score=min_score, since=t - self.config.retention)

    def actions(self, at: int | None = None) -> list[dict[str, Any]]:
        """This tenant's remembered actions (attributes plus ``ref``), oldest first."""
        g = self.store.graph(self.clock() if at is None else at)
        out = [{"ref": n.ref, **n.attrs} for n in g.nodes_of("action")
               if n.attrs.get("tenant") == self.tenant]
        return sorted(out, key=lambda a: (a.get("proposed_at", 0), a["ref"]))

    # -- writes --------------------------------------------------------------------------
    def _require(self) -> None:
        if not self.enabled:
            raise ConfigError(f"memory is not enabled for tenant {self.tenant!r} "
                              "(policy memory.tenants)")

    def record_execution(self, doc: Mapping[str, Any]) -> WriteResult:
        """The change an executed action made (visible to root-cause analysis at once)."""
        self._require()
        return self.store.write(executed_change_facts(self.store, doc, self.tenant))

    def observe_outcome(self, doc: Mapping[str, Any], healthy: bool,
                        observed_impacted: Sequence[str]) -> dict[str, int]:
        """Edge evidence for an outcome: which callers a failure reached (pure read)."""
        if healthy:
            return {}
        failed = {doc["proposal"]["target"], *observed_impacted}
        executed_at = (doc.get("execution") or {}).get("at", self.clock())
        return edge_evidence(self.store.graph(executed_at), failed)

    def record_action(self, doc: Mapping[str, Any], params: Mapping[str, Any]) -> WriteResult:
        """Write an action's whole lifecycle back (idempotent), with the change it made
        and, after an unhealthy outcome, learned propagation on the edges it used."""
        self._require()
        target = str(doc["proposal"]["target"])
        known = target in self.store.find_refs([target.split(":", 1)[-1]]).get(
            target.split(":", 1)[-1], [])
        facts = list(action_facts(doc, self.tenant, params, known))
        if doc.get("execution", {}).get("at") is not None and \
                not doc["execution"].get("dry_run"):
            # the change node again, now with its outcome; not the config values it set
            # (a revert may have set them back since)
            facts[:0] = [f for f in executed_change_facts(self.store, doc, self.tenant)
                         if not (isinstance(f, NodeFact) and f.kind == "config")]
        result = self.store.write(facts)
        evidence = (doc.get("outcome") or {}).get("edge_evidence") or {}
        if evidence:
            pairs = [(k.partition("|")[0], k.partition("|")[2]) for k in evidence]
            result = result + self.learn_propagation(pairs)
        return result

    def learn_propagation(self, pairs: Sequence[tuple[str, str]]) -> WriteResult:
        """Write back the learned ``propagation`` of these dependency edges: the
        engine's structural probability weighed as ``propagation_strength``
        observations, plus every observation memory holds for the edge."""
        now = self.clock()
        priors = self.priors(now)
        base = structural_propagation(self.store.snapshot(now), pairs)
        values = {pair: priors.propagation(pair[0], pair[1], base[pair])
                  for pair in pairs if pair in base and pair in priors.edges}
        return self.store.write(propagation_facts(self.store.graph(now), values, now))

    def record_incident(self, incident_id: str, chain: Sequence[str], *, title: str,
                        started_at: int, resolved_at: int, severity: str = "",
                        summary: str = "") -> WriteResult:
        """A resolved incident and its confirmed chain (cause first). The root change
        is marked unhealthy, so the priors count it as a failure."""
        self._require()
        if not chain:
            raise ConfigError("a resolved incident needs a causal chain (cause first)")
        facts = incident_facts(incident_id, self.tenant, chain, title=title,
                               started_at=started_at, resolved_at=resolved_at,
                               severity=severity, summary=summary)
        root = self.store.graph(started_at).nodes.get(chain[0])
        if root is not None and root.kind == "change" and root.attrs.get("outcome") != \
                "unhealthy" and visible(root, self.tenant):
            facts.append(NodeFact("change", root.name, {**root.attrs, "outcome": "unhealthy"},
                                  root.valid_from, source=root.source or "ccm.memory"))
        result = self.store.write(facts)
        links = chain_links(self.store.graph(started_at), chain)
        if links:
            result = result + self.learn_propagation(links)
        return result

    def expire(self, now: int | None = None) -> int:
        """Close this tenant's actions and incidents older than the retention (they
        stay in the store's history, as known then, but leave the current graph)."""
        t = self.clock() if now is None else now
        cutoff = t - self.config.retention
        g: Graph = self.store.graph(t)
        closes = []
        for n in g.nodes_of("action", "incident"):
            if n.attrs.get("tenant") != self.tenant:
                continue
            when = n.attrs.get("closed_at") or n.attrs.get("resolved_at") or n.valid_from
            if int(when) < cutoff:
                closes.append(Close(n.ref, t, source="ccm.memory"))
        if closes:
            self.store.write(closes)
        return len(closes)
