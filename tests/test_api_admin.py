"""Admin (kill switches, grants), the audit log and memory, over real HTTP: only admins
flip switches and manage grants; tenants are kept apart."""

from __future__ import annotations

import pytest

from ccm.cli.demo import load_demo
from tests.api_support import (
    TOKENS,
    assert_problem,
    audit_key_b64,
    register_identities,
    serve_store,
    signed_proposal,
)

GRANT = {"agent": "deploy-bot", "actions": ["restart"], "targets": ["service:*"],
         "expires_at": "2026-04-02T00:00:00Z"}
RESTART = {"action": "restart", "target": "service:cartservice", "model": "claude"}


@pytest.fixture
def api(tmp_path, clock):
    store = load_demo(tmp_path / "demo.sqlite")
    register_identities(store)
    with serve_store(store, clock, audit_key=audit_key_b64()) as running:
        yield running
    store.close()


@pytest.mark.parametrize("who", ["agent", "sre"])
@pytest.mark.parametrize("method,path,body", [
    ("PUT", "/v1/admin/switches/global", {"paused": True}),
    ("GET", "/v1/admin/switches", None),
    ("POST", "/v1/admin/grants", GRANT),
    ("GET", "/v1/admin/grants", None),
    ("DELETE", "/v1/admin/grants/grant-x", None),
])
def test_only_admins_reach_the_admin_endpoints(api, who, method, path, body):
    with api.client(who) as c:
        problem = assert_problem(c.request(method, path, json=body), 403, "forbidden")
    assert "admin" in problem["detail"]


def test_the_kill_switch_stops_proposals_and_is_audited_as_the_admin(api):
    with api.client("admin") as admin:
        admin.post("/v1/admin/grants", json=GRANT)
        sw = admin.put("/v1/admin/switches/global", json={"paused": True, "reason": "incident"})
        assert sw.status_code == 200 and sw.json()["paused"] is True
        assert sw.json()["warning"] is None
        assert [s["scope"] for s in admin.get("/v1/admin/switches").json()["switches"]] == [
            "global"]
    _, ident, _, tenant = TOKENS["agent"]
    with api.client("agent") as agent:
        rec = agent.post("/v1/actions", json=signed_proposal(
            RESTART, ident, tenant, 1_775_001_600_000_000)).json()
    rules = {r["rule"]: r for r in rec["verdict"]["results"]}
    assert rules["kill_switch"]["decision"] == "refuse" and rec["state"] == "refused"
    with api.client("sre") as sre:
        entries = sre.get("/v1/audit").json()["entries"]
    assert any(e["kind"] == "admin" and e["actor"]["id"] == "root"
               and e["subject"] == "switch:global" for e in entries)


def test_a_bad_switch_scope_is_a_422(api):
    with api.client("admin") as admin:
        problem = assert_problem(admin.put("/v1/admin/switches/nonsense", json={}), 422,
                                 "invalid-request")
    assert "global" in problem["detail"]


def test_grants_are_created_listed_and_revoked(api):
    with api.client("admin") as admin:
        created = admin.post("/v1/admin/grants", json=GRANT)
        assert created.status_code == 201, created.text
        gid = created.json()["id"]
        listed = admin.get("/v1/admin/grants", params={"agent": "deploy-bot"}).json()
        assert [g["id"] for g in listed["grants"]] == [gid]
        revoked = admin.delete(f"/v1/admin/grants/{gid}", params={"reason": "done"}).json()
        assert revoked["revoked_at"] is not None
        assert_problem(admin.delete("/v1/admin/grants/grant-nope"), 404, "not-found")


def test_a_grant_that_has_already_expired_is_a_422(api):
    with api.client("admin") as admin:
        problem = assert_problem(admin.post("/v1/admin/grants", json={
            **GRANT, "expires_at": "2026-03-01T00:00:00Z"}), 422, "invalid-request")
    assert "expire in the future" in problem["detail"]


def test_the_audit_log_verifies_and_pages(api):
    with api.client("admin") as admin:
        for _ in range(3):
            admin.post("/v1/admin/grants", json={**GRANT, "reason": str(_)})
        first = admin.get("/v1/audit", params={"limit": 2}).json()
        rest = admin.get("/v1/audit", params={"after": first["next_after"]}).json()
        report = admin.get("/v1/audit/verify").json()
    assert len(first["entries"]) == 2 and first["next_after"] == 2
    assert len(rest["entries"]) == 1 and rest["next_after"] is None
    assert report["ok"] is True and report["entries"] == 3


def test_agents_cannot_read_the_audit_log(api):
    with api.client("agent") as agent:
        assert_problem(agent.get("/v1/audit"), 403, "forbidden")
        assert_problem(agent.get("/v1/audit/verify"), 403, "forbidden")


def test_memory_is_read_per_tenant(api):
    with api.client("agent") as agent:
        mine = agent.get("/v1/memory/actions")
        assert mine.status_code == 200 and mine.json()["tenant"] == "default"
        problem = assert_problem(agent.get("/v1/memory/actions", params={"tenant": "payments"}),
                                 403, "forbidden")
        assert "payments" in problem["detail"]
    with api.client("other_sre") as other:
        assert_problem(other.get("/v1/memory/actions", params={"tenant": "default"}), 403)
    with api.client("admin") as admin:
        assert admin.get("/v1/memory/actions",
                         params={"tenant": "payments"}).json()["tenant"] == "payments"
