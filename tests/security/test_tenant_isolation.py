"""Tenants cannot see or touch each other: a generated matrix of role x scopes x tenant x
route (every operation of the OpenAPI document) asserting who may call what, and which
tenant's memory and actions each token sees through the API, the MCP tool graph_at and
the web page's hand-out (issue 16, second finding)."""

from __future__ import annotations

import itertools
import json
from typing import Any

import anyio
import httpx
import pytest
from mcp import Client

from ccm.api import Settings, create_app
from ccm.api.app import controller_factory
from ccm.api.auth import ROLE_SCOPES, TokenRegistry, hash_token, load_token_registry
from ccm.mcp.server import McpState, build_mcp
from ccm.ops.access import Identity
from ccm.store import EmbeddedStore
from ccm.web.page import read_web_token
from graph_schema import EdgeFact, NodeFact, parse_time
from tests.api_support import assert_problem, audit_key_b64, serve

T0 = parse_time("2026-03-01T00:00:00Z")
TENANTS = ("default", "payments")
READ = ("graph:read", "actions:read", "audit:read", "memory:read")
#: the scope each operation needs (None: none); an operation missing here fails the test
NEEDS: dict[tuple[str, str], str | None] = {
    ("GET", "/healthz"): None, ("GET", "/readyz"): None, ("GET", "/metrics"): None,
    ("GET", "/v1/graph"): "graph:read", ("GET", "/v1/graph/diff"): "graph:read",
    ("GET", "/v1/coverage"): "graph:read",
    ("GET", "/v1/nodes/{ref}/history"): "graph:read",
    ("POST", "/v1/impact"): "impact:read", ("GET", "/v1/registry"): "impact:read",
    ("POST", "/v1/rca"): "rca:read",
    ("POST", "/v1/actions"): "actions:propose", ("GET", "/v1/actions"): "actions:read",
    ("GET", "/v1/actions/{action_id}"): "actions:read",
    ("POST", "/v1/actions/{action_id}/approvals"): "actions:approve",
    ("POST", "/v1/actions/{action_id}/execute"): "actions:execute",
    ("POST", "/v1/actions/{action_id}/outcome"): "actions:report",
    ("POST", "/v1/ingest/{fmt}"): "ingest:write", ("POST", "/v1/alertmanager"): "ingest:write",
    ("GET", "/v1/admin/switches"): "admin", ("PUT", "/v1/admin/switches/{scope}"): "admin",
    ("GET", "/v1/admin/grants"): "admin", ("POST", "/v1/admin/grants"): "admin",
    ("DELETE", "/v1/admin/grants/{grant_id}"): "admin",
    ("GET", "/v1/audit"): "audit:read", ("GET", "/v1/audit/verify"): "audit:read",
    ("GET", "/v1/memory/actions"): "memory:read",
}
PATH_VALUES = {"ref": "service:none", "action_id": "act-none", "fmt": "native",
               "scope": "global", "grant_id": "grant-none"}


def token_cases() -> list[tuple[str, str, tuple[str, ...] | None, str]]:
    """(name, role, scopes or None for the role's all, tenant) for every combination."""
    out = []
    for role, narrowed, tenant in itertools.product(ROLE_SCOPES, (False, True), TENANTS):
        scopes = READ if narrowed else None
        out.append((f"{role}-{'read' if narrowed else 'all'}-{tenant}", role, scopes, tenant))
    return out


CASES = token_cases()


def token_of(name: str) -> str:
    return f"ccm_matrix-{name}"


def tokens_json() -> str:
    entries: list[dict[str, Any]] = []
    for name, role, scopes, tenant in CASES:
        e: dict[str, Any] = {"sha256": hash_token(token_of(name)), "identity": name,
                             "role": role, "tenant": tenant}
        if scopes is not None:
            e["scopes"] = list(scopes)
        entries.append(e)
    return json.dumps(entries)


def identity(name: str) -> Identity:
    found = load_token_registry(None, tokens_json()).authenticate(token_of(name))
    assert found is not None
    return found


def memory_facts() -> list:
    """One remembered action per tenant, as the lifecycle writes them back."""
    facts: list = [NodeFact("service", "cart", {}, T0)]
    for tenant in TENANTS:
        facts += [NodeFact("action", f"act-{tenant}", {
            "action_type": "restart", "target": "service:cart", "status": "closed",
            "agent": f"bot-{tenant}", "params": {"why": f"secret plan of {tenant}"},
            "tenant": tenant, "proposed_at": T0 + 1}, T0 + 1, source="ccm.memory"),
            EdgeFact("TARGETS", f"action:act-{tenant}", "service:cart", {}, T0 + 1,
                     source="ccm.memory")]
    return facts


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    s = EmbeddedStore(tmp_path_factory.mktemp("tenants") / "s.sqlite")
    s.write(memory_facts())
    yield s
    s.close()


@pytest.fixture(scope="module")
def api(store):
    settings = Settings(api_tokens=tokens_json(), audit_key=audit_key_b64())
    with serve(create_app(settings, store=store)) as running:
        yield running


def operations() -> list[tuple[str, str]]:
    spec = create_app(Settings(api_tokens=tokens_json())).openapi()
    return sorted((m.upper(), p) for p, ops in spec["paths"].items() for m in ops)


def test_every_operation_of_the_openapi_document_is_in_the_matrix():
    assert set(operations()) == set(NEEDS)


def request(api, name: str | None, method: str, path: str) -> Any:
    url = path.format(**PATH_VALUES)
    headers = {"Authorization": f"Bearer {token_of(name)}"} if name else {}
    with api.client() as c:
        body = {} if method in ("POST", "PUT") else None
        return c.request(method, url, headers=headers, json=body)


@pytest.mark.parametrize("method,path", sorted(NEEDS))
def test_each_route_answers_each_token_by_its_scopes(api, method, path):
    scope = NEEDS[(method, path)]
    for name, _, _, _ in CASES:
        who = identity(name)
        r = request(api, name, method, path)
        if scope is None or who.can(scope):
            assert r.status_code not in (401, 403), (name, r.text)
        else:
            assert_problem(r, 403, "forbidden")
    if scope is not None:
        assert_problem(request(api, None, method, path), 401, "unauthenticated")


def visible_actions(api, name: str) -> dict[str, set[str]]:
    """The action nodes each tenant-data route shows this token."""
    auth = {"Authorization": f"Bearer {token_of(name)}"}
    seen: dict[str, set[str]] = {}
    with httpx.Client(base_url=api.url, headers=auth, timeout=60) as c:
        g = c.get("/v1/graph", params={"kind": "action"}).json()
        seen["graph"] = {n["ref"] for n in g["nodes"]}
        g = c.get("/v1/graph", params={"node": "service:cart", "depth": 1}).json()
        seen["neighbourhood"] = {n["ref"] for n in g["nodes"] if n["ref"].startswith("action:")}
        d = c.get("/v1/graph/diff", params={"t1": "2026-02-01T00:00:00Z", "t2": "now"}).json()
        seen["diff"] = {v["ref"] for v in d["added"] if v.get("ref", "").startswith("action:")}
        seen["history"] = {f"action:act-{t}" for t in TENANTS if c.get(
            f"/v1/nodes/action:act-{t}/history").status_code == 200}
        seen["cart history"] = {e["from"] for e in c.get(
            "/v1/nodes/service:cart/history").json()["edges"]}
        if identity(name).can("memory:read"):
            seen["memory"] = set()
            for t in TENANTS:
                r = c.get("/v1/memory/actions", params={"tenant": t})
                if r.status_code == 200:
                    seen["memory"] |= {a["ref"] for a in r.json()["actions"]}
                else:
                    assert_problem(r, 403, "forbidden")
    return seen


@pytest.mark.parametrize("name", [c[0] for c in CASES])
def test_each_token_sees_only_its_tenants_memory_unless_it_holds_the_admin_scope(api, name):
    who = identity(name)
    expected = {f"action:act-{t}" for t in TENANTS if t == who.tenant or who.can("admin")}
    seen = visible_actions(api, name)
    assert seen == {route: expected for route in seen}, seen


def test_an_admin_narrowed_to_read_scopes_sees_one_tenant_as_the_finding_describes(api):
    seen = visible_actions(api, "admin-read-payments")
    assert seen["graph"] == {"action:act-payments"}
    assert_problem(request(api, "admin-read-payments", "GET", "/v1/nodes/action:act-default/history"),
                   404, "not-found")


def graph_at(store: EmbeddedStore, name: str) -> set[str]:
    settings = Settings(api_tokens=tokens_json(), audit_key=audit_key_b64())
    tokens = load_token_registry(None, tokens_json())
    state = McpState(store, tokens, lambda: T0 + 10**9,
                     controller_factory(settings, lambda: T0 + 10**9)(store), identity(name))

    async def go() -> Any:
        async with Client(build_mcp(state)) as client:
            return await client.call_tool("graph_at", {"kinds": ["action"]})

    result = anyio.run(go)
    assert not result.is_error, result.content
    data = result.structured_content or json.loads(result.content[0].text)
    return {n["ref"] for n in data.get("result", data)["nodes"]}


@pytest.mark.parametrize("name,expected", [
    ("agent-all-default", {"action:act-default"}),
    ("sre-all-payments", {"action:act-payments"}),
    ("admin-read-default", {"action:act-default"}),
    ("admin-all-payments", {"action:act-default", "action:act-payments"})])
def test_the_mcp_graph_at_tool_shows_only_the_tokens_tenants_actions(store, name, expected):
    assert graph_at(store, name) == expected


def test_the_web_hand_out_takes_an_admin_role_read_token_which_then_sees_one_tenant(tmp_path):
    registry = load_token_registry(None, json.dumps([{
        "sha256": hash_token("ccm_web-view"), "identity": "web-view", "role": "admin",
        "tenant": "payments", "scopes": ["graph:read", "actions:read"]}]))
    path = tmp_path / "web.token"
    path.write_text("ccm_web-view")
    path.chmod(0o600)
    assert read_web_token(path, registry) == "ccm_web-view"
    who = registry.authenticate("ccm_web-view")
    assert who is not None and not who.sees_tenant("default") and who.sees_tenant("payments")


def test_the_web_hand_out_refuses_a_token_that_crosses_tenants(tmp_path):
    registry: TokenRegistry = load_token_registry(None, json.dumps([{
        "sha256": hash_token("ccm_web-admin"), "identity": "web-admin", "role": "admin",
        "scopes": ["graph:read", "admin"]}]))
    path = tmp_path / "web.token"
    path.write_text("ccm_web-admin")
    path.chmod(0o600)
    with pytest.raises(Exception, match="admin"):
        read_web_token(path, registry)
