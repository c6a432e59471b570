"""The web view's server side: the page and its files, their security headers, and how the
page gets a token (pasted by default; handed out only when configured, read-only)."""

from __future__ import annotations

import json
import re

import pytest
from fastapi.testclient import TestClient

from ccm.api import Settings, create_app
from ccm.api.auth import hash_token
from ccm.errors import ConfigError
from ccm.web.page import STATIC, request_host
from tests.api_support import TOKENS, assert_problem, tokens_json

READ_ONLY = "ccm_test-web-view-token"
SCOPES = ["graph:read", "rca:read", "impact:read", "actions:read"]


def tokens() -> str:
    entries = json.loads(tokens_json())
    entries.append({"sha256": hash_token(READ_ONLY), "identity": "web-view", "role": "sre",
                    "scopes": SCOPES})
    return json.dumps(entries)


def token_file(tmp_path, token: str = READ_ONLY, mode: int = 0o600):
    path = tmp_path / "web.token"
    path.write_text(token + "\n")
    path.chmod(mode)
    return path


@pytest.fixture
def client(embedded):
    def make(**settings) -> TestClient:
        app = create_app(Settings(api_tokens=tokens(), **settings), store=embedded)
        return TestClient(app, base_url="http://localhost:8080")
    return make


def session(c: TestClient, **headers: str):
    return c.get("/web/session", headers={"X-CCM-Web": "1", **headers})


def test_the_page_is_served_at_the_root_with_a_strict_content_security_policy(client):
    with client() as c:
        resp = c.get("/")
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/html")
    assert '<script type="module" src="/web/static/app.js"></script>' in resp.text
    csp = resp.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp and "http" not in csp
    assert resp.headers["x-frame-options"] == "DENY"
    assert resp.headers["x-content-type-options"] == "nosniff"
    assert resp.headers["referrer-policy"] == "no-referrer"


def test_every_file_the_page_loads_ships_in_the_package_and_is_served(client):
    index = (STATIC / "index.html").read_text()
    wanted = set(re.findall(r'(?:src|href)="(/web/static/[^"]+)"', index))
    for js in (p for p in STATIC.iterdir() if p.name.endswith(".js")):
        wanted |= {f"/web/static/{m}" for m in re.findall(r'from "\./([^"]+)"', js.read_text())}
    assert {"/web/static/app.js", "/web/static/style.css", "/web/static/render.js"} <= wanted
    with client() as c:
        for path in sorted(wanted):
            resp = c.get(path)
            assert resp.status_code == 200, path
            kind = "javascript" if path.endswith(".js") else "css"
            assert kind in resp.headers["content-type"], path
            assert "default-src 'none'" in resp.headers["content-security-policy"]
            text = resp.text.replace('"http://www.w3.org/2000/svg"', "")  # a name, not a URL
            assert "http://" not in text and "https://" not in text, f"{path} reaches elsewhere"


def test_api_responses_keep_their_own_headers(client):
    with client() as c:
        resp = c.get("/healthz")
    assert resp.status_code == 200 and "content-security-policy" not in resp.headers


def test_without_a_handout_the_page_is_told_to_ask_for_a_token(client):
    with client() as c:
        resp = session(c)
    assert resp.json() == {"mode": "paste"}
    assert resp.headers["cache-control"] == "no-store"


def test_in_insecure_dev_mode_the_page_needs_no_token(client):
    with client(insecure_dev=True) as c:
        assert session(c).json() == {"mode": "insecure-dev"}


def test_a_handed_out_token_goes_only_to_the_page_on_an_allowed_host(client, tmp_path):
    with client(web_token_file=token_file(tmp_path)) as c:
        ok = session(c)
        assert ok.json() == {"mode": "handout", "token": READ_ONLY}
        assert ok.headers["cache-control"] == "no-store"
        assert_problem(c.get("/web/session"), 403, "forbidden")  # no X-CCM-Web header
        cross = assert_problem(session(c, **{"Sec-Fetch-Site": "cross-site"}), 403)
        assert "other sites" in cross["detail"]
        rebound = assert_problem(session(c, Host="attacker.example:8080"), 403)
        assert "'attacker.example'" in rebound["detail"] and READ_ONLY not in rebound["detail"]
        assert session(c, Host="127.0.0.1:8080").json()["token"] == READ_ONLY
        assert session(c, Host="[::1]:8080").json()["token"] == READ_ONLY


def test_more_host_names_can_be_allowed(client, tmp_path):
    with client(web_token_file=token_file(tmp_path),
                web_allowed_hosts="ccm.internal.example") as c:
        assert session(c, Host="ccm.internal.example").json()["mode"] == "handout"
        assert_problem(session(c, Host="localhost:8080"), 403)


def test_the_handed_out_token_authenticates_read_requests_only(client, tmp_path):
    with client(web_token_file=token_file(tmp_path)) as c:
        token = session(c).json()["token"]
        h = {"Authorization": f"Bearer {token}"}
        assert c.get("/v1/graph", headers=h).status_code == 200
        assert_problem(c.post("/v1/actions", headers=h, json={
            "action": "restart", "target": "service:cart"}), 403, "forbidden")


def test_a_token_that_can_do_more_than_read_is_not_handed_out(tmp_path):
    with pytest.raises(ConfigError) as info:
        create_app(Settings(api_tokens=tokens(),
                            web_token_file=token_file(tmp_path, TOKENS["sre"][0])))
    assert "actions:approve" in str(info.value) and "may only read" in str(info.value)


def test_a_token_file_others_can_read_stops_the_server(tmp_path):
    with pytest.raises(ConfigError, match="chmod 600"):
        create_app(Settings(api_tokens=tokens(), web_token_file=token_file(tmp_path, mode=0o644)))


@pytest.mark.parametrize("content", ["ccm_not-a-configured-token", ""])
def test_a_token_file_without_a_configured_token_stops_the_server(tmp_path, content):
    with pytest.raises(ConfigError, match="does not hold a configured"):
        create_app(Settings(api_tokens=tokens(), web_token_file=token_file(tmp_path, content)))


def test_a_missing_token_file_is_named(tmp_path):
    with pytest.raises(ConfigError, match="cannot read the web token file .*missing"):
        create_app(Settings(api_tokens=tokens(), web_token_file=tmp_path / "missing"))


def test_the_web_view_can_be_turned_off(client, tmp_path):
    with client(web=False, web_token_file=tmp_path / "never-read") as c:
        assert_problem(c.get("/"), 404)
        assert_problem(c.get("/web/static/app.js"), 404)
        assert c.get("/healthz").status_code == 200


@pytest.mark.parametrize(("host", "name"), [
    ("localhost:8080", "localhost"), ("127.0.0.1", "127.0.0.1"), ("[::1]:8080", "::1"),
    ("CCM.Example:443", "ccm.example"), ("", "")])
def test_the_host_name_is_read_without_its_port(host, name):
    class Req:
        headers = {"host": host}
    assert request_host(Req()) == name  # type: ignore[arg-type]
