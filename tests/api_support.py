"""Helpers for the API tests: a real uvicorn server on a free loopback port, tokens.

Tests talk to the server over real HTTP with httpx (no TestClient).
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
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
    "agent2": ("ccm_test-agent2-token", "canary-bot", "agent", "default"),
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


@dataclass
class ServeProcess:
    """A ``ccm serve`` subprocess: its URL, and its stderr once it has stopped."""

    url: str
    proc: subprocess.Popen[str]
    stderr: str = ""


@contextmanager
def ccm_serve(args: list[str], env: dict[str, str], timeout: float = 90.0
              ) -> Iterator[ServeProcess]:
    """``ccm serve ARGS`` as a user runs it, on a free loopback port, until the block
    ends; waits for /healthz (failing with its output if it exits or times out)."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "ccm", "serve", "--port", str(port),
                             "--log-level", "warning", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    served = ServeProcess(f"http://127.0.0.1:{port}", proc)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if httpx.get(f"{served.url}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "ccm serve did not start"
            time.sleep(0.2)
        yield served
    finally:
        proc.terminate()
        _, served.stderr = proc.communicate(timeout=30)


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


# -- the control plane: fixed keys and registered identities for the test tokens ---------

def fixed_key_b64(seed: str) -> str:
    """The base64 raw Ed25519 private key fixed for ``seed`` (no randomness in fixtures)."""
    import base64
    import hashlib

    return base64.b64encode(hashlib.sha256(seed.encode()).digest()).decode()


def fixed_key(seed: str) -> Any:
    from ccm.audit.keys import Signer

    return Signer.from_b64(fixed_key_b64(seed))


def audit_key_b64() -> str:
    import base64
    import hashlib

    return base64.b64encode(hashlib.sha256(b"api-test-audit").digest()).decode()


#: identity -> (kind, key seed), for every identity behind the test tokens
IDENTITIES = {"deploy-bot": "agent", "canary-bot": "agent", "other-bot": "agent", "alice": "human", "bob": "human",
              "root": "human"}


def register_identities(store: Any) -> None:
    from ccm.policy.identities import IdentityRecord, put_identity

    for ident, kind in IDENTITIES.items():
        put_identity(store, IdentityRecord(ident, kind, fixed_key(ident).public_b64,
                                           "claude" if kind == "agent" else ""))


def signed_proposal(body: dict[str, Any], identity: str, tenant: str, created_at: int
                    ) -> dict[str, Any]:
    """``body`` (an ActionRequest) completed and signed as ``identity`` would sign it."""
    from ccm.policy.proposal import Proposal

    p = Proposal.from_dict({"action": body["action"], "target": body["target"],
                            "inputs": body.get("inputs", {}), "agent": identity,
                            "model": body.get("model", ""), "tenant": tenant,
                            "created_at": created_at, "nonce": body.get("nonce", ""),
                            "reason": body.get("reason", "")})
    return {**body, **p.signed(fixed_key(identity)).to_dict()}


def command_registry(path: Any) -> Any:
    """The shipped registry, with a real executor: a process that reads the request."""
    import sys
    from importlib import resources

    import yaml

    doc = yaml.safe_load((resources.files("ccm.policy") / "default_actions.yaml").read_text())
    doc["executor"] = {"type": "command",
                       "argv": [sys.executable, "-c", "import sys; sys.stdin.read()"]}
    path.write_text(yaml.safe_dump(doc))
    return path
