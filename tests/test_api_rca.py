"""``POST /v1/rca`` over real HTTP on the demo production (the planted fault chg-102)."""

from __future__ import annotations

import pytest

from ccm.cli.demo import demo_data_dir
from ingest import ingest_paths
from tests.api_support import assert_problem, serve_store

# nine minutes after the first alert: minutes earlier the ranking is still open
# (tests/test_engine_rca.py shows how it settles)
AT = "2026-03-05T09:50:00Z"


def demo_api(store, clock):
    assert ingest_paths(store, sorted(demo_data_dir().glob("*.jsonl"))).ok
    return serve_store(store, clock)


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    from ccm.store import EmbeddedStore
    from tests.conftest import FakeClock

    clock = FakeClock()
    store = EmbeddedStore(tmp_path_factory.mktemp("rca") / "s.sqlite", clock=clock)
    with demo_api(store, clock) as running, running.client("sre") as c:
        yield c
    store.close()


@pytest.mark.neo4j
def test_root_causes_on_neo4j_find_the_planted_change(neo4j_uri, clock):
    from tests.conftest import _neo4j_store

    store = _neo4j_store(neo4j_uri, clock)
    try:
        with demo_api(store, clock) as running, running.client("agent") as c:
            data = c.post("/v1/rca", json={"at": AT}).json()
            by_alert = c.post("/v1/rca", json={"at": AT, "alerts": ["alrt-2"]}).json()
    finally:
        store.close()
    assert data["chains"][0]["root"] == "change:chg-102"
    assert by_alert["symptoms"][0]["ref"] == "service:frontend"


def test_the_alerts_firing_at_a_time_are_explained_by_the_planted_change(api):
    data = api.post("/v1/rca", json={"at": AT}).json()
    assert {s["ref"] for s in data["symptoms"]} == {
        "service:cartservice", "service:frontend", "service:checkoutservice"}
    top = data["chains"][0]
    assert top["root"] == "change:chg-102" and top["rank"] == 1
    assert top["chain"][:3] == ["change:chg-102", "config:cartservice/REDIS_ADDR",
                                "service:cartservice"]
    assert all(link["why"] for link in top["links"])


def test_given_symptoms_are_explained(api):
    data = api.post("/v1/rca", json={"at": AT, "symptoms": [
        {"ref": "service:cartservice", "signal": "errors", "time": "2026-03-05T09:41:00Z"}],
        "k": 3}).json()
    assert [s["ref"] for s in data["symptoms"]] == ["service:cartservice"]
    assert data["chains"][0]["root"] == "change:chg-102" and len(data["chains"]) <= 3


def test_alerts_are_named_by_reference_or_id(api):
    by_ref = api.post("/v1/rca", json={"at": AT, "alerts": ["alert:alrt-1"]}).json()
    by_id = api.post("/v1/rca", json={"at": AT, "alerts": ["alrt-1"]}).json()
    assert by_ref["symptoms"] == by_id["symptoms"]
    assert by_ref["symptoms"][0]["ref"] == "service:cartservice"


def test_a_quiet_time_has_no_symptoms_and_no_chains(api):
    data = api.post("/v1/rca", json={"at": "2026-03-01T00:00:00Z"}).json()
    assert data["symptoms"] == [] and data["chains"] == []


def test_alert_text_is_data_not_instructions(api):
    data = api.post("/v1/rca", json={"at": AT}).json()
    assert data["chains"][0]["root"] == "change:chg-102"  # not "restart the database"
    assert "datastore" not in data["chains"][0]["root"]


def test_an_unknown_node_is_a_404_naming_it(api):
    body = assert_problem(api.post("/v1/rca", json={"at": AT, "symptoms": [
        {"ref": "service:nope"}]}), 404, "not-found")
    assert "service:nope" in body["detail"]


def test_an_unknown_alert_is_a_404(api):
    assert_problem(api.post("/v1/rca", json={"at": AT, "alerts": ["alert:nope"]}), 404)


@pytest.mark.parametrize("body,field", [
    ({"symptoms": [{"ref": "service:cartservice", "signal": "smoke"}]},
     "body.symptoms.0.signal"),
    ({"k": 0}, "body.k"),
    ({"surprise": 1}, "body.surprise"),
])
def test_a_malformed_request_names_the_field(api, body, field):
    problem = assert_problem(api.post("/v1/rca", json=body), 422, "validation")
    assert field in [e["field"] for e in problem["errors"]]


@pytest.mark.parametrize("body", [{"at": "soon"}, {"window": "a week"},
                                  {"symptoms": [{"ref": "service:cartservice", "time": "x"}]}])
def test_a_bad_time_or_duration_is_a_422(api, body):
    assert_problem(api.post("/v1/rca", json=body), 422, "invalid-time")


def test_a_close_call_names_the_observation_that_would_separate_the_top_two(api):
    data = api.post("/v1/rca", json={"at": "2026-03-05T09:45:00Z", "k": 3}).json()
    close = data["close_call"]
    assert {close["first"], close["second"]} == {"change:chg-106", "change:chg-102"}
    assert close["observation"]["node"] == "service:currencyservice"
    assert close["observation"]["since"] == "2026-03-05T09:00:00Z"
    assert api.post("/v1/rca", json={"at": "2026-03-05T09:30:00Z"}).json()["close_call"] is None
