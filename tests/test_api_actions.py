"""The action lifecycle over real HTTP: propose, read, approve, execute, outcome; role and
tenant boundaries; every mutating call attributed to the token's identity in the audit."""

from __future__ import annotations

import pytest

from ccm.cli.demo import load_demo
from tests.api_support import (
    TOKENS,
    assert_problem,
    audit_key_b64,
    command_registry,
    register_identities,
    serve_store,
    signed_proposal,
)

RESTART = {"action": "restart", "target": "service:cartservice", "model": "claude"}


@pytest.fixture
def api(tmp_path, clock):
    store = load_demo(tmp_path / "demo.sqlite")
    register_identities(store)
    actions = command_registry(tmp_path / "actions.yaml")
    with serve_store(store, clock, audit_key=audit_key_b64(), actions=actions) as running:
        with running.client("admin") as admin:
            for who in ("deploy-bot", "alice"):
                r = admin.post("/v1/admin/grants", json={
                    "agent": who, "actions": ["restart", "config_change"],
                    "targets": ["service:*"], "expires_at": "2026-04-02T00:00:00Z"})
                assert r.status_code == 201, r.text
        yield running
    store.close()


def propose(running, who: str = "agent", body: dict | None = None, sign: bool = True):
    _, identity, _, tenant = TOKENS[who]
    payload = body or RESTART
    if sign:
        payload = signed_proposal(payload, identity, tenant, created_at=1_775_001_600_000_000)
    with running.client(who) as c:
        return c.post("/v1/actions", json=payload)


def audit_actors(running) -> list[tuple[str, str]]:
    with running.client("sre") as c:
        entries = c.get("/v1/audit").json()["entries"]
    return [(e["kind"], e["actor"]["id"]) for e in entries]


def test_a_signed_proposal_is_recorded_evaluated_and_attributed(api):
    r = propose(api)
    assert r.status_code == 201, r.text
    rec = r.json()
    assert r.headers["location"] == f"/v1/actions/{rec['id']}"
    assert rec["proposal"]["agent"] == "deploy-bot" and rec["tenant"] == "default"
    assert rec["verdict"]["decision"] in ("proceed", "review")
    assert rec["verdict"]["impact"]["p_fail"] > 0
    assert ("proposal", "deploy-bot") in audit_actors(api)


def test_proposing_the_same_signed_proposal_again_is_a_200_no_op(api):
    first = propose(api).json()
    again = propose(api)
    assert again.status_code == 200 and again.json()["id"] == first["id"]


def test_an_unsigned_proposal_is_refused_by_identity_binding(api):
    rec = propose(api, sign=False).json()
    assert rec["state"] == "refused"
    assert any(res["rule"] == "identity_binding" and res["decision"] == "refuse"
               for res in rec["verdict"]["results"])


def test_a_proposal_as_someone_else_is_forbidden(api):
    body = {**RESTART, "agent": "other-bot"}
    with api.client("agent") as c:
        body_ = assert_problem(c.post("/v1/actions", json=body), 403, "forbidden")
    assert "proposals are made as yourself" in body_["detail"]


def test_a_proposal_for_another_tenant_is_forbidden(api):
    with api.client("agent") as c:
        assert_problem(c.post("/v1/actions", json={**RESTART, "tenant": "payments"}), 403)


def test_an_unknown_field_is_a_422_naming_it(api):
    with api.client("agent") as c:
        body = assert_problem(c.post("/v1/actions", json={**RESTART, "force": True}), 422,
                              "validation")
    assert body["errors"][0]["field"] == "body.force"


def test_the_full_lifecycle_under_review(api):
    rec = propose(api).json()
    aid = rec["id"]
    assert rec["state"] == "evaluated", rec  # restarting cartservice reaches the public zone
    assert rec["verdict"]["decision"] == "review"
    with api.client("agent") as agent, api.client("sre") as sre:
        assert_problem(agent.post(f"/v1/actions/{aid}/execute"), 403, "action-refused")
        approved = sre.post(f"/v1/actions/{aid}/approvals", json={"note": "ok"}).json()
        assert approved["state"] == "approved"
        assert approved["approvals"][0]["by"] == "alice"
        ran = agent.post(f"/v1/actions/{aid}/execute")
        assert ran.status_code == 200, ran.text
        assert ran.json()["state"] == "executed"
        done = agent.post(f"/v1/actions/{aid}/outcome", json={"healthy": True})
        assert done.status_code == 200, done.text
        assert done.json()["state"] == "closed"
        assert agent.get(f"/v1/actions/{aid}").json()["state"] == "closed"
        remembered = agent.get("/v1/memory/actions").json()["actions"]
        assert any(aid in a["ref"] for a in remembered), remembered
    kinds = audit_actors(api)
    assert ("approval", "alice") in kinds
    assert ("execution", "deploy-bot") in kinds
    assert ("outcome", "deploy-bot") in kinds


def test_an_agent_cannot_approve(api):
    aid = propose(api).json()["id"]
    with api.client("agent") as c:
        body = assert_problem(c.post(f"/v1/actions/{aid}/approvals", json={}), 403,
                              "forbidden")
    assert "actions:approve" in body["detail"]


def test_an_agent_cannot_execute_or_report_another_agents_action(api):
    aid = propose(api).json()["id"]
    with api.client("sre") as sre:
        assert sre.post(f"/v1/actions/{aid}/approvals", json={}).json()["state"] == "approved"
    with api.client("agent2") as other:
        body = assert_problem(other.post(f"/v1/actions/{aid}/execute"), 403, "forbidden")
        assert "its own actions" in body["detail"]
        assert_problem(other.post(f"/v1/actions/{aid}/outcome", json={"healthy": True}), 403)
        assert other.get(f"/v1/actions/{aid}").json()["state"] == "approved"


def test_other_tenants_see_nothing(api):
    aid = propose(api).json()["id"]
    with api.client("other_sre") as c:
        assert c.get("/v1/actions").json()["actions"] == []
        assert_problem(c.get(f"/v1/actions/{aid}"), 404)
        assert_problem(c.post(f"/v1/actions/{aid}/approvals", json={}), 404)
        assert all(e["subject"] != aid for e in c.get("/v1/audit").json()["entries"])
    with api.client("sre") as c:
        assert any(e["subject"] == aid for e in c.get("/v1/audit").json()["entries"])
    with api.client("admin") as c:
        assert [a["id"] for a in c.get("/v1/actions").json()["actions"]] == [aid]


def test_the_proposer_cannot_approve_its_own_action(api):
    r = propose(api, "sre")
    assert r.json()["state"] == "evaluated", r.text
    with api.client("sre") as c:
        resp = c.post(f"/v1/actions/{r.json()['id']}/approvals", json={})
    body = assert_problem(resp, 403, "action-refused")
    assert "cannot approve its own proposal" in body["detail"]


def test_an_unknown_action_is_a_404_problem(api):
    with api.client("agent") as c:
        assert_problem(c.get("/v1/actions/act-nope"), 404, "not-found")
        assert_problem(c.post("/v1/actions/act-nope/execute"), 404, "not-found")


def test_executing_a_refused_action_is_a_403_with_the_reasons(api):
    aid = propose(api, sign=False).json()["id"]
    with api.client("agent") as c:
        body = assert_problem(c.post(f"/v1/actions/{aid}/execute"), 403, "action-refused")
    assert any("identity_binding" in r for r in body["reasons"])


def test_listing_filters_by_state(api):
    aid = propose(api, sign=False).json()["id"]
    with api.client("agent") as c:
        refused = c.get("/v1/actions", params={"state": "refused"}).json()["actions"]
        closed = c.get("/v1/actions", params={"state": "approved"}).json()["actions"]
    assert [a["id"] for a in refused] == [aid] and closed == []


def test_verdicts_are_counted_in_the_metrics(api):
    propose(api, sign=False)
    import httpx

    text = httpx.get(f"{api.url}/metrics").text
    assert 'ccm_verdicts_total{decision="refuse",phase="propose"} 1.0' in text
    assert 'ccm_refusals_total{reason="policy:identity_binding"} 1.0' in text


@pytest.mark.neo4j
def test_the_lifecycle_on_neo4j(neo4j_uri, tmp_path, clock):
    from ccm.cli.demo import demo_data_dir
    from ingest import ingest_paths
    from tests.conftest import _neo4j_store

    store = _neo4j_store(neo4j_uri, clock)
    try:
        assert ingest_paths(store, sorted(demo_data_dir().glob("*.jsonl"))).ok
        register_identities(store)
        with serve_store(store, clock, audit_key=audit_key_b64(),
                         actions=command_registry(tmp_path / "a.yaml")) as running:
            with running.client("admin") as admin:
                admin.post("/v1/admin/grants", json={
                    "agent": "deploy-bot", "actions": ["restart"], "targets": ["service:*"],
                    "expires_at": "2026-04-02T00:00:00Z"})
            aid = propose(running).json()["id"]
            with running.client("sre") as sre, running.client("agent") as agent:
                assert sre.post(f"/v1/actions/{aid}/approvals", json={}).json()[
                    "state"] == "approved"
                assert agent.post(f"/v1/actions/{aid}/execute").json()["state"] == "executed"
                with running.client("admin") as admin:
                    assert admin.get("/v1/audit/verify").json()["ok"] is True
    finally:
        store.close()
