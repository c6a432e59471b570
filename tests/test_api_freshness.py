"""Every cache behind ``POST /v1/impact`` (the graph and trust zones the controller
keeps, the compiled snapshot of "now", remembered predictions) gives way at once:
a kill switch flip, a grant revocation, a policy change and a graph write are all
in effect on the very next request, over real HTTP against the real app, whether
the change came through the API or from another process writing the same store."""

from __future__ import annotations

import json

import pytest

from ccm.cli.demo import load_demo
from ccm.policy.autonomy import autonomy_key, set_level
from ccm.store import EmbeddedStore
from graph_schema import EdgeFact, NodeFact
from tests.api_support import (
    TOKENS,
    audit_key_b64,
    register_identities,
    serve_store,
    signed_proposal,
)
from tests.conftest import T0, FakeClock

RESTART = {"action": "restart", "target": "service:cartservice", "model": "claude"}
GRANT = {"agent": "deploy-bot", "actions": ["restart"], "targets": ["service:*"],
         "expires_at": "2026-04-02T00:00:00Z"}


@pytest.fixture
def api(tmp_path):
    store = load_demo(tmp_path / "demo.sqlite")
    register_identities(store)
    with serve_store(store, FakeClock(), audit_key=audit_key_b64()) as running:
        running.path = tmp_path / "demo.sqlite"
        yield running
    store.close()


def rules(api) -> dict[str, dict]:
    """The verdict's rule results of a signed dry run of RESTART, by rule type."""
    _, ident, _, tenant = TOKENS["agent"]
    with api.client("agent") as c:
        r = c.post("/v1/impact", json=signed_proposal(RESTART, ident, tenant, T0))
    assert r.status_code == 200, r.text
    data = r.json()
    out = {res["type"]: res for res in data["verdict"]["results"]}
    out["_impact"] = data["verdict"]["impact"]
    return out


def other_process(api) -> EmbeddedStore:
    """The same store file opened anew, as a CLI in another process would."""
    return EmbeddedStore(api.path)


def test_a_kill_switch_flip_is_in_effect_on_the_next_request(api):
    assert rules(api)["kill_switch"]["decision"] == "proceed"
    with api.client("admin") as admin:
        assert admin.put("/v1/admin/switches/global", json={"paused": True}).status_code == 200
        assert rules(api)["kill_switch"]["decision"] == "refuse"
        assert admin.put("/v1/admin/switches/global", json={"paused": False}).status_code == 200
    assert rules(api)["kill_switch"]["decision"] == "proceed"


def test_a_grant_revocation_is_in_effect_on_the_next_request(api):
    assert rules(api)["sandbox_grants"]["decision"] == "refuse"
    with api.client("admin") as admin:
        gid = admin.post("/v1/admin/grants", json=GRANT).json()["id"]
        assert rules(api)["sandbox_grants"]["decision"] == "proceed"
        assert admin.delete(f"/v1/admin/grants/{gid}").status_code == 200
    after = rules(api)["sandbox_grants"]
    assert after["decision"] == "refuse" and "revoked" in after["reason"]


def test_a_policy_change_from_another_process_is_in_effect_on_the_next_request(api):
    before = rules(api)["earned_autonomy"]
    assert before["decision"] == "proceed"  # a restart is low risk: autonomous at first
    cli = other_process(api)
    try:
        set_level(cli, autonomy_key("default", "restart", "service:cartservice"),
                  "advisory", T0, "root")
    finally:
        cli.close()
    after = rules(api)["earned_autonomy"]
    assert after["decision"] == "review" and "advisory" in after["reason"]


def test_a_graph_write_through_the_api_is_in_effect_on_the_next_request(api):
    first = rules(api)
    assert "service:ledger" not in first["_impact"]["node_probabilities"]
    assert first["network_boundary"]["decision"] == "review"  # cartservice reaches public
    lines = [{"type": "node", "kind": "service", "name": "ledger", "attrs": {"zone": "vault"}},
             {"type": "edge", "kind": "DEPENDS_ON", "from": "ledger", "to": "cartservice",
              "attrs": {"hard": True, "calls_per_s": 50.0}}]
    with api.client("sre") as c:
        r = c.post("/v1/ingest/native", content="\n".join(json.dumps(x) for x in lines),
                   headers={"Content-Type": "application/x-ndjson"})
        assert r.status_code == 200 and r.json()["added"] == 2, r.text
    after = rules(api)
    assert after["_impact"]["node_probabilities"]["service:ledger"] > 0.05
    assert "vault" in after["network_boundary"]["reason"]


def test_a_graph_write_from_another_process_is_in_effect_on_the_next_request(api):
    rules(api)
    cli = other_process(api)
    try:
        cli.write([NodeFact("service", "ledger", {"zone": "vault"}, T0 - 1),
                   EdgeFact("DEPENDS_ON", "service:ledger", "service:cartservice",
                            {"hard": True, "calls_per_s": 50.0}, T0 - 1)])
    finally:
        cli.close()
    after = rules(api)
    assert after["_impact"]["node_probabilities"]["service:ledger"] > 0.05
    assert "vault" in after["network_boundary"]["reason"]
