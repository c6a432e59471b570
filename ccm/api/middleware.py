"""Plain ASGI middlewares: request ids, a bound on request bodies, the Host check."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ccm.ops.hosts import host_name, is_loopback

__all__ = ["BodyLimitMiddleware", "HostCheckMiddleware", "RequestIdMiddleware"]

_SAFE_ID = re.compile(r"^[A-Za-z0-9._\-]{1,64}$")


class RequestIdMiddleware:
    """Gives every request an id (``X-Request-ID``: the client's if sane, else new)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        rid = given if _SAFE_ID.match(given) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = rid

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or [])
                if not any(k.lower() == b"x-request-id" for k, _ in headers):
                    headers.append((b"x-request-id", rid.encode("latin-1")))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_wrapper)


class BodyLimitMiddleware:
    """Answers 413 to request bodies over ``limit`` bytes: by Content-Length up front, and
    for chunked uploads (no Content-Length) by reading at most ``limit`` bytes first."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None:
            if declared.isdigit() and int(declared) > self.limit:
                await self.refuse(scope, send, int(declared))
                return
            await self.app(scope, receive, send)
            return
        buffered: list[Message] = []
        size = 0
        while True:
            message = await receive()
            buffered.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > self.limit:
                await self.refuse(scope, send, size)
                return
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            return buffered.pop(0) if buffered else await receive()

        await self.app(scope, replay, send)

    async def refuse(self, scope: Scope, send: Send, size: int) -> None:
        from ccm.api.problems import problem_body

        body = problem_body(413, "body-too-large", scope, (
            f"the request body ({size} bytes or more) is over the limit of {self.limit} "
            "bytes (CCM_MAX_BODY_BYTES); send it in parts"))
        rid = scope.get("state", {}).get("request_id", "")
        await send({"type": "http.response.start", "status": 413, "headers": [
            (b"content-type", b"application/problem+json"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"), (b"x-request-id", rid.encode("latin-1"))]})
        await send({"type": "http.response.body", "body": body})


class HostCheckMiddleware:
    """Answers only requests whose ``Host`` is an allowed name (against DNS rebinding).

    ``loopback_only`` (``--insecure-dev``, where a request without a token acts as an
    admin): the Host must be loopback (``localhost``, ``127.0.0.1``, ``[::1]``, any port),
    and a request a browser sends from another site (``Origin`` not loopback, or
    ``Sec-Fetch-Site: cross-site``) is refused, so a page cannot act as that admin.
    Otherwise ``hosts`` (``CCM_ALLOWED_HOSTS``; ``*`` in it: any). ``/healthz`` and
    ``/readyz`` answer every Host (probes, no data)."""

    OPEN_PATHS = ("/healthz", "/readyz")

    def __init__(self, app: ASGIApp, hosts: Iterable[str], loopback_only: bool) -> None:
        self.app = app
        self.hosts = frozenset(host_name(h) for h in hosts if h.strip())
        self.loopback_only = loopback_only
        self.any_host = "*" in self.hosts and not loopback_only

    def refusal(self, scope: Scope) -> str | None:
        headers = dict(scope.get("headers") or [])
        host = host_name(headers.get(b"host", b"").decode("latin-1"))
        if self.loopback_only:
            if not is_loopback(host):
                return (f"the Host {host!r} is not a loopback name: --insecure-dev answers "
                        "only localhost, 127.0.0.1 and [::1]")
            origin = headers.get(b"origin", b"").decode("latin-1")
            if origin and origin != "null" and not is_loopback(host_name(
                    urlsplit(origin).netloc)):
                return "--insecure-dev refuses requests sent by pages of other sites"
            if headers.get(b"sec-fetch-site", b"") == b"cross-site":
                return "--insecure-dev refuses requests sent by pages of other sites"
            return None
        if self.any_host or host in self.hosts:
            return None
        return (f"the Host {host!r} is not one this server answers (CCM_ALLOWED_HOSTS: "
                f"{', '.join(sorted(self.hosts))})")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") in self.OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        why = self.refusal(scope)
        if why is None:
            await self.app(scope, receive, send)
            return
        from ccm.api.problems import problem_body

        body = problem_body(421, "host-not-allowed", scope, why)
        await send({"type": "http.response.start", "status": 421, "headers": [
            (b"content-type", b"application/problem+json"),
            (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
