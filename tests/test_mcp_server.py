"""The MCP server driven by the MCP client library: over stdio (``ccm mcp`` as a
subprocess) and over streamable HTTP (with bearer tokens)."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from ccm.api.auth import load_token_registry
from ccm.cli.demo import load_demo
from ccm.mcp.http import mcp_http_app
from ccm.mcp.server import McpState
from tests.api_support import TOKENS, serve, tokens_json

BEFORE = "2026-03-01T00:00:00Z"


@pytest.fixture(scope="module")
def demo_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("mcp") / "demo.sqlite"
    load_demo(path).close()
    return path


def stdio_params(demo_path, token: str | None = None, *extra: str) -> StdioServerParameters:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CCM_")}
    env.update({"CCM_STORE": str(demo_path), "CCM_API_TOKENS": tokens_json(),
                "XDG_CONFIG_HOME": str(demo_path.parent / "config")})
    if token:
        env["CCM_TOKEN"] = token
    return StdioServerParameters(command=sys.executable, args=["-m", "ccm", "mcp", *extra],
                                 env=env)


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
    assert "graph_at" in tools
    schema = tools["graph_at"].input_schema
    assert schema["properties"]["depth"]["maximum"] == 10
    assert "node" in schema["properties"]


def test_graph_at_over_stdio_answers_as_the_agent_token(demo_path):
    result = call(stdio_params(demo_path, TOKENS["agent"][0]), "graph_at",
                  {"at": BEFORE, "node": "service:cartservice", "depth": 1})
    data = structured(result)
    refs = {n["ref"] for n in data["nodes"]}
    assert {"service:cartservice", "cache:redis-cart"} <= refs
    assert data["center"] == "service:cartservice"


def test_a_tool_error_names_the_problem_for_the_model(demo_path):
    result = call(stdio_params(demo_path, TOKENS["agent"][0]), "graph_at",
                  {"node": "service:nope"})
    assert result.is_error and "service:nope" in result.content[0].text


def test_a_token_without_the_scope_is_refused_by_the_tool(demo_path):
    result = call(stdio_params(demo_path, TOKENS["ingest_only"][0]), "graph_at", {})
    assert result.is_error and "lacks the scope graph:read" in result.content[0].text


def test_stdio_refuses_to_start_without_a_token(demo_path):
    import subprocess

    params = stdio_params(demo_path)
    proc = subprocess.run([params.command, *params.args], env=params.env, capture_output=True,
                          text=True, timeout=120, input="")
    assert proc.returncode == 1 and "CCM_TOKEN" in proc.stderr


@pytest.fixture
def http_server(demo_path):
    from ccm.store import EmbeddedStore

    store = EmbeddedStore(demo_path)
    state = McpState(store, load_token_registry(None, tokens_json()), lambda: 0)
    with serve(mcp_http_app(state)) as running:
        yield running
    store.close()


def http_client(url: str, who: str | None) -> Any:
    headers = {"Authorization": f"Bearer {TOKENS[who][0]}"} if who else {}
    return streamable_http_client(f"{url}/mcp", http_client=httpx2.AsyncClient(
        headers=headers, timeout=60))


def test_graph_at_over_streamable_http_with_a_bearer_token(http_server):
    result = call(http_client(http_server.url, "sre"), "graph_at",
                  {"at": BEFORE, "kinds": ["cache"]})
    data = structured(result)
    assert [n["ref"] for n in data["nodes"]] == ["cache:redis-cart"]


def test_streamable_http_without_a_token_is_a_401(http_server):
    import httpx

    r = httpx.post(f"{http_server.url}/mcp", json={"jsonrpc": "2.0", "id": 1,
                                                   "method": "tools/list"})
    assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer")


def test_streamable_http_checks_scopes_per_request(http_server):
    result = call(http_client(http_server.url, "ingest_only"), "graph_at", {})
    assert result.is_error and "lacks the scope" in result.content[0].text
