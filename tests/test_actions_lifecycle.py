"""The action lifecycle, durable in the store, on both backends."""

from __future__ import annotations

import pytest

from ccm.audit import verify_store
from ccm.audit.log import AuditLog
from ccm.errors import ActionRefused, ActionStateError, AuditUnavailable
from ccm.policy.controls import grant, revoke, set_switch
from tests.controlkit import (
    ADMIN,
    AUDIT_KEY,
    BOB_KEY,
    HOUR,
    config_change,
    controller,
    proposal,
    recorder,
    runs,
    setup_store,
    signed_approval,
)


@pytest.fixture
def ran(tmp_path):
    return tmp_path / "runs.jsonl"


@pytest.fixture
def ctl(store, clock, ran):
    setup_store(store, clock)
    return controller(store, clock, executor=recorder(ran))


def states(rec) -> list[str]:
    return [h["state"] for h in rec.doc["history"]]


def audit_kinds(store, subject) -> list[str]:
    return [e["kind"] for _, e in store.read_log("audit") if e["subject"] == subject]


def test_a_low_risk_action_runs_from_proposal_to_close(ctl, store, ran):
    rec = ctl.propose(proposal(ctl.clock))
    assert rec.state == "approved" and rec.verdict.decision == "proceed"
    rec = ctl.execute(rec.id)
    assert rec.state == "executed" and len(runs(ran)) == 1
    assert runs(ran)[0]["action"] == "restart" and runs(ran)[0]["target"] == "service:cart"
    rec = ctl.record_outcome(rec.id, True)
    assert rec.state == "closed" and rec.doc["memory"]["written"]
    assert states(rec) == ["proposed", "approved", "executing", "executed", "outcome",
                           "closed"]
    assert audit_kinds(store, rec.id) == ["proposal", "verdict", "execution", "executed",
                                          "outcome", "close"]
    node = store.graph().nodes[f"action:{rec.id}"]
    assert node.attrs["outcome"] == "healthy" and node.attrs["status"] == "closed"
    assert verify_store(store, [AUDIT_KEY.public_b64]).ok


def test_every_transition_repeated_is_a_no_op_returning_the_same_state(ctl, store, ran):
    p = config_change(ctl.clock)
    first = ctl.propose(p)
    again = ctl.propose(p)
    assert (again.id, again.state, again.rev) == (first.id, "evaluated", first.rev)
    assert ctl.evaluate(first.id).rev == first.rev
    approved = ctl.approve(first.id, "alice")
    assert ctl.approve(first.id, "alice").rev == approved.rev
    executed = ctl.execute(first.id)
    assert ctl.execute(first.id).rev == executed.rev and len(runs(ran)) == 1
    closed = ctl.record_outcome(first.id, True)
    assert ctl.record_outcome(first.id, False).rev == closed.rev
    assert closed.doc["outcome"]["healthy"] is True
    assert audit_kinds(store, first.id).count("execution") == 1


def test_a_refused_proposal_lists_every_reason_and_is_remembered(ctl, store):
    rec = ctl.propose(proposal(ctl.clock, "reboot_planet", "service:cart"))
    assert rec.state == "refused" and rec.verdict.decision == "refuse"
    assert rec.verdict.reasons[0].startswith("registry: refuse: action 'reboot_planet' is not")
    assert len(rec.verdict.results) == len(ctl.policy.rules) + 1
    assert store.graph().nodes[f"action:{rec.id}"].attrs["status"] == "refused"
    with pytest.raises(ActionRefused, match="was refused"):
        ctl.execute(rec.id)
    with pytest.raises(ActionStateError):
        ctl.approve(rec.id, "alice")


def test_an_unknown_target_is_refused(ctl):
    rec = ctl.propose(proposal(ctl.clock, target="service:ghost"))
    assert rec.state == "refused"
    assert "target service:ghost is not in the graph" in rec.verdict.reasons[0]


def test_an_identity_cannot_approve_its_own_proposal(ctl, store):
    rec = ctl.propose(config_change(ctl.clock))
    with pytest.raises(ActionRefused, match="cannot approve its own proposal"):
        ctl.approve(rec.id, "deploy-bot")
    assert ctl.get(rec.id).state == "evaluated"
    refused = [e for _, e in store.read_log("audit") if e["kind"] == "approval"]
    assert refused[-1]["data"]["accepted"] is False


def test_unknown_or_revoked_approvers_and_bad_signatures_are_refused(ctl, store):
    rec = ctl.propose(config_change(ctl.clock))
    with pytest.raises(ActionRefused, match="not a registered identity"):
        ctl.approve(rec.id, "mallory")
    with pytest.raises(ActionRefused, match="signature does not match"):
        ctl.approve(rec.id, "alice", signature=signed_approval(ctl, rec.id, "alice", BOB_KEY))
    from ccm.policy.identities import revoke_identity
    revoke_identity(store, "alice")
    with pytest.raises(ActionRefused, match="has been revoked"):
        ctl.approve(rec.id, "alice")


def test_a_high_risk_action_needs_a_quorum_of_distinct_identities(ctl):
    rec = ctl.propose(proposal(ctl.clock, "infra_change", "service:cart",
                               {"resource": "node-pool-a", "change": "resize"}))
    assert rec.verdict.needs.approvals == 2 and rec.verdict.needs.human
    rec = ctl.approve(rec.id, "other-bot")
    assert rec.state == "evaluated"
    with pytest.raises(ActionRefused, match="missing 1 more approval, a human approval"):
        ctl.execute(rec.id)
    assert ctl.approve(rec.id, "other-bot").state == "evaluated"  # the same identity twice
    assert ctl.approve(rec.id, "alice").state == "approved"


def test_a_destructive_migration_needs_a_signed_human_approval(ctl):
    rec = ctl.propose(proposal(ctl.clock, "schema_migration", "datastore:orders-db",
                               {"migration": "m-7", "statements": ["ALTER TABLE o DROP COLUMN x"],
                                "destructive": True}))
    assert rec.verdict.needs.signature
    ctl.approve(rec.id, "alice")
    assert ctl.approve(rec.id, "carol").state == "evaluated"  # two, but none signed
    sig = signed_approval(ctl, rec.id, "bob", BOB_KEY)
    assert ctl.approve(rec.id, "bob", signature=sig).state == "approved"


def test_an_expired_grant_refuses_the_execution_of_an_approved_action(store, clock, ran):
    setup_store(store, clock, grant_all=False)
    log = AuditLog(store, AUDIT_KEY, clock)
    g = grant(store, log, agent="deploy-bot", actions=["restart"], targets=["service:*"],
              expires_at=clock() + HOUR, by=ADMIN, now=clock())
    ctl = controller(store, clock, executor=recorder(ran))
    rec = ctl.propose(proposal(clock))
    assert rec.state == "approved"
    clock.advance(2 * HOUR)
    with pytest.raises(ActionRefused, match=f"grant {g.id} expired at"):
        ctl.execute(rec.id)
    assert ctl.get(rec.id).state == "approved" and runs(ran) == []
    assert ctl.propose(proposal(clock, nonce="2")).state == "refused"


def test_a_revoked_grant_refuses_new_proposals(store, clock):
    setup_store(store, clock, grant_all=False)
    log = AuditLog(store, AUDIT_KEY, clock)
    g = grant(store, log, agent="deploy-bot", actions=["*"], targets=["*"],
              expires_at=clock() + HOUR, by=ADMIN, now=clock())
    revoke(store, log, g.id, by=ADMIN, now=clock())
    rec = controller(store, clock).propose(proposal(clock))
    assert rec.state == "refused" and any("was revoked" in r for r in rec.verdict.reasons)


def test_a_kill_switch_thrown_mid_plan_stops_the_next_step(ctl, store, clock, ran):
    steps = [ctl.propose(proposal(clock, session="plan-1", step=i, plan_length=3, nonce=str(i)))
             for i in (1, 2, 3)]
    assert [s.state for s in steps] == ["approved"] * 3
    ctl.execute(steps[0].id)
    set_switch(store, ctl.audit, "agent:deploy-bot", by=ADMIN, paused=True,
               reason="stop the bot", now=clock())
    with pytest.raises(ActionRefused, match=r"paused \(agent:deploy-bot\) by root"):
        ctl.execute(steps[1].id)
    assert ctl.get(steps[1].id).state == "approved" and len(runs(ran)) == 1
    assert "execution_refused" in audit_kinds(store, steps[1].id)
    set_switch(store, ctl.audit, "agent:deploy-bot", by=ADMIN, paused=False, now=clock())
    assert ctl.execute(steps[1].id).state == "executed" and len(runs(ran)) == 2


def test_dry_run_mode_executes_nothing_for_real_and_closes(ctl, store, clock, ran):
    set_switch(store, ctl.audit, "global", by=ADMIN, dry_run=True, now=clock())
    rec = ctl.execute(ctl.propose(proposal(clock)).id)
    assert rec.state == "closed" and runs(ran) == []
    assert rec.doc["execution"]["dry_run"] and rec.doc["execution"]["executor"] == "dry-run"
    assert store.graph().nodes[f"action:{rec.id}"].attrs["dry_run"] is True


def test_a_restart_between_approval_and_execution_loses_nothing(store, clock, ran, request):
    setup_store(store, clock)
    rec = controller(store, clock).propose(config_change(clock))
    controller(store, clock).approve(rec.id, "alice")
    if request.node.callspec.params["store"] == "embedded":
        from ccm.store import EmbeddedStore
        reopened = EmbeddedStore(store.path, clock=clock)
    else:
        from ccm.store.neo4j import Neo4jStore
        reopened = Neo4jStore(store.uri, clock=clock)
    store.close()
    try:
        ctl2 = controller(reopened, clock, executor=recorder(ran))
        assert ctl2.get(rec.id).state == "approved"
        done = ctl2.execute(rec.id)
        assert done.state == "executed" and len(runs(ran)) == 1
        assert ctl2.record_outcome(rec.id, True).state == "closed"
        assert verify_store(reopened, [AUDIT_KEY.public_b64]).ok
    finally:
        reopened.close()


def test_an_unhealthy_outcome_is_reverted_automatically(ctl, store, ran):
    rec = ctl.propose(config_change(ctl.clock, value="50"))
    ctl.approve(rec.id, "alice")
    ctl.execute(rec.id)
    rec = ctl.record_outcome(rec.id, False, observed_impacted=["service:frontend"])
    assert rec.state == "closed"
    assert states(rec)[-4:] == ["executed", "outcome", "reverting", "closed"]
    revert = rec.doc["revert"]
    assert revert["ok"] and revert["action_id"] == f"{rec.id}-revert"
    sent = runs(ran)
    assert [r["inputs"]["value"] for r in sent] == ["50", "500"]
    assert sent[1]["revert_of"] == rec.id
    g = store.graph()
    assert g.nodes[f"action:{rec.id}"].attrs["reverted"] is True
    assert g.nodes[f"action:{rec.id}-revert"].attrs["revert_of"] == rec.id
    assert g.nodes[f"change:{rec.id}"].attrs["outcome"] == "unhealthy"
    assert g.nodes[f"change:{rec.id}-revert"].attrs["change_kind"] == "rollback"
    assert g.nodes["config:cart/REDIS_TIMEOUT_MS"].attrs["value"] == "500"
    assert "revert" in audit_kinds(store, rec.id)


def test_an_irreversible_action_is_not_reverted(ctl, ran):
    rec = ctl.propose(proposal(ctl.clock, "cache_flush", "cache:redis"))
    ctl.approve(rec.id, "alice")
    ctl.execute(rec.id)
    rec = ctl.record_outcome(rec.id, False)
    assert rec.state == "closed" and "revert" not in rec.doc and len(runs(ran)) == 1


def test_a_failed_execution_is_unhealthy_reverted_and_stops_its_session(ctl, clock, ran):
    rec = ctl.propose(config_change(clock, value="explode", session="plan-9", plan_length=2,
                                    step=1))
    ctl.approve(rec.id, "alice")
    rec = ctl.execute(rec.id)
    assert rec.state == "closed" and rec.doc["execution"]["ok"] is False
    assert rec.doc["outcome"]["healthy"] is False and rec.doc["revert"]["ok"]
    nxt = ctl.propose(proposal(clock, session="plan-9", plan_length=2, step=2))
    assert nxt.state == "refused"
    assert any(f"hard stop: {rec.id}" in r for r in nxt.verdict.reasons)


def test_a_health_probe_decides_the_outcome_after_execution(store, clock, ran):
    from tests.controlkit import probe
    setup_store(store, clock)
    ctl = controller(store, clock, executor=recorder(ran),
                     health=probe(False, "service:frontend"))
    rec = ctl.propose(config_change(clock))
    ctl.approve(rec.id, "alice")
    rec = ctl.execute(rec.id)
    assert rec.state == "closed" and rec.doc["outcome"]["observed_impacted"] == [
        "service:frontend"]
    assert rec.doc["revert"]["ok"] and len(runs(ran)) == 2


def test_without_an_audit_key_nothing_executes(store, clock, ran):
    setup_store(store, clock)
    ctl = controller(store, clock, signer=None, executor=recorder(ran))
    rec = ctl.propose(proposal(clock))
    assert rec.state == "refused"
    assert any(r.startswith("signed_audit: refuse") for r in rec.verdict.reasons)
    assert runs(ran) == []


def test_an_audit_failure_before_execution_leaves_it_unexecuted(ctl, ran, monkeypatch):
    rec = ctl.propose(proposal(ctl.clock))

    def broken(*a, **k):
        raise AuditUnavailable("disk full")

    monkeypatch.setattr(ctl.audit, "append", broken)
    with pytest.raises(AuditUnavailable):
        ctl.execute(rec.id)
    assert ctl.get(rec.id).state == "approved" and runs(ran) == []


def test_resume_undoes_an_execution_that_never_reached_its_audit_entry(ctl, store):
    from ccm.actions.records import transition
    rec = ctl.propose(proposal(ctl.clock))
    transition(store, rec.id, {"approved"},
               lambda d: d.update(state="executing", execution={"attempt": 1}),
               now=ctl.clock(), by="test")
    assert ctl.resume(rec.id).state == "approved"


def test_drift_raises_review_and_an_alarm(ctl, store):
    from ccm.policy.events import COUNTS, events
    before = COUNTS["drift_detection_alarm"]
    rec = ctl.propose(proposal(ctl.clock, "scale", "service:cart",
                               {"replicas": 3, "previous_replicas": 2}))
    assert rec.state == "evaluated"
    assert any(r.startswith("drift_detection: review: drift") for r in rec.verdict.reasons)
    assert "alarm" in audit_kinds(store, rec.id)
    assert events(store)[-1]["name"] == "drift_detection_alarm"
    assert COUNTS["drift_detection_alarm"] == before + 1


def test_the_rate_limit_refuses_the_eleventh_action_on_a_service(ctl, clock):
    for i in range(10):
        assert ctl.propose(proposal(clock, nonce=str(i))).state != "refused"
        clock.advance(60_000_000)
    rec = ctl.propose(proposal(clock, nonce="10"))
    assert rec.state == "refused"
    assert any("rate_per_service: refuse: 10 earlier actions" in r for r in rec.verdict.reasons)


def test_two_processes_racing_to_execute_run_it_once(store, clock, ran, request):
    import threading

    setup_store(store, clock)
    rec = controller(store, clock).propose(proposal(clock))
    if request.node.callspec.params["store"] == "embedded":
        from ccm.store import EmbeddedStore
        others = [EmbeddedStore(store.path, clock=clock) for _ in range(3)]
    else:
        from ccm.store.neo4j import Neo4jStore
        others = [Neo4jStore(store.uri, clock=clock) for _ in range(3)]
    results, errors = [], []

    def go(s):
        try:
            results.append(controller(s, clock, executor=recorder(ran)).execute(rec.id).state)
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=go, args=(s,)) for s in others]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for s in others:
        s.close()
    assert not errors and len(results) == 3
    assert len(runs(ran)) == 1
    assert audit_kinds(store, rec.id).count("execution") == 1
    assert controller(store, clock).get(rec.id).state == "executed"
