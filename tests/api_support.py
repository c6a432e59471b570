"""Helpers for the API tests: a real uvicorn server on a free loopback port, tokens.

Tests talk to the server over real HTTP with httpx (no TestClient).
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import uvicorn

from ccm.api import Settings, create_app
from ccm.api.auth import hash_token

#: fixed test tokens (never random in fixtures): name -> (token, identity, role, tenant)
TOKENS: dict[str, tuple[str, str, str, str]] = {
    "agent": ("ccm_test-agent-token", "deploy-bot", "agent", "default"),
    "sre": ("ccm_test-sre-token", "alice", "sre", "default"),
    "admin": ("ccm_test-admin-token", "root", "admin", "default"),
    "other_agent": ("ccm_test-other-agent", "other-bot", "agent", "payments"),
    "other_sre": ("ccm_test-other-sre", "bob", "sre", "payments"),
    "ingest_only": ("ccm_test-ingest-only", "alertmanager", "sre", "default"),
}


def tokens_json() -> str:
    entries: list[dict[str, Any]] = []
    for name, (token, identity, role, tenant) in TOKENS.items():
        e: dict[str, Any] = {"sha256": hash_token(token), "identity": identity, "role": role,
                             "tenant": tenant}
        if name == "ingest_only":
            e["scopes"] = ["ingest:write"]
        entries.append(e)
    return json.dumps(entries)


def api_settings(**overrides: Any) -> Settings:
    return Settings(api_tokens=tokens_json(), **overrides)


def auth(name: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKENS[name][0]}"}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Running:
    url: str
    app: Any

    def client(self, who: str | None = None, **kw: Any) -> httpx.Client:
        headers = auth(who) if who else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60.0, **kw)


@contextmanager
def serve(app: Any) -> Iterator[Running]:
    """Run ``app`` with uvicorn in a thread on a free loopback port until the block ends."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                            lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test API server did not start")
        time.sleep(0.02)
    try:
        yield Running(f"http://127.0.0.1:{port}", app)
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@contextmanager
def serve_store(store: Any, clock: Any = None, **overrides: Any) -> Iterator[Running]:
    with serve(create_app(api_settings(**overrides), store=store, clock=clock)) as running:
        yield running


def assert_problem(resp: httpx.Response, status: int, slug: str | None = None) -> dict[str, Any]:
    """The response is an application/problem+json of ``status`` (and type slug)."""
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json"), resp.headers
    body: dict[str, Any] = resp.json()
    assert body["status"] == status and body["title"] and "instance" in body
    assert "Traceback" not in resp.text
    if slug is not None:
        assert body["type"] == f"urn:ccm:problem:{slug}", body
    return body
