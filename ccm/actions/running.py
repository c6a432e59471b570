"""Execution and what follows it: execute (at most once, after a signed audit entry),
record the outcome, revert automatically where due, write memory, close.

Functions over a :class:`ControllerLike`; each step is a
durable transition, so :func:`resume` can pick an action up after a restart.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Sequence
from typing import Any, Protocol

from ccm.actions.executors import (
    DryRunExecutor,
    ExecutionRequest,
    ExecutionResult,
    Executor,
    HealthCheck,
)
from ccm.actions.records import RAN, ActionRecord, approvals_satisfy, load, transition
from ccm.audit.log import SYSTEM, Actor, AuditLog
from ccm.errors import ActionRefused, ActionStateError, NotFound
from ccm.memory.memory import Memory
from ccm.policy.autonomy import autonomy_key
from ccm.policy.autonomy import record_outcome as autonomy_outcome
from ccm.policy.config import Policy
from ccm.policy.counters import mark_session_failed
from ccm.policy.events import emit
from ccm.policy.proposal import Proposal
from ccm.policy.registry import Registry
from ccm.policy.rules.oversight import switch_scopes
from ccm.policy.types import PROCEED, REFUSE, Verdict
from ccm.store import Clock, Store


class ControllerLike(Protocol):
    """What the steps here need of :class:`ccm.actions.lifecycle.Controller`, which
    calls them (the one implementation)."""

    store: Store
    clock: Clock
    registry: Registry
    policy: Policy
    audit: AuditLog

    def memory(self, tenant: str) -> Memory: ...
    def public(self, rec: ActionRecord | dict[str, Any]) -> dict[str, Any]: ...
    def actor_of(self, p: Proposal) -> Actor: ...
    def executor_for(self, action: str) -> Executor: ...
    def health_for(self, action: str) -> HealthCheck | None: ...
    def note(self, kind: str, actor: Actor, subject: str, data: dict[str, Any]
             ) -> dict[str, Any] | None: ...
    def get(self, action_id: str) -> ActionRecord: ...
    def evaluate(self, action_id: str) -> ActionRecord: ...
    def reevaluate(self, rec: ActionRecord) -> Verdict: ...


def request_of(rec: ActionRecord) -> ExecutionRequest:
    p = rec.doc["proposal"]
    attempt = int((rec.doc.get("execution") or {}).get("attempt", 1))
    return ExecutionRequest(rec.id, p["action"], p["target"], dict(p.get("inputs", {})),
                            p["agent"], p.get("tenant", "default"), attempt,
                            rec.doc.get("revert_of"))


def execute(ctl: ControllerLike, action_id: str, *, by: Actor | None = None) -> ActionRecord:
    """Execute an approved action once; repeating it returns the current state."""
    rec = ctl.get(action_id)
    if rec.state == "proposed":
        rec = ctl.evaluate(action_id)
    if rec.state in RAN:
        return rec
    if rec.state == "refused":
        v = rec.verdict
        raise ActionRefused(f"{action_id} was refused",
                            [r for r in (v.reasons if v else []) if ": refuse: " in r])
    verdict = ctl.reevaluate(rec)
    ok, missing = approvals_satisfy(verdict.needs, rec.approvals, rec.doc["proposal"]["agent"])
    if verdict.decision == REFUSE or not ok:
        _refuse_execution(ctl, rec, verdict, missing)
    actor = by or ctl.actor_of(rec.proposal)
    dry = verdict.dry_run
    executor: Executor = DryRunExecutor() if dry else ctl.executor_for(rec.doc["proposal"][
        "action"])
    return run(ctl, rec, executor, actor, verdict)


def _refuse_execution(ctl: ControllerLike, rec: ActionRecord, verdict: Verdict,
                      missing: str) -> None:
    refusing = [r for r in verdict.reasons if ": refuse: " in r]
    reasons = refusing or [f"needs {verdict.needs.describe()}: missing {missing}"]
    now = ctl.clock()

    def change(doc: dict[str, Any]) -> None:
        doc.setdefault("refusals", []).append({"at": now, "phase": "execute",
                                               "reasons": reasons})
        if verdict.decision != REFUSE:  # more approvals are needed now: back to waiting
            doc["verdict"] = verdict.to_dict()
            doc["state"] = "evaluated"

    transition(ctl.store, rec.id, {"approved", "evaluated"}, change, now=now, by="ccm")
    ctl.note("execution_refused", SYSTEM, rec.id, {"reasons": reasons,
                                                   "decision": verdict.decision})
    raise ActionRefused(f"execution of {rec.id} refused", reasons)


def run(ctl: ControllerLike, rec: ActionRecord, executor: Executor, actor: Actor,
        verdict: Verdict | None) -> ActionRecord:
    """approved -> executing -> (signed audit entry) -> executor -> executed | failed."""
    now = ctl.clock()
    attempt = len(rec.doc.get("attempts", [])) + 1
    dry = isinstance(executor, DryRunExecutor)

    def start(doc: dict[str, Any]) -> None:
        doc["state"] = "executing"
        doc["execution"] = {"attempt": attempt, "started_at": now, "executor": executor.name,
                            "dry_run": dry, "by": actor.id, "owner": this_process()}
        doc.setdefault("attempts", []).append(now)

    rec, changed = transition(ctl.store, rec.id, {"approved"}, start, now=now, by=actor.id)
    if not changed:
        return rec
    try:
        entry = ctl.audit.append("execution", actor, rec.id, {
            "attempt": attempt, "executor": executor.name, "dry_run": dry,
            "action": rec.doc["proposal"]["action"], "target": rec.doc["proposal"]["target"],
            "inputs": rec.doc["proposal"].get("inputs", {}),
            "decision": verdict.decision if verdict else None})
    except Exception:
        transition(ctl.store, rec.id, {"executing"}, _back_to_approved, now=now, by="ccm")
        raise
    transition(ctl.store, rec.id, {"executing"},
               lambda doc: doc["execution"].update(audit_seq=entry["seq"]), now=now, by="ccm")
    result = executor.run(request_of(ctl.get(rec.id)))
    return finish_execution(ctl, rec.id, result, actor)


def _back_to_approved(doc: dict[str, Any]) -> None:
    doc["state"] = "approved"
    doc.pop("execution", None)


def finish_execution(ctl: ControllerLike, action_id: str, result: ExecutionResult,
                     actor: Actor) -> ActionRecord:
    now = ctl.clock()

    def done(doc: dict[str, Any]) -> None:
        doc["state"] = "executed" if result.ok else "failed"
        doc["execution"].update(at=now, ok=result.ok, result=result.to_dict())

    rec, changed = transition(ctl.store, action_id, {"executing"}, done, now=now, by=actor.id)
    if not changed:
        return rec
    dry = bool(rec.doc["execution"].get("dry_run"))
    if result.ok and not dry and rec.doc.get("change_kind"):
        ctl.memory(rec.doc["tenant"]).record_execution(ctl.public(rec))
    ctl.note("executed", actor, action_id, {"ok": result.ok, "detail": result.detail,
                                            "dry_run": dry})
    if dry or rec.doc.get("revert_of"):
        return rec if rec.doc.get("revert_of") else close(ctl, action_id)
    if not result.ok:
        return record_outcome(ctl, action_id, False, by=SYSTEM,
                              note=f"execution failed: {result.detail}")
    health = ctl.health_for(rec.doc["proposal"]["action"])
    if health is not None:
        h = health.check(request_of(rec))
        return record_outcome(ctl, action_id, h.healthy, observed_impacted=h.observed_impacted,
                              by=SYSTEM, note=h.note)
    return rec


def record_outcome(ctl: ControllerLike, action_id: str, healthy: bool, *,
                   observed_impacted: Sequence[str] = (), by: Actor = SYSTEM,
                   note: str = "") -> ActionRecord:
    """Record the observed outcome, then revert where due, write memory and close."""
    rec = ctl.get(action_id)
    if rec.state == "closed" and not rec.doc.get("outcome"):
        raise ActionStateError(f"{action_id} closed without running for real (a dry run): "
                               "there is no outcome to record")
    if rec.state in ("outcome", "reverting", "closed"):
        return finish(ctl, action_id)
    if rec.state not in ("executed", "failed", "unknown"):
        raise ActionStateError(f"{action_id} is {rec.state}: an outcome is recorded after "
                               "execution")
    if rec.state == "unknown" and by.kind != "human":
        raise ActionStateError(f"{action_id}'s execution is unknown (its process died): a "
                               "person (an SRE or an admin) records what happened")
    now = ctl.clock()
    mem = ctl.memory(rec.doc["tenant"])
    evidence = mem.observe_outcome(rec.doc, healthy, observed_impacted)
    outcome = {"healthy": bool(healthy), "observed_impacted": sorted(set(observed_impacted)),
               "at": now, "by": by.id, "note": note, "edge_evidence": evidence}

    def change(doc: dict[str, Any]) -> None:
        doc["state"] = "outcome"
        doc["outcome"] = outcome

    rec, changed = transition(ctl.store, action_id, {"executed", "failed", "unknown"}, change,
                              now=now, by=by.id)
    if changed:
        ctl.note("outcome", by, action_id, {k: v for k, v in outcome.items()
                                            if k != "edge_evidence"})
        p = rec.proposal
        rule = ctl.policy.rule("earned_autonomy")
        if rule is not None:
            autonomy_outcome(ctl.store, rule, rec.doc.get("risk") or "critical",
                             autonomy_key(p.tenant, p.action, p.target), action_id, healthy,
                             now)
        if not healthy:
            mark_session_failed(ctl.store, p, action_id)
    return finish(ctl, action_id)


def finish(ctl: ControllerLike, action_id: str) -> ActionRecord:
    """After the outcome: revert if due, then close (resumable at every point)."""
    rec = ctl.get(action_id)
    if rec.state == "outcome":
        if not _revert_due(ctl, rec):
            return close(ctl, action_id)
        rec, _ = transition(ctl.store, action_id, {"outcome"},
                            lambda doc: doc.update(state="reverting"), now=ctl.clock(),
                            by="ccm")
    if rec.state == "reverting":
        revert(ctl, rec)
        return close(ctl, action_id)
    return rec


def _revert_due(ctl: ControllerLike, rec: ActionRecord) -> bool:
    rule = ctl.policy.rule("reversible")
    outcome = rec.doc.get("outcome") or {}
    return bool(rec.doc.get("reversible") and outcome.get("healthy") is False
                and (rule is None or rule.auto_revert))


def revert(ctl: ControllerLike, rec: ActionRecord) -> None:
    """Undo an unhealthy action with its registered revert action (once)."""
    if (rec.doc.get("revert") or {}).get("done"):
        return
    p = rec.doc["proposal"]
    spec = ctl.registry.get(p["action"])
    now = ctl.clock()
    if spec is None or not spec.revert_action:
        info: dict[str, Any] = {"done": True, "action_id": None, "ok": True,
                                "detail": "nothing persists to revert"}
    else:
        rid = f"{rec.id}-revert"
        inputs = spec.revert_inputs_for(p.get("inputs", {}), p["target"])
        revert_rec = _revert_record(ctl, rec, rid, spec.revert_action, inputs, now)
        ctl.note("revert", SYSTEM, rec.id, {"revert_action": spec.revert_action,
                                            "revert_id": rid, "inputs": inputs})
        if revert_rec.state == "approved":
            dry = _dry_run_switch(ctl, spec.revert_action, p["target"])
            executor = DryRunExecutor() if dry else ctl.executor_for(spec.revert_action)
            revert_rec = run(ctl, revert_rec, executor, SYSTEM, None)
        ok = revert_rec.state == "executed"
        close(ctl, rid)
        info = {"done": True, "action_id": rid, "ok": ok,
                "detail": (revert_rec.doc.get("execution") or {}).get("result", {}).get(
                    "detail", revert_rec.state)}
    transition(ctl.store, rec.id, {"reverting"}, lambda doc: doc.update(revert=info),
               now=now, by="ccm")


def _dry_run_switch(ctl: ControllerLike, action: str, target: str) -> bool:
    """Reverts ignore pauses (they restore the previous state) but honour dry-run mode."""
    switches = {r.key: r.doc for r in ctl.store.list_records("switches")}
    return any(switches.get(s, {}).get("dry_run") for s in switch_scopes(action, target, "ccm"))


def _revert_record(ctl: ControllerLike, rec: ActionRecord, rid: str, action: str,
                   inputs: dict[str, Any], now: int) -> ActionRecord:
    try:
        return load(ctl.store, rid)
    except NotFound:
        pass
    p = rec.doc["proposal"]
    spec = ctl.registry.get(action)
    errors = spec.input_errors(inputs) if spec else [f"{action} is not registered"]
    reason = f"automatic revert of {rec.id} after an unhealthy outcome"
    verdict = {"decision": REFUSE if errors else PROCEED, "needs": {"approvals": 0},
               "dry_run": False, "evaluated_at": now, "phase": "revert", "impact": None,
               "results": [{"rule": "auto_revert", "type": "reversible",
                            "decision": REFUSE if errors else PROCEED,
                            "reason": "; ".join(errors) or reason}]}
    proposal = {"action": action, "target": p["target"], "inputs": inputs, "agent": "ccm",
                "model": "", "model_version": "", "tenant": rec.doc["tenant"],
                "session": "", "step": 1, "plan_length": 1, "created_at": now,
                "nonce": rid, "reason": reason, "signature": ""}
    doc = {"id": rid, "tenant": rec.doc["tenant"], "state": "refused" if errors else "approved",
           "proposal": proposal, "digest": "", "proposed_at": now, "registry_errors": errors,
           "risk": spec.risk if spec else None,
           "change_kind": spec.change_kind if spec else None,
           "reversible": False, "destructive": False, "approvals": [], "verdict": verdict,
           "revert_of": rec.id, "history": [{"state": "approved", "at": now, "by": "ccm"}]}
    ctl.store.put_record("actions", rid, doc)
    return load(ctl.store, rid)


def close(ctl: ControllerLike, action_id: str) -> ActionRecord:
    """Write the action to memory, then close it (nothing closes unwritten)."""
    rec = ctl.get(action_id)
    if rec.state == "closed" or (rec.state == "refused" and rec.doc.get("memory")):
        return rec
    if rec.state not in ("outcome", "reverting", "executed", "failed", "refused"):
        raise ActionStateError(f"{action_id} is {rec.state}: it cannot close yet")
    now = ctl.clock()
    final = rec.to_dict()
    final["closed_at"] = now
    if final["state"] != "refused":
        final["state"] = "closed"
    mem = ctl.memory(rec.doc["tenant"])
    final = ctl.public(final)  # memory keeps fingerprints of secret values, never them
    result = mem.record_action(final, dict(final["proposal"].get("inputs", {})))

    def change(doc: dict[str, Any]) -> None:
        doc["state"] = final["state"]
        doc["closed_at"] = now
        doc["memory"] = {"written": True, "at": now, "facts_added": result.added}

    rec, changed = transition(ctl.store, action_id, {rec.state}, change, now=now, by="ccm")
    if changed:
        ctl.note("close", SYSTEM, action_id, {"state": rec.state,
                                              "outcome": rec.doc.get("outcome", {}).get(
                                                  "healthy"),
                                              "reverted": bool((rec.doc.get("revert") or {})
                                                               .get("action_id")),
                                              "memory_facts_added": result.added})
    return rec


def this_process() -> dict[str, Any]:
    """Who runs an execution: this host and process (to tell, after a restart, whether an
    execution still in progress has anyone running it)."""
    return {"host": socket.gethostname(), "pid": os.getpid()}


def owner_alive(owner: Any) -> bool:
    """Whether the process that started an execution still runs (on this host; on another
    host nobody here can tell, so it counts as alive). No owner recorded: not alive."""
    if not isinstance(owner, dict) or not isinstance(owner.get("pid"), int):
        return False
    if owner.get("host") != socket.gethostname():
        return True
    try:
        os.kill(owner["pid"], 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _execution_unknown(ctl: ControllerLike, rec: ActionRecord) -> ActionRecord:
    """An execution whose process died after its audit entry: it may have run, so it is
    never run again; it becomes ``unknown``, with an alarm, until a person records what
    happened."""
    now = ctl.clock()
    rec, changed = transition(ctl.store, rec.id, {"executing"},
                              lambda doc: doc.update(state="unknown"), now=now, by="ccm")
    if changed:
        detail = {"reason": "the process executing it died before the executor reported; "
                            "it is not run again: an SRE or an admin records its outcome",
                  "owner": rec.doc["execution"].get("owner")}
        ctl.note("alarm", SYSTEM, rec.id, detail)
        emit(ctl.store, "execution_unknown_alarm", rec.id, detail, now)
    return rec


def resume(ctl: ControllerLike, action_id: str) -> ActionRecord:
    """Carry an action on after a restart: evaluate, finish, close, undo an execution
    that never reached its audit entry (it did not run), or mark ``unknown`` one whose
    executing process is gone (it may have run: exactly once, it is never run again)."""
    rec = ctl.get(action_id)
    if rec.state == "proposed":
        return ctl.evaluate(action_id)
    if rec.state == "executing" and "audit_seq" not in (rec.doc.get("execution") or {}):
        rec, _ = transition(ctl.store, action_id, {"executing"}, _back_to_approved,
                            now=ctl.clock(), by="ccm")
        return rec
    if rec.state == "executing" and not owner_alive(rec.doc["execution"].get("owner")):
        return _execution_unknown(ctl, rec)
    if rec.state in ("outcome", "reverting"):
        return finish(ctl, action_id)
    if rec.state == "refused" and not rec.doc.get("memory"):
        return close(ctl, action_id)
    if rec.state == "executed" and (rec.doc.get("execution") or {}).get("dry_run"):
        return close(ctl, action_id)
    return rec
