"""``GET /v1/graph``, ``/v1/graph/diff`` and ``/v1/nodes/{ref}/history`` over real HTTP,
on both stores (the Neo4j run is the store-backed smoke path against a real server)."""

from __future__ import annotations

import pytest

from ccm.cli.demo import demo_data_dir
from ingest import ingest_paths
from tests.api_support import assert_problem, serve_store
from tests.helpers import FIXTURES

BEFORE = "2026-03-01T00:00:00Z"


@pytest.fixture
def demo(store, clock):
    report = ingest_paths(store, sorted(demo_data_dir().glob("*.jsonl")))
    assert report.ok, report.to_dict()
    with serve_store(store, clock) as running, running.client("agent") as c:
        yield c


def deps(data):
    return {(e["from"], e["to"]) for e in data["edges"] if e["kind"] == "DEPENDS_ON"}


def test_the_graph_at_a_time(demo, store):
    data = demo.get("/v1/graph", params={"at": BEFORE}).json()
    assert data["valid_at"] == BEFORE and data["known_at"] is None
    assert ("service:frontend", "service:cartservice") in deps(data)
    assert not any(n["kind"] == "change" for n in data["nodes"])
    assert data["truncated"] is False
    assert data["revision"] == store.revision() > 0


def test_the_graph_as_known_before_anything_was_recorded_is_empty(demo):
    data = demo.get("/v1/graph", params={"at": BEFORE, "known_at": "2000-01-01T00:00:00Z"})
    assert data.json()["nodes"] == []


def test_the_neighbourhood_of_a_node(demo):
    data = demo.get("/v1/graph", params={"at": BEFORE, "node": "service:cartservice",
                                         "depth": 1}).json()
    refs = {n["ref"] for n in data["nodes"]}
    assert {"service:cartservice", "cache:redis-cart", "service:frontend",
            "service:checkoutservice", "config:cartservice/REDIS_ADDR"} <= refs
    assert "service:currencyservice" not in refs
    assert data["center"] == "service:cartservice" and data["depth"] == 1
    assert all(e["from"] in refs and e["to"] in refs for e in data["edges"])


def test_depth_zero_is_the_node_alone_and_depth_grows_the_neighbourhood(demo):
    alone = demo.get("/v1/graph", params={"at": BEFORE, "node": "cache:redis-cart",
                                          "depth": 0}).json()
    two = demo.get("/v1/graph", params={"at": BEFORE, "node": "cache:redis-cart",
                                        "depth": 2}).json()
    assert [n["ref"] for n in alone["nodes"]] == ["cache:redis-cart"]
    assert "service:frontend" in {n["ref"] for n in two["nodes"]}


def test_kind_filters_and_limit_truncates(demo):
    data = demo.get("/v1/graph", params={"at": BEFORE, "kind": "service", "limit": 3}).json()
    assert len(data["nodes"]) == 3 and data["truncated"] is True
    assert {n["kind"] for n in data["nodes"]} == {"service"}


def test_the_neighbourhood_of_an_unknown_node_is_a_404_problem(demo):
    body = assert_problem(demo.get("/v1/graph", params={"node": "service:nope"}), 404,
                          "not-found")
    assert "service:nope" in body["detail"]


@pytest.mark.parametrize("params,field", [({"at": "yesterday-ish"}, "query.at"),
                                          ({"known_at": "now-lots"}, "query.known_at")])
def test_a_bad_time_is_a_422_problem_naming_the_parameter(demo, params, field):
    body = assert_problem(demo.get("/v1/graph", params=params), 422, "invalid-time")
    assert body["detail"].startswith(field)


def test_relative_times_use_the_server_clock(demo, clock):
    data = demo.get("/v1/graph", params={"at": "now-31d"}).json()
    assert data["valid_at"] == "2026-03-01T00:00:00Z"  # the injected clock is 2026-04-01


def test_the_diff_between_two_times(demo):
    data = demo.get("/v1/graph/diff", params={"t1": "2026-03-02T00:00:00Z",
                                              "t2": "2026-03-03T00:00:00Z"}).json()
    added = {v.get("ref") for v in data["added"]}
    assert {"change:chg-102", "change:chg-103"} <= added
    assert [c["after"]["ref"] for c in data["changed"]] == ["config:cartservice/REDIS_ADDR"]


def test_the_diff_needs_both_times(demo):
    body = assert_problem(demo.get("/v1/graph/diff", params={"t1": BEFORE}), 422, "validation")
    assert [e["field"] for e in body["errors"]] == ["query.t2"]


def test_the_history_of_a_config_key_with_a_slash_in_its_reference(demo):
    data = demo.get("/v1/nodes/config:cartservice/REDIS_ADDR/history").json()
    assert [v["attrs"]["value"] for v in data["node"]] == [
        "redis-cart:6379", "redis-cart:6379,syncTimeout=50"]
    assert data["node"][0]["valid_to"] == "2026-03-02T09:10:00Z"


def test_the_history_of_an_unknown_node_is_a_404_problem(demo):
    assert_problem(demo.get("/v1/nodes/service:nope/history"), 404, "not-found")


def test_the_coverage_of_the_demo_graph_lacks_nothing(demo):
    data = demo.get("/v1/coverage", params={"at": BEFORE}).json()
    assert data == {"valid_at": BEFORE, "known_at": None, "components": 11,
                    "dependencies": 15, "without_dependencies": [], "placeholders": [],
                    "unresolved": [], "unresolved_alerts": 0, "lacking": False}


def test_the_coverage_names_placeholders_and_components_without_dependencies(store, clock):
    wayback = FIXTURES / "real" / "backstage" / "components" / "wayback-archive-component.yaml"
    assert ingest_paths(store, [str(wayback)], at=clock() - 1).ok
    with serve_store(store, clock) as running, running.client("agent") as c:
        data = c.get("/v1/coverage").json()
        assert_problem(c.get("/v1/coverage", params={"at": "soon"}), 422, "invalid-time")
        with running.client("ingest_only") as no_graph_scope:
            assert_problem(no_graph_scope.get("/v1/coverage"), 403)
    assert data["without_dependencies"] == ["service:wayback-archive"]
    assert [(p["ref"], p["source"]) for p in data["placeholders"]] == [
        ("api:wayback-archive", "placeholder"), ("team:team-a", "placeholder")]
    assert data["lacking"] is True
