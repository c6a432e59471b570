"""The read-only web view: ``GET /`` serves a page of hand-written ES modules (package data
in ``ccm/web/static``, no build step, nothing from a CDN) that uses the public API
(``GET /v1/graph``, ``POST /v1/rca``, ``POST /v1/impact``, ...) with a bearer token,
like every other client. See docs/web.md.

How the page gets its token:

- **pasted** (the default): the person pastes a token; the page keeps it in the tab's
  ``sessionStorage`` (gone when the tab closes) and sends it only in the
  ``Authorization`` header of same-origin API calls.
- **handed out** (explicit opt-in: ``CCM_WEB_TOKEN_FILE`` / ``ccm serve
  --web-token-file``): the server gives the page a token from ``GET /web/session``.
  Whoever can load the page can then read the graph, so at start the token must be one
  of the configured tokens, limited to read scopes (:data:`READ_ONLY_SCOPES`), in a
  file only its owner can read; and the session endpoint answers only same-origin
  requests (the ``X-CCM-Web`` header, ``Sec-Fetch-Site``) whose ``Host`` is an allowed
  name (``CCM_WEB_ALLOWED_HOSTS``; against DNS rebinding).

The page and its files are sent with a strict Content-Security-Policy (scripts and
styles from this origin only, no inline script, no framing) and the page renders all
graph text (alert summaries, change descriptions) as text, never as markup.
"""

from __future__ import annotations

import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ccm.errors import ConfigError
from ccm.ops.access import Forbidden, Identity
from ccm.ops.hosts import host_name

__all__ = ["DEFAULT_HOSTS", "READ_ONLY_SCOPES", "WebConfig", "install_web", "read_web_token",
           "web_config"]

#: the most a token handed to the page may allow
READ_ONLY_SCOPES = frozenset({"graph:read", "rca:read", "impact:read", "actions:read"})
#: host names the session endpoint answers by default (loopback only)
DEFAULT_HOSTS = ("localhost", "127.0.0.1", "::1")
STATIC = resources.files("ccm.web") / "static"
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; "
       "frame-ancestors 'none'")
HEADERS = [(b"content-security-policy", CSP.encode()), (b"x-content-type-options", b"nosniff"),
           (b"referrer-policy", b"no-referrer"), (b"x-frame-options", b"DENY"),
           (b"cross-origin-opener-policy", b"same-origin")]


class Authenticator(Protocol):
    def authenticate(self, token: str) -> Identity | None: ...


@dataclass(frozen=True)
class WebConfig:
    """Whether to serve the page, the token to hand it (None: the person pastes one) and the
    host names the session endpoint answers."""

    enabled: bool = True
    handout: str | None = field(default=None, repr=False)
    allowed_hosts: frozenset[str] = frozenset(DEFAULT_HOSTS)
    insecure_dev: bool = False


def read_web_token(path: Path, tokens: Authenticator) -> str:
    """The token in ``path`` to hand to the page, checked: the file is readable by its owner
    only, the token is configured, and it allows nothing but reading."""
    where = f"the web token file {path} (CCM_WEB_TOKEN_FILE)"
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(f"cannot read {where}: {exc.strerror}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(f"{where} can be read by other users (mode {stat.filemode(mode)}): "
                          f"chmod 600 {path}")
    who = tokens.authenticate(text) if text else None
    if who is None:
        raise ConfigError(f"{where} does not hold a configured, unexpired token: make one with "
                          "`ccm token create --role sre --identity web-view --scope graph:read "
                          "--scope rca:read --scope impact:read --scope actions:read`")
    extra = sorted(who.scopes - READ_ONLY_SCOPES)
    if extra:
        raise ConfigError(
            f"{where} holds {who.id}'s token, which allows {', '.join(extra)}: a token handed "
            f"to every visitor of the page may only read ({', '.join(sorted(READ_ONLY_SCOPES))}"
            "); make one with --scope for each")
    return text


def web_config(*, enabled: bool = True, token_file: Path | None = None,
               allowed_hosts: Iterable[str] = DEFAULT_HOSTS, tokens: Authenticator,
               insecure_dev: bool = False) -> WebConfig:
    """The web view's configuration (a bad token file raises ConfigError at start)."""
    handout = read_web_token(token_file, tokens) if enabled and token_file else None
    hosts = frozenset(h.strip().lower().strip("[]") for h in allowed_hosts if h.strip())
    return WebConfig(enabled, handout, hosts, insecure_dev)


def request_host(request: Request) -> str:
    """The host name the client asked for (the ``Host`` header without the port)."""
    return host_name(request.headers.get("host", ""))


router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def index() -> HTMLResponse:
    """The page (static: everything it shows comes from the API)."""
    html = (STATIC / "index.html").read_text(encoding="utf-8")
    return HTMLResponse(html, headers={"cache-control": "no-cache"})


@router.get("/web/session")
def session(request: Request) -> JSONResponse:
    """How the page authenticates: ``paste`` (ask the person), ``insecure-dev`` (the server
    needs no token) or ``handout`` with the token (see the module docstring)."""
    config: WebConfig = request.app.state.web
    if request.headers.get("x-ccm-web") != "1":
        raise Forbidden("the web view's session is only for the page itself "
                        "(send X-CCM-Web: 1 from the same origin)")
    if request.headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
        raise Forbidden("the web view's session is not given to other sites")
    body: dict[str, Any] = {"mode": "insecure-dev" if config.insecure_dev else "paste"}
    if config.handout is not None:
        host = request_host(request)
        if host not in config.allowed_hosts:
            raise Forbidden(f"the web token is only handed out to pages loaded as "
                            f"{', '.join(sorted(config.allowed_hosts))}, not {host!r} "
                            "(CCM_WEB_ALLOWED_HOSTS)")
        body = {"mode": "handout", "token": config.handout}
    return JSONResponse(body, headers={"cache-control": "no-store"})


class WebHeadersMiddleware:
    """Adds the page's security headers (CSP, nosniff, no framing, no referrer) to ``/``
    and ``/web/...`` responses."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if path != "/" and not path.startswith("/web/"):
            await self.app(scope, receive, send)
            return

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*(message.get("headers") or []), *HEADERS]
            await send(message)

        await self.app(scope, receive, send_wrapper)


def install_web(app: FastAPI, config: WebConfig) -> None:
    """Serve the page at ``/``, its files at ``/web/static/`` and ``/web/session``."""
    app.state.web = config
    if not config.enabled:
        return
    app.include_router(router)
    app.mount("/web/static", StaticFiles(directory=str(STATIC)), name="web-static")
    app.add_middleware(WebHeadersMiddleware)
