"""``ccm mcp``: the Model Context Protocol server for LLM agents."""

from __future__ import annotations

import os

import click

from ccm.cli.common import handle_errors, opened_store, store_option
from ccm.cli.serve import service_settings
from ccm.errors import ConfigError
from ccm.ops.hosts import is_loopback


@click.command("mcp")
@click.option("--transport", type=click.Choice(["stdio", "http"]), default="stdio",
              show_default=True, help="stdio (the agent starts `ccm mcp` itself) or "
                                      "streamable HTTP (endpoint /mcp).")
@click.option("--host", default="127.0.0.1", show_default=True, help="HTTP: address.")
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True,
              help="HTTP: port.")
@store_option
@click.option("--agent-key-file", type=click.Path(dir_okay=False, exists=True),
              envvar="CCM_AGENT_KEY_FILE", default=None,
              help="stdio: the agent's Ed25519 key (registered with its identity); the "
                   "server signs the agent's proposals with it.")
@click.option("--insecure-dev", is_flag=True, envvar="CCM_INSECURE_DEV",
              help="Without a token, act as the admin 'dev' (loopback/stdio; try-outs only).")
@handle_errors
def mcp_cmd(transport: str, host: str, port: int, store_location: str | None,
            agent_key_file: str | None, insecure_dev: bool) -> None:
    """Run CCM's MCP server: tools predict_impact, find_root_causes, propose_action,
    report_outcome and graph_at, for an LLM agent to call before it acts.

    Over stdio the server acts as the identity of the token in $CCM_TOKEN (one of the
    configured API tokens, see `ccm token create`); over HTTP each request sends
    `Authorization: Bearer <token>`.
    """
    import uvicorn

    from ccm.api.app import controller_factory
    from ccm.api.auth import load_token_registry
    from ccm.api.deps import DEV_IDENTITY
    from ccm.audit.keys import Signer
    from ccm.mcp.http import mcp_http_app
    from ccm.mcp.server import McpState, build_mcp
    from ccm.ops.runtime import prefer_passive_threads
    from graph_schema.timeutil import now_micros

    prefer_passive_threads()
    if insecure_dev and transport == "http" and not is_loopback(host):
        raise ConfigError(f"--insecure-dev only binds to loopback addresses, not {host}")
    settings = service_settings(store_location, insecure_dev)
    tokens = load_token_registry(settings.api_tokens_file, settings.api_tokens)
    identity = None
    if transport == "stdio":
        token = os.environ.get("CCM_TOKEN", "").strip()
        identity = tokens.authenticate(token) if token else None
        if token and identity is None:
            raise ConfigError("CCM_TOKEN is not one of the configured API tokens "
                              "(CCM_API_TOKENS_FILE / CCM_API_TOKENS)")
        if identity is None and not insecure_dev:
            raise ConfigError("set CCM_TOKEN to the agent's CCM token (ccm token create "
                              "--role agent --identity <agent>), or pass --insecure-dev")
        identity = identity or DEV_IDENTITY
    elif not len(tokens) and not insecure_dev:
        raise ConfigError("no API tokens are configured (ccm token create), so the MCP "
                          "server would be open to anyone; or pass --insecure-dev")
    key = Signer.from_file(agent_key_file, "--agent-key-file") if agent_key_file else None
    if key is not None and transport != "stdio":
        raise ConfigError("--agent-key-file signs as the one agent of a stdio server; over "
                          "HTTP each agent signs its own proposals")
    make_controller = controller_factory(settings, now_micros)
    with opened_store(settings.store) as store:
        state = McpState(store, tokens, now_micros, make_controller(store), identity, key)
        if transport == "stdio":
            build_mcp(state).run("stdio")
        else:
            app = mcp_http_app(state, host=host, insecure_dev=insecure_dev)
            uvicorn.run(app, host=host, port=port, log_level="warning", server_header=False)


def register(cli: click.Group) -> None:
    cli.add_command(mcp_cmd)
