"""Input the API cannot hold is refused as a problem+json 4xx naming the field, never a 500:
non-finite numbers and lone surrogates in JSON bodies, absurd times (issue 16's six 500s)."""

from __future__ import annotations

import pytest

from ccm.cli.demo import load_demo
from ccm.ops.times import parse_when
from graph_schema import TimeParseError
from tests.api_support import assert_problem, audit_key_b64, serve_store

IMPACT = '{"action": "restart", "target": "service:cartservice", "inputs": {"x": %s}}'
ALERT = ('{"version": "4", "alerts": [{"status": "firing", "labels": {"alertname": %s, '
         '"service": "cartservice"}, "startsAt": "2026-03-05T09:41:00Z"}]}')


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    store = load_demo(tmp_path_factory.mktemp("input") / "demo.sqlite")
    with serve_store(store, audit_key=audit_key_b64()) as running:
        yield running
    store.close()


def post_json(api, path: str, body: str):
    with api.client("admin") as c:
        return c.post(path, content=body.encode(), headers={"content-type": "application/json"})


def fields(resp) -> set[str]:
    return {e["field"] for e in assert_problem(resp, 422, "validation")["errors"]}


@pytest.mark.parametrize("path", ["/v1/impact", "/v1/actions"])
@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_a_non_finite_number_in_a_json_body_is_a_422_naming_its_field(api, path, number):
    assert fields(post_json(api, path, IMPACT % number)) == {"body.inputs.x"}


def test_a_lone_surrogate_in_an_alertmanager_label_is_a_422_naming_the_label(api):
    resp = post_json(api, "/v1/alertmanager", ALERT % '"HighLatency\\ud800"')
    assert fields(resp) == {"body.alerts.0.labels.alertname"}


def test_a_lone_surrogate_in_a_json_key_is_refused_too(api):
    resp = post_json(api, "/v1/impact", IMPACT.replace('"x"', '"x\\udc00"') % 1)
    assert fields(resp) == {"body.inputs.x\\udc00"}


def test_a_lone_surrogate_in_a_native_node_name_rejects_its_batch_naming_the_field(api):
    body = ('{"type": "node", "kind": "service", "name": "cart\\ud800"}\n'
            '{"type": "node", "kind": "service", "name": "fine"}\n')
    with api.client("admin") as c:
        resp = c.post("/v1/ingest/native", content=body.encode(),
                      params={"source": "surrogates", "batch_size": 1})
    assert resp.status_code == 200, resp.text
    report = resp.json()
    assert (report["added"], report["rejected"]) == (1, 1)
    assert "field 'name'" in report["errors"][0] and ":1" in report["errors"][0]


def test_a_lone_surrogate_in_a_native_attribute_is_refused_naming_the_attribute(api):
    body = '{"type": "node", "kind": "service", "name": "owned", "attrs": {"owner": "a\\ud800"}}\n'
    with api.client("admin") as c:
        resp = c.post("/v1/ingest/native", content=body.encode(), params={"source": "attrs"})
    problem = assert_problem(resp, 422, "batch-rejected")
    assert "attrs.owner" in problem["detail"]


@pytest.mark.parametrize("at", ["now-99999999999d", "now-1e30s", "now--99999999999d"])
def test_a_time_beyond_the_years_a_store_holds_is_a_422_naming_the_query_field(api, at):
    with api.client("admin") as c:
        resp = c.get("/v1/graph", params={"at": at})
    assert assert_problem(resp, 422, "invalid-time")["detail"].startswith("query.at:")


def test_the_kept_alive_connection_survives_a_refused_body(api):
    with api.client("admin") as c:
        for _ in range(3):
            r = c.post("/v1/impact", content=(IMPACT % "NaN").encode(),
                       headers={"content-type": "application/json"})
            assert r.status_code == 422
        assert c.get("/v1/graph", params={"kind": "service", "limit": 1}).status_code == 200


def test_relative_times_are_bounded_to_the_years_iso_8601_writes():
    clock = lambda: 0  # noqa: E731
    assert parse_when("now-1d", "at", clock) == -86_400_000_000
    with pytest.raises(TimeParseError, match="^at: "):
        parse_when("now-99999999999d", "at", clock)
