"""The app factory over real HTTP: health, readiness, metrics, problem+json errors, auth."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import httpx
import pytest

from ccm.api import Settings, create_app
from ccm.errors import ConfigError
from ccm.store import EmbeddedStore
from tests.api_support import TOKENS, api_settings, assert_problem, auth, serve, serve_store


@pytest.fixture
def running(embedded, clock):
    with serve_store(embedded, clock) as r:
        yield r


def test_healthz_answers_without_a_token(running):
    r = httpx.get(f"{running.url}/healthz")
    assert r.status_code == 200 and r.json()["status"] == "ok"


def test_readyz_says_ready_when_the_store_answers(running):
    r = httpx.get(f"{running.url}/readyz")
    assert r.json() == {"status": "ready", "store": "EmbeddedStore"}


def test_readyz_is_a_503_problem_when_the_store_is_broken(tmp_path, clock):
    store = EmbeddedStore(tmp_path / "s.sqlite", clock=clock)
    with serve_store(store, clock) as r:
        (tmp_path / "s.sqlite").write_bytes(b"this is not a database" * 100)
        for suffix in ("-wal", "-shm"):
            (tmp_path / f"s.sqlite{suffix}").unlink(missing_ok=True)
        body = assert_problem(httpx.get(f"{r.url}/readyz"), 503, "store-unavailable")
        assert "not reachable" in body["detail"]
    store.close()


def test_the_openapi_document_and_the_docs_are_published(running):
    spec = httpx.get(f"{running.url}/openapi.json").json()
    assert spec["info"]["title"] == "CCM API"
    assert "/v1/graph" in spec["paths"] and "/v1/nodes/{ref}/history" in spec["paths"]
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert "swagger" in httpx.get(f"{running.url}/docs").text.lower()


def test_metrics_expose_request_latency_by_route_template(running):
    with running.client("sre") as c:
        c.get("/v1/nodes/service:nope/history")
        c.get("/v1/graph")
    text = httpx.get(f"{running.url}/metrics").text
    assert 'route="/v1/nodes/{ref}/history",status="404"' in text
    assert 'ccm_http_request_duration_seconds_count{method="GET",route="/v1/graph",' \
           'status="200"} 1.0' in text
    assert "service:nope" not in text


def test_metrics_count_refusals(running):
    httpx.get(f"{running.url}/v1/graph")
    httpx.get(f"{running.url}/v1/graph", headers={"Authorization": "Bearer wrong"})
    text = httpx.get(f"{running.url}/metrics").text
    assert 'ccm_refusals_total{reason="unauthenticated"} 2.0' in text


def test_metrics_can_require_a_token(embedded, clock):
    with serve_store(embedded, clock, metrics_auth=True) as r:
        assert_problem(httpx.get(f"{r.url}/metrics"), 401, "unauthenticated")
        assert httpx.get(f"{r.url}/metrics", headers=auth("agent")).status_code == 200


def test_a_missing_token_is_a_401_problem_with_a_bearer_challenge(running):
    r = httpx.get(f"{running.url}/v1/graph")
    body = assert_problem(r, 401, "unauthenticated")
    assert r.headers["www-authenticate"].startswith("Bearer")
    assert "Authorization: Bearer" in body["detail"]


@pytest.mark.parametrize("header", ["Bearer ccm_not-a-token", "Bearer", "Basic dXNlcjpwYXNz",
                                    "ccm_test-sre-token"])
def test_a_bad_token_is_a_401_problem(running, header):
    assert_problem(httpx.get(f"{running.url}/v1/graph", headers={"Authorization": header}),
                   401, "unauthenticated")


def test_a_token_narrowed_by_scopes_gets_403_outside_them(running):
    body = assert_problem(httpx.get(f"{running.url}/v1/graph", headers=auth("ingest_only")),
                          403, "forbidden")
    assert "graph:read" in body["detail"] and "alertmanager" in body["detail"]


def test_an_expired_token_is_refused(embedded, clock):
    from ccm.api.auth import hash_token

    tokens = json.dumps([{"sha256": hash_token("ccm_old"), "identity": "old", "role": "sre",
                          "expires": "2026-03-01T00:00:00Z"}])
    with serve(create_app(Settings(api_tokens=tokens), store=embedded, clock=clock)) as r:
        assert_problem(httpx.get(f"{r.url}/v1/graph",
                                 headers={"Authorization": "Bearer ccm_old"}), 401)


def test_an_unknown_path_is_a_404_problem(running):
    body = assert_problem(httpx.get(f"{running.url}/v2/nothing"), 404, "not-found")
    assert body["instance"] == "/v2/nothing" and "/docs" in body["detail"]


def test_a_wrong_method_is_a_405_problem(running):
    body = assert_problem(httpx.delete(f"{running.url}/healthz"), 405, "method-not-allowed")
    assert "GET" in body["detail"]


def test_a_bad_query_parameter_is_a_422_problem_naming_the_field(running):
    with running.client("sre") as c:
        body = assert_problem(c.get("/v1/graph", params={"depth": "deep"}), 422, "validation")
    assert body["errors"][0]["field"] == "query.depth"
    assert "query.depth" in body["detail"]


def test_a_crash_is_a_500_problem_without_a_stack_trace(embedded, clock, caplog):
    app = create_app(api_settings(), store=embedded, clock=clock)

    def boom() -> None:
        raise ZeroDivisionError("secret internals")

    app.add_api_route("/boom", boom)
    with serve(app) as r, caplog.at_level(logging.ERROR, logger="ccm.api"):
        resp = httpx.get(f"{r.url}/boom", headers={"X-Request-ID": "req-42"})
    body = assert_problem(resp, 500, "internal")
    assert "secret internals" not in resp.text and "ZeroDivisionError" not in resp.text
    assert body["request_id"] == "req-42" and resp.headers["x-request-id"] == "req-42"
    assert any("req-42" in rec.getMessage() and rec.exc_info for rec in caplog.records)


def test_every_response_carries_a_request_id(running):
    r = httpx.get(f"{running.url}/healthz")
    assert len(r.headers["x-request-id"]) == 32
    odd = httpx.get(f"{running.url}/healthz", headers={"X-Request-ID": "x" * 200})
    assert odd.headers["x-request-id"] != "x" * 200


def test_the_app_refuses_to_start_without_tokens_unless_insecure_dev_is_explicit(embedded):
    with pytest.raises(ConfigError, match="ccm token create"):
        create_app(Settings(), store=embedded)
    create_app(Settings(insecure_dev=True), store=embedded)


def test_insecure_dev_lets_token_less_requests_act_as_dev_but_still_checks_tokens(embedded):
    with serve(create_app(Settings(insecure_dev=True), store=embedded)) as r:
        assert httpx.get(f"{r.url}/v1/graph").status_code == 200
        assert_problem(httpx.get(f"{r.url}/v1/graph", headers={"Authorization": "Bearer x"}),
                       401)


def test_a_bad_tokens_file_names_the_entry_and_field(tmp_path: Path, embedded):
    f = tmp_path / "tokens.yaml"
    f.write_text("tokens:\n  - {sha256: abc, identity: a, role: sre}\n")
    with pytest.raises(ConfigError, match=r"tokens\[0\]\.sha256"):
        create_app(Settings(api_tokens_file=f), store=embedded)


def test_the_app_opens_the_configured_store_in_its_lifespan_and_closes_it(tmp_path):
    path = tmp_path / "lazy.sqlite"
    app = create_app(api_settings(store=str(path)))
    assert not path.exists()  # nothing connects in the factory
    with serve(app) as r:
        assert httpx.get(f"{r.url}/readyz").status_code == 200
        assert path.exists()


def test_tokens_are_never_logged(running, caplog):
    with caplog.at_level(logging.DEBUG):
        for who in TOKENS:
            httpx.get(f"{running.url}/v1/graph", headers=auth(who))
        httpx.get(f"{running.url}/v1/graph", headers={"Authorization": "Bearer ccm_leak-me"})
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert all(tok not in text for tok, *_ in TOKENS.values()) and "ccm_leak-me" not in text
