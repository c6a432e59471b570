"""The action lifecycle controller: propose -> evaluate -> approve -> execute ->
outcome -> auto-revert -> close, durable in the store and audited at every step.

Usage (``store`` open, ``proposal`` built and ``agent_key`` loaded)::

    ctl = Controller(store, signer=load_signer())
    rec = ctl.propose(proposal.signed(agent_key))             # evaluated at once
    rec.verdict.decision, rec.verdict.reasons
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from ccm.actions import running
from ccm.actions.dryrun import DryRun
from ccm.actions.executors import Executor, HealthCheck, executor_from_config, health_from_config
from ccm.actions.impact import Predictor, engine_predictor
from ccm.actions.records import (
    COLLECTION,
    FINAL,
    ActionRecord,
    approvals_satisfy,
    load,
    sealed,
    transition,
)
from ccm.audit.keys import Signer, verify_signature
from ccm.audit.log import SYSTEM, Actor, AuditLog
from ccm.audit.redact import Sealer
from ccm.engine.longlived import settle
from ccm.errors import ActionRefused, ActionStateError, AuditUnavailable, Conflict
from ccm.memory.memory import Memory
from ccm.policy.config import Policy, load_policy
from ccm.policy.context import EvalContext
from ccm.policy.counters import note_proposal
from ccm.policy.events import emit
from ccm.policy.identities import get_identity
from ccm.policy.impact import ImpactSummary
from ccm.policy.proposal import Proposal, approval_payload
from ccm.policy.registry import ActionSpec, Registry, load_registry
from ccm.policy.state import Topology, load_state
from ccm.policy.types import PROCEED, REFUSE, RuleResult, Verdict
from ccm.store import Clock, Graph, Store
from graph_schema.timeutil import now_micros

#: how far apart (µs) two evaluations may be and still share one read of the graph
GRAPH_REUSE = 60 * 1_000_000


class Controller:
    """Runs actions through the policy and the lifecycle (see the module docstring).

    ``signer`` is the audit signing key (None: nothing can execute). ``predictor``
    predicts impact (default: the engine). ``executor`` overrides the registry's
    executors; ``health`` overrides its health probes; ``witness`` is the file every
    signed audit head is also appended to (ccm.audit.witness).
    """

    def __init__(self, store: Store, *, registry: Registry | None = None,
                 policy: Policy | None = None, signer: Signer | None = None,
                 clock: Clock | None = None, predictor: Predictor | None = engine_predictor,
                 executor: Executor | None = None, health: HealthCheck | None = None,
                 witness: Path | None = None) -> None:
        self.registry = registry or load_registry()
        self.policy = policy or load_policy()
        self.clock: Clock = clock or now_micros
        self.audit = AuditLog(store, signer, self.clock, self.policy.redaction, witness)
        sealer = Sealer(signer.secret_material(), signer.secret_material(b"ccm-seal"),
                        self.policy.redaction) if signer else None
        #: the store; action records' secret values sealed at rest when there is a key
        self.store = sealed(store, sealer)
        self.predictor = predictor
        self.executor = executor
        self.health = health
        self._memories: dict[str, Memory] = {}
        self._graph: tuple[int, int, Graph, Topology] | None = None
        self._graph_lock = threading.Lock()

    # -- helpers -------------------------------------------------------------------------
    def memory(self, tenant: str) -> Memory:
        if tenant not in self._memories:
            self._memories[tenant] = Memory(self.store, tenant, self.policy.memory, self.clock)
        return self._memories[tenant]

    def public(self, rec: ActionRecord | dict[str, Any]) -> dict[str, Any]:
        """An action record as it may leave CCM (API and MCP answers, memory): every
        secret value redacted to its fingerprint. The verdict is kept as is (its figures
        are keyed by node references, and a reference is not a secret)."""
        doc = rec.to_dict() if isinstance(rec, ActionRecord) else dict(rec)
        return {k: v if k == "verdict" else self.audit.redactor(v) for k, v in doc.items()}

    def actor_of(self, p: Proposal) -> Actor:
        ident = get_identity(self.store, p.agent)
        return Actor(p.agent, ident.kind if ident else "agent", p.model, p.model_version)

    def executor_for(self, action: str) -> Executor:
        return self.executor or executor_from_config(self.registry.executor_for(action))

    def health_for(self, action: str) -> HealthCheck | None:
        return self.health or health_from_config(self.registry.health_for(action))

    def note(self, kind: str, actor: Actor, subject: str, data: dict[str, Any]
             ) -> dict[str, Any] | None:
        """An audit entry for a step that may happen unaudited (proposals, refusals)
        when no key is configured; execution uses ``self.audit.append`` directly."""
        try:
            return self.audit.append(kind, actor, subject, data)
        except AuditUnavailable:
            return None

    def graph(self, at: int) -> Graph:
        """The graph at ``at``, reused while the store's revision is unchanged and ``at``
        is within :data:`GRAPH_REUSE` of the cached one (every evaluation reads target
        attributes and trust zones from it)."""
        return self._topology(at)[0]

    def _topology(self, at: int) -> tuple[Graph, Topology]:
        """:meth:`graph` with its :class:`Topology` (indexed once per graph read); one
        thread reads the graph while concurrent ones wait for it."""
        rev = self.store.revision()
        cached = self._graph
        if cached is None or cached[0] != rev or abs(cached[1] - at) > GRAPH_REUSE:
            with self._graph_lock:
                cached = self._graph
                if cached is None or cached[0] != rev or abs(cached[1] - at) > GRAPH_REUSE:
                    graph = self.store.graph(at)
                    cached = (rev, at, graph, Topology.of(graph))
                    self._graph = cached
                    if not getattr(self.store, "settled_graphs", False):
                        settle(len(graph.nodes) + len(graph.edges))
        return cached[2], cached[3]

    def get(self, action_id: str) -> ActionRecord:
        return load(self.store, action_id)

    def list_actions(self, states: Iterable[str] = ()) -> list[ActionRecord]:
        wanted = set(states)
        recs = [ActionRecord(r.doc, r.rev) for r in self.store.list_records(COLLECTION)]
        return sorted((r for r in recs if not wanted or r.state in wanted),
                      key=lambda r: (r.doc.get("proposed_at", 0), r.id))

    # -- propose and evaluate --------------------------------------------------------------
    def propose(self, proposal: Proposal) -> ActionRecord:
        """Record a proposal (idempotent by its signed content) and evaluate it."""
        aid = proposal.action_id
        rec = self.store.get_record(COLLECTION, aid)
        if rec is None:
            rec_new = self._create(proposal, aid)
            if rec_new is None:  # created concurrently by someone else
                return self.evaluate(aid)
        elif rec.doc.get("digest") != proposal.digest:
            raise Conflict(f"action {aid} exists with different content")
        record = load(self.store, aid)
        note_proposal(self.store, proposal, aid, int(record.doc["proposed_at"]))
        return self.evaluate(aid)

    def _create(self, p: Proposal, aid: str) -> ActionRecord | None:
        now = self.clock()
        spec = self.registry.get(p.action)
        doc: dict[str, Any] = {
            "id": aid, "tenant": p.tenant, "state": "proposed", "proposal": p.to_dict(),
            "digest": p.digest, "proposed_at": now,
            "registry_errors": self.registry.check(p.action, p.target, p.inputs),
            "risk": spec.risk if spec else None,
            "change_kind": spec.change_kind if spec else None,
            "reversible": spec.reversible if spec else False,
            "destructive": bool(spec and spec.destructive), "approvals": [],
            "history": [{"state": "proposed", "at": now, "by": p.agent}],
        }
        try:
            rev = self.store.put_record(COLLECTION, aid, doc, expected_rev=0)
        except Conflict:
            return None
        self.note("proposal", self.actor_of(p), aid, {
            "proposal": {k: v for k, v in p.to_dict().items() if k != "signature"},
            "signed": bool(p.signature), "digest": p.digest,
            "registry_errors": doc["registry_errors"]})
        return ActionRecord(doc, rev)

    def predict(self, p: Proposal, spec: ActionSpec, at: int) -> tuple[ImpactSummary | None, str]:
        raw, why = self.predict_raw(p, spec, at)
        return (ImpactSummary.from_impact(raw) if raw is not None else None), why

    def predict_raw(self, p: Proposal, spec: ActionSpec | None, at: int) -> tuple[Any, str]:
        """The engine's prediction for ``p`` on the graph at ``at`` with the tenant's
        memory as priors, or None and why (the engine failing must not crash the control
        plane: the reason goes into the verdict)."""
        if spec is None:
            return None, "no prediction: unregistered action"
        if self.predictor is None:
            return None, "no predictor configured"
        try:
            raw = self.predictor(self.store, p, spec, self.memory(p.tenant).priors(at), at)
        except Exception as exc:
            return None, f"the impact prediction failed: {type(exc).__name__}: {exc}"
        if raw is None:
            return None, "the engine is not available"
        return raw, ""

    def dry_run(self, p: Proposal, at: int | None = None) -> DryRun:
        """Evaluate ``p`` as :meth:`propose` would, recording nothing: no action record,
        no counters, no audit entry. ``at``: the valid time of the graph the prediction
        runs on (default: now)."""
        now = self.clock()
        errors = self.registry.check(p.action, p.target, p.inputs)
        raw, note = (None, "") if errors else self.predict_raw(
            p, self.registry.get(p.action), now if at is None else at)
        summary = ImpactSummary.from_impact(raw) if raw is not None else None
        rec = ActionRecord({"id": p.action_id, "proposal": p.to_dict(), "proposed_at": now,
                            "registry_errors": errors, "state": "proposed"}, 0)
        ctx = self.context(rec, summary, "propose")
        verdict = self.policy.decide(ctx, extra=self.registry_results(rec, ctx))
        return DryRun(p, verdict, raw, note)

    def context(self, rec: ActionRecord, impact: ImpactSummary | None, phase: str
                ) -> EvalContext:
        p = rec.proposal
        now = self.clock()
        mem = self.memory(p.tenant)
        nb = self.policy.rule("network_boundary")
        graph, topology = self._topology(now)
        state = load_state(self.store, p, impact, graph, topology=topology,
                           audit_ready=self.audit.ready, memory_enabled=mem.enabled,
                           zone_threshold=nb.impact_threshold if nb else 0.0)
        return EvalContext(p, rec.id, self.registry.get(p.action), impact, state, now,
                           int(rec.doc["proposed_at"]), phase)

    def registry_results(self, rec: ActionRecord, ctx: EvalContext) -> list[RuleResult]:
        errors = list(rec.doc.get("registry_errors", []))
        if not errors and not ctx.state.target_exists:
            errors.append(f"target {rec.proposal.target} is not in the graph")
        if errors:
            return [RuleResult("registry", "registry", REFUSE, e) for e in errors]
        return [RuleResult("registry", "registry", PROCEED,
                           "registered action, valid inputs, known target")]

    def evaluate(self, action_id: str) -> ActionRecord:
        """Predict the impact and apply the policy (a no-op once evaluated)."""
        rec = self.get(action_id)
        if rec.state != "proposed":
            return rec
        p = rec.proposal
        spec = self.registry.get(p.action)
        impact, why = (None, "") if rec.doc["registry_errors"] or spec is None else \
            self.predict(p, spec, self.clock())
        ctx = self.context(rec, impact, "propose")
        extra = self.registry_results(rec, ctx)
        verdict = self.policy.decide(ctx, extra=extra)
        ok, _ = approvals_satisfy(verdict.needs, [], p.agent)
        target = "refused" if verdict.decision == REFUSE else ("approved" if ok else "evaluated")

        def change(doc: dict[str, Any]) -> None:
            doc["verdict"] = verdict.to_dict()
            doc["state"] = target
            if why:
                doc["impact_note"] = why

        rec, changed = transition(self.store, action_id, {"proposed"}, change, now=ctx.now,
                                  by="ccm")
        if changed:
            self.note("verdict", SYSTEM, action_id, _verdict_entry(verdict))
            self._alarms(rec, verdict)
            if target == "refused":
                return running.close(self, action_id)
        return rec

    def _alarms(self, rec: ActionRecord, verdict: Verdict) -> None:
        for r in verdict.results:
            if r.data.get("alarm"):
                detail = {"rule": r.rule, "reason": r.reason, "agent": rec.proposal.agent}
                self.note("alarm", SYSTEM, rec.id, detail)
                emit(self.store, f"{r.type}_alarm", rec.id, detail, self.clock())

    def reevaluate(self, rec: ActionRecord) -> Verdict:
        """The policy again, right before execution, on the current state."""
        previous = rec.verdict
        ctx = self.context(rec, previous.impact if previous else None, "execute")
        return self.policy.decide(ctx, previous, extra=self.registry_results(rec, ctx))

    # -- approve ---------------------------------------------------------------------------
    def approve(self, action_id: str, approver: str, *, signature: str | None = None,
                note: str = "") -> ActionRecord:
        """Add ``approver``'s approval; the action is approved once the verdict's needs are
        met. Self-approval, unknown or revoked identities and bad signatures are refused."""
        rec = self.get(action_id)
        if rec.state in FINAL or rec.state not in ("evaluated", "approved"):
            raise ActionStateError(f"{action_id} is {rec.state}: only an evaluated action "
                                   "can be approved")
        if any(a["by"] == approver for a in rec.approvals):
            return rec
        ident = get_identity(self.store, approver)
        actor = Actor(approver, ident.kind if ident else "unknown")
        why = None
        if approver == rec.proposal.agent:
            why = "an identity cannot approve its own proposal"
        elif ident is None or ident.revoked:
            why = f"{approver!r} is not a registered identity" if ident is None else \
                f"{approver!r} has been revoked"
        elif signature and not verify_signature(
                ident.public_key, signature, approval_payload(action_id, rec.doc["digest"],
                                                              approver)):
            why = f"the approval signature does not match {approver!r}'s registered key"
        if why:
            self.note("approval", actor, action_id, {"accepted": False, "reason": why})
            raise ActionRefused(f"approval of {action_id} by {approver!r} refused", [why])
        now = self.clock()
        entry: dict[str, Any] = {"by": approver, "kind": ident.kind if ident else "agent",
                                 "at": now, "signed": bool(signature), "note": note}
        if signature:
            entry["signature"] = signature
        rec, changed = transition(self.store, action_id, {"evaluated", "approved"},
                                  lambda doc: _add_approval(doc, entry), now=now, by=approver)
        if changed:
            self.note("approval", actor, action_id, {"accepted": True, "signed": bool(signature),
                                                     "state": rec.state, "note": note})
        return rec

    # -- the rest of the lifecycle (ccm.actions.running) ---------------------------------------
    def execute(self, action_id: str, *, by: Actor | None = None) -> ActionRecord:
        return running.execute(self, action_id, by=by)

    def record_outcome(self, action_id: str, healthy: bool, *,
                       observed_impacted: Sequence[str] = (), by: Actor = SYSTEM,
                       note: str = "") -> ActionRecord:
        return running.record_outcome(self, action_id, healthy,
                                      observed_impacted=observed_impacted, by=by, note=note)

    def resume(self, action_id: str) -> ActionRecord:
        return running.resume(self, action_id)

    def reconcile(self) -> list[ActionRecord]:
        """Resume every action left mid-way (``ccm serve`` does this before it listens): an
        execution whose process died becomes ``unknown`` (see :meth:`resume`)."""
        return [self.resume(r.id) for r in self.list_actions(
            ("executing", "outcome", "reverting"))]


def _add_approval(doc: dict[str, Any], entry: dict[str, Any]) -> bool:
    if any(a["by"] == entry["by"] for a in doc["approvals"]):
        return False
    doc["approvals"].append(entry)
    needs = Verdict.from_dict(doc["verdict"]).needs
    ok, _ = approvals_satisfy(needs, doc["approvals"], doc["proposal"]["agent"])
    if ok:
        doc["state"] = "approved"
    return True


def _verdict_entry(verdict: Verdict) -> dict[str, Any]:
    impact = verdict.impact
    return {"decision": verdict.decision, "needs": verdict.needs.to_dict(),
            "dry_run": verdict.dry_run, "phase": verdict.phase,
            "reasons": verdict.reasons,
            "impact": None if impact is None else {
                "p_fail": impact.p_fail, "traffic_p95": impact.traffic_p95,
                "services_p95": impact.services_p95, "samples": impact.samples,
                "seed": impact.seed}}
