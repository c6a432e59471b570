"""DNS rebinding and cross-site requests: ``--insecure-dev`` answers only loopback Host names
and refuses requests other sites' pages send; otherwise CCM_ALLOWED_HOSTS decides. The page
authenticates with bearer tokens only: no cookie is ever set, no CORS is granted."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from ccm.api import Settings, create_app
from ccm.store import EmbeddedStore
from tests.api_support import api_settings, assert_problem, auth, serve

STATIC = Path(__file__).resolve().parents[2] / "ccm" / "web" / "static"


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    s = EmbeddedStore(tmp_path_factory.mktemp("hosts") / "s.sqlite")
    yield s
    s.close()


@pytest.fixture(scope="module")
def dev(store):
    with serve(create_app(Settings(insecure_dev=True), store=store)) as running:
        yield running


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.1:8080", "localhost", "LOCALHOST:1",
                                  "[::1]", "[::1]:8080"])
def test_insecure_dev_answers_loopback_host_names_with_any_port(dev, host):
    r = httpx.get(f"{dev.url}/v1/graph", headers={"host": host})
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("host", ["attacker.example", "attacker.example:8080", "10.0.0.1",
                                  "localhost.attacker.example", "[2001:db8::1]", ""])
def test_insecure_dev_refuses_any_other_host_as_a_dns_rebinding_attempt(dev, host):
    r = httpx.get(f"{dev.url}/v1/graph", headers={"host": host})
    assert_problem(r, 421, "host-not-allowed")
    r = httpx.put(f"{dev.url}/v1/admin/switches/global", headers={"host": host},
                  json={"paused": True})
    assert_problem(r, 421, "host-not-allowed")


@pytest.mark.parametrize("headers", [{"origin": "https://attacker.example"},
                                     {"sec-fetch-site": "cross-site"}])
def test_insecure_dev_refuses_a_request_another_sites_page_sends(dev, headers):
    r = httpx.post(f"{dev.url}/v1/ingest/native", headers=headers,
                   content=b'{"type": "node", "kind": "service", "name": "planted"}\n')
    assert_problem(r, 421, "host-not-allowed")
    assert httpx.get(f"{dev.url}/v1/graph", params={"kind": "service"}).json()["nodes"] == []


def test_insecure_dev_answers_the_page_served_from_loopback(dev):
    r = httpx.get(f"{dev.url}/v1/graph", headers={"origin": dev.url,
                                                   "sec-fetch-site": "same-origin"})
    assert r.status_code == 200


def test_probes_answer_every_host(dev):
    assert httpx.get(f"{dev.url}/healthz", headers={"host": "10.1.2.3:8080"}).status_code == 200


def test_a_configured_allow_list_is_enforced_with_tokens(store):
    app = create_app(api_settings(allowed_hosts="ccm.internal,127.0.0.1"), store=store)
    with serve(app) as running:
        ok = httpx.get(f"{running.url}/v1/graph", headers={**auth("sre"), "host": "ccm.internal:443"})
        assert ok.status_code == 200
        assert_problem(httpx.get(f"{running.url}/v1/graph", headers={
            **auth("sre"), "host": "rebound.example"}), 421, "host-not-allowed")


def test_without_an_allow_list_a_token_server_answers_any_host(store):
    with serve(create_app(api_settings(), store=store)) as running:
        r = httpx.get(f"{running.url}/v1/graph", headers={**auth("sre"), "host": "ccm.example"})
        assert r.status_code == 200


def test_the_page_and_the_api_set_no_cookie_and_grant_no_cross_origin_access(dev):
    with dev.client() as c:
        responses = [c.get("/"), c.get("/web/static/app.js"), c.get("/v1/graph"),
                     c.get("/web/session", headers={"x-ccm-web": "1"}),
                     c.options("/v1/graph", headers={"origin": dev.url,
                                                     "access-control-request-method": "GET"})]
    for r in responses:
        assert "set-cookie" not in r.headers
        assert "access-control-allow-origin" not in r.headers
        assert "access-control-allow-credentials" not in r.headers


def test_the_pages_scripts_send_credentials_never_and_keep_the_token_for_the_tab_only():
    scripts = {p.name: p.read_text() for p in STATIC.glob("*.js")}
    assert not any("document.cookie" in s or "localStorage" in s for s in scripts.values())
    fetches = scripts["api.js"].count("fetch(")
    assert fetches == scripts["api.js"].count('credentials: "omit"') >= 2


def test_the_mcp_server_over_http_in_insecure_dev_refuses_other_hosts(store):
    from ccm.api.app import controller_factory
    from ccm.api.auth import load_token_registry
    from ccm.mcp.http import mcp_http_app
    from ccm.mcp.server import McpState

    settings = Settings(insecure_dev=True)
    ctl = controller_factory(settings, lambda: 0)(store)
    state = McpState(store, load_token_registry(None, None), lambda: 0, ctl)
    with serve(mcp_http_app(state, insecure_dev=True)) as running:
        call = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
        refused = httpx.post(f"{running.url}/mcp", json=call,
                             headers={"host": "attacker.example:8080"})
        assert_problem(refused, 421, "host-not-allowed")
        cross = httpx.post(f"{running.url}/mcp", json=call,
                           headers={"origin": "https://attacker.example"})
        assert_problem(cross, 421, "host-not-allowed")
