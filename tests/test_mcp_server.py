"""The MCP server driven by the MCP client library: over stdio (``ccm mcp`` as a
subprocess) and over streamable HTTP (with bearer tokens). The tools answer what the
API answers: the same library functions behind both doors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import anyio
import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from ccm.api.app import controller_factory
from ccm.api.auth import load_token_registry
from ccm.audit.log import Actor
from ccm.cli.demo import load_demo
from ccm.mcp.http import mcp_http_app
from ccm.mcp.server import McpState
from ccm.policy.controls import grant
from tests.api_support import (
    TOKENS,
    api_settings,
    audit_key_b64,
    command_registry,
    fixed_key_b64,
    register_identities,
    serve,
    signed_proposal,
    tokens_json,
)
from tests.conftest import FakeClock

BEFORE = "2026-03-01T00:00:00Z"
RESTART = {"action": "restart", "target": "service:cartservice", "model": "claude"}


@pytest.fixture(scope="module")
def demo_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("mcp") / "demo.sqlite"
    store = load_demo(path)
    register_identities(store)
    store.close()
    (path.parent / "agent.key").write_text(fixed_key_b64("deploy-bot"))
    return path


def stdio_params(demo_path, token: str | None = None, *extra: str) -> StdioServerParameters:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CCM_")}
    env.update({"CCM_STORE": str(demo_path), "CCM_API_TOKENS": tokens_json(),
                "CCM_AUDIT_KEY": audit_key_b64(),
                "XDG_CONFIG_HOME": str(demo_path.parent / "config")})
    if token:
        env["CCM_TOKEN"] = token
    return StdioServerParameters(command=sys.executable, args=["-m", "ccm", "mcp", *extra],
                                 env=env)


def agent_stdio(demo_path) -> StdioServerParameters:
    return stdio_params(demo_path, TOKENS["agent"][0], "--agent-key-file",
                        str(demo_path.parent / "agent.key"))


def structured(result: Any) -> dict[str, Any]:
    assert not result.is_error, result.content
    if result.structured_content is not None:
        data: dict[str, Any] = result.structured_content
        return data.get("result", data) if set(data) == {"result"} else data
    return json.loads(result.content[0].text)


def call(target: Any, tool: str, args: dict[str, Any]) -> Any:
    async def go() -> Any:
        async with Client(target) as client:
            return await client.call_tool(tool, args)

    return anyio.run(go)


def test_the_tools_are_listed_with_typed_input_schemas(demo_path):
    async def go() -> Any:
        async with Client(stdio_params(demo_path, TOKENS["agent"][0])) as client:
            return await client.list_tools()

    tools = {t.name: t for t in anyio.run(go).tools}
    assert set(tools) == {"predict_impact", "find_root_causes", "propose_action",
                          "report_outcome", "graph_at"}
    assert tools["graph_at"].input_schema["properties"]["depth"]["maximum"] == 10
    impact = json.dumps(tools["predict_impact"].input_schema)
    assert '"action"' in impact and '"inputs"' in impact and '"target"' in impact
    assert tools["report_outcome"].input_schema["required"] == ["action_id", "healthy"]


def test_graph_at_over_stdio_answers_as_the_agent_token(demo_path):
    result = call(stdio_params(demo_path, TOKENS["agent"][0]), "graph_at",
                  {"at": BEFORE, "node": "service:cartservice", "depth": 1})
    data = structured(result)
    refs = {n["ref"] for n in data["nodes"]}
    assert {"service:cartservice", "cache:redis-cart"} <= refs
    assert data["center"] == "service:cartservice"


def test_predict_impact_over_stdio_signs_with_the_agents_key(demo_path):
    data = structured(call(agent_stdio(demo_path), "predict_impact", {"action": RESTART}))
    rules = {r["rule"]: r for r in data["verdict"]["results"]}
    assert rules["identity_binding"]["decision"] == "proceed"
    assert data["verdict"]["impact"]["node_probabilities"]["service:frontend"] > 0.1
    assert data["proposal"]["agent"] == "deploy-bot"


def test_find_root_causes_over_stdio(demo_path):
    data = structured(call(stdio_params(demo_path, TOKENS["agent"][0]), "find_root_causes",
                           {"question": {"at": "2026-03-05T09:50:00Z", "k": 3}}))
    assert data["chains"][0]["root"] == "change:chg-102"


def test_a_tool_error_names_the_problem_for_the_model(demo_path):
    result = call(stdio_params(demo_path, TOKENS["agent"][0]), "graph_at",
                  {"node": "service:nope"})
    assert result.is_error and "service:nope" in result.content[0].text


def test_a_token_without_the_scope_is_refused_by_the_tool(demo_path):
    result = call(stdio_params(demo_path, TOKENS["ingest_only"][0]), "graph_at", {})
    assert result.is_error and "lacks the scope graph:read" in result.content[0].text


def test_stdio_refuses_to_start_without_a_token(demo_path):
    params = stdio_params(demo_path)
    proc = subprocess.run([params.command, *params.args], env=params.env, capture_output=True,
                          text=True, timeout=120, input="")
    assert proc.returncode == 1 and "CCM_TOKEN" in proc.stderr


@pytest.fixture
def http_server(tmp_path):
    store = load_demo(tmp_path / "demo.sqlite")
    register_identities(store)
    clock = FakeClock()
    settings = api_settings(audit_key=audit_key_b64(),
                            actions=command_registry(tmp_path / "actions.yaml"))
    ctl = controller_factory(settings, clock)(store)
    state = McpState(store, load_token_registry(None, tokens_json()), clock, ctl)
    with serve(mcp_http_app(state)) as running:
        running.app.ctl = ctl
        yield running
    store.close()


def http_client(url: str, who: str | None) -> Any:
    headers = {"Authorization": f"Bearer {TOKENS[who][0]}"} if who else {}
    return streamable_http_client(f"{url}/mcp", http_client=httpx2.AsyncClient(
        headers=headers, timeout=60))


def test_graph_at_over_streamable_http_with_a_bearer_token(http_server):
    data = structured(call(http_client(http_server.url, "sre"), "graph_at",
                           {"at": BEFORE, "kinds": ["cache"]}))
    assert [n["ref"] for n in data["nodes"]] == ["cache:redis-cart"]


def test_streamable_http_without_a_token_is_a_401(http_server):
    r = httpx.post(f"{http_server.url}/mcp", json={"jsonrpc": "2.0", "id": 1,
                                                   "method": "tools/list"})
    assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer")


def test_streamable_http_checks_scopes_per_request(http_server):
    result = call(http_client(http_server.url, "ingest_only"), "graph_at", {})
    assert result.is_error and "lacks the scope" in result.content[0].text


def test_propose_then_report_outcome_over_http(http_server):
    ctl = http_server.app.ctl
    grant(ctl.store, ctl.audit, agent="deploy-bot", actions=["restart"], targets=["*"],
          expires_at=ctl.clock() + 3_600_000_000, by=Actor("root", "human"), now=ctl.clock())
    body = signed_proposal(RESTART, "deploy-bot", "default", ctl.clock())
    rec = structured(call(http_client(http_server.url, "agent"), "propose_action",
                          {"action": body}))
    assert rec["proposal"]["agent"] == "deploy-bot" and rec["state"] == "evaluated"
    aid = rec["id"]
    early = call(http_client(http_server.url, "agent"), "report_outcome",
                 {"action_id": aid, "healthy": True})
    assert early.is_error and "after execution" in early.content[0].text
    ctl.approve(aid, "alice")
    assert ctl.execute(aid).state == "executed"
    other = call(http_client(http_server.url, "agent2"), "report_outcome",
                 {"action_id": aid, "healthy": True})
    assert other.is_error and "its own actions" in other.content[0].text
    done = structured(call(http_client(http_server.url, "agent"), "report_outcome",
                           {"action_id": aid, "healthy": True, "note": "p99 normal"}))
    assert done["state"] == "closed"
    assert any(h.get("by") == "deploy-bot" for h in done["history"])


def test_find_root_causes_carries_the_close_call(demo_path):
    data = structured(call(stdio_params(demo_path, TOKENS["agent"][0]), "find_root_causes",
                           {"question": {"at": "2026-03-05T09:45:00Z", "k": 3}}))
    assert data["close_call"]["observation"]["node"] == "service:currencyservice"
