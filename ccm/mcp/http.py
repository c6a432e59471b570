"""The MCP server over streamable HTTP, behind CCM's bearer tokens."""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Receive, Scope, Send

from ccm.api.deps import DEV_IDENTITY
from ccm.api.middleware import HostCheckMiddleware
from ccm.mcp.server import IDENTITY_KEY, McpState, build_mcp

__all__ = ["BearerAuth", "mcp_http_app"]


class BearerAuth:
    """Authenticates every HTTP request with a CCM token and attaches its identity."""

    def __init__(self, app: ASGIApp, state: McpState, insecure_dev: bool = False) -> None:
        self.app = app
        self.state = state
        self.insecure_dev = insecure_dev

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        header = dict(scope.get("headers") or []).get(b"authorization", b"")
        scheme, _, token = header.decode("latin-1").partition(" ")
        who = None
        if scheme.lower() == "bearer" and token.strip():
            who = self.state.tokens.authenticate(token.strip())
        elif not header and self.insecure_dev:
            who = DEV_IDENTITY
        if who is None:
            await _unauthorized(scope, send)
            return
        scope.setdefault("state", {})[IDENTITY_KEY] = who
        await self.app(scope, receive, send)


async def _unauthorized(scope: Scope, send: Send) -> None:
    body = json.dumps({"type": "urn:ccm:problem:unauthenticated", "title": "Unauthorized",
                       "status": 401, "instance": scope.get("path", ""),
                       "detail": "send 'Authorization: Bearer <token>' (ccm token create)"}
                      ).encode()
    await send({"type": "http.response.start", "status": 401,
                "headers": [(b"content-type", b"application/problem+json"),
                            (b"www-authenticate", b'Bearer realm="ccm"'),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def mcp_http_app(state: McpState, *, host: str = "127.0.0.1", insecure_dev: bool = False,
                 path: str = "/mcp") -> ASGIApp:
    """The streamable HTTP app (endpoint ``path``), every request authenticated; with
    ``insecure_dev``, answering loopback Host names only (see HostCheckMiddleware)."""
    app = build_mcp(state).streamable_http_app(streamable_http_path=path, host=host)
    return HostCheckMiddleware(BearerAuth(app, state, insecure_dev), ("*",),
                               loopback_only=insecure_dev)
