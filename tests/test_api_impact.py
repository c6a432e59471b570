"""``POST /v1/impact`` (a dry run: blast radius and verdict, nothing recorded) and
``GET /v1/registry``, over real HTTP on the demo production with the real engine."""

from __future__ import annotations

import httpx
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

CONFIG = {"action": "config_change", "target": "service:cartservice", "model": "claude",
          "inputs": {"key": "REDIS_ADDR", "value": "redis-cart:6379,syncTimeout=50",
                     "previous_value": "redis-cart:6379"}}


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    from tests.conftest import FakeClock

    store = load_demo(tmp_path_factory.mktemp("impact") / "demo.sqlite")
    register_identities(store)
    with serve_store(store, FakeClock(), audit_key=audit_key_b64()) as running:
        yield running
    store.close()


def impact(api, body, who="agent"):
    with api.client(who) as c:
        return c.post("/v1/impact", json=body)


def test_a_dry_run_gives_the_blast_radius_and_the_verdict(api):
    _, ident, _, tenant = TOKENS["agent"]
    r = impact(api, signed_proposal(CONFIG, ident, tenant, 1_775_001_600_000_000))
    assert r.status_code == 200, r.text
    data = r.json()
    verdict = data["verdict"]
    assert verdict["decision"] in ("proceed", "review", "refuse")
    rules = {res["rule"]: res for res in verdict["results"]}
    assert rules["identity_binding"]["decision"] == "proceed", rules["identity_binding"]
    assert rules["registry"]["decision"] == "proceed"
    nodes = verdict["impact"]["node_probabilities"]
    assert nodes["service:cartservice"] > 0.5 and nodes["service:frontend"] > 0.1
    assert verdict["impact"]["paths"]["service:frontend"][-1] == "service:frontend"
    assert data["action_id"].startswith("act-") and data["timings"]["run_s"] >= 0


def test_a_dry_run_records_nothing(api):
    impact(api, CONFIG)
    with api.client("admin") as c:
        assert c.get("/v1/actions").json()["actions"] == []
        assert c.get("/v1/audit").json()["entries"] == []


def test_an_unregistered_action_is_refused_with_the_reason_and_no_prediction(api):
    data = impact(api, {"action": "drop_database", "target": "datastore:orders"}).json()
    assert data["verdict"]["decision"] == "refuse"
    assert "not in the registry" in data["verdict"]["results"][0]["reason"]
    assert data["verdict"]["impact"] is None


def test_inputs_that_do_not_fit_the_actions_schema_are_refused_naming_them(api):
    data = impact(api, {**CONFIG, "inputs": {"key": "REDIS_ADDR"}}).json()
    reasons = [r["reason"] for r in data["verdict"]["results"] if r["decision"] == "refuse"]
    assert any("'value' is a required property" in r for r in reasons)


def test_an_unknown_target_is_refused(api):
    data = impact(api, {**CONFIG, "target": "service:nope"}).json()
    assert data["verdict"]["decision"] == "refuse"
    assert any("service:nope" in r["reason"] for r in data["verdict"]["results"])


@pytest.mark.parametrize("body,field", [
    ({"target": "service:cartservice"}, "body.action"),
    ({**CONFIG, "step": 0}, "body.step"),
    ({**CONFIG, "inputs": "x"}, "body.inputs"),
])
def test_a_malformed_request_is_a_422_naming_the_field(api, body, field):
    problem = assert_problem(impact(api, body), 422, "validation")
    assert field in [e["field"] for e in problem["errors"]]


def test_a_bad_time_is_a_422(api):
    assert_problem(impact(api, {**CONFIG, "at": "tomorrow"}), 422, "invalid-time")


def test_a_token_without_impact_read_gets_403(api):
    assert_problem(impact(api, CONFIG, who="ingest_only"), 403, "forbidden")


def test_engine_timings_and_verdicts_reach_the_metrics(api):
    impact(api, CONFIG)
    text = httpx.get(f"{api.url}/metrics").text
    assert 'ccm_engine_seconds_count{op="impact",stage="run"}' in text
    assert 'phase="dry_run"' in text


def test_the_registry_lists_the_actions_with_their_input_schemas(api):
    with api.client("agent") as c:
        actions = {a["name"]: a for a in c.get("/v1/registry").json()["actions"]}
    assert {"restart", "config_change", "deploy"} <= set(actions)
    assert actions["config_change"]["inputs"]["required"] == ["key", "value", "previous_value"]


def test_at_most_the_configured_number_of_predictions_run_at_once(api):
    state = api.app.state.ccm
    assert state.impact_limiter.total_tokens == state.settings.impact_concurrency == 2


def test_predictions_use_the_configured_number_of_cascades(api, tmp_path):
    from tests.conftest import FakeClock

    _, ident, _, tenant = TOKENS["agent"]
    body = signed_proposal(CONFIG, ident, tenant, 1_775_001_600_000_000)
    # by default at most 2,000, in rounds of 512 until the figures are known to 3 %
    drawn = impact(api, body).json()["verdict"]["impact"]["samples"]
    assert drawn == 2000 or (drawn < 2000 and drawn % 512 == 0)
    store = load_demo(tmp_path / "demo.sqlite")
    try:
        with serve_store(store, FakeClock(), impact_samples=256) as fewer:
            assert impact(fewer, body).json()["verdict"]["impact"]["samples"] == 256
        with serve_store(store, FakeClock(), impact_samples=1500, impact_precision=0) as all_:
            assert impact(all_, body).json()["verdict"]["impact"]["samples"] == 1500
    finally:
        store.close()
