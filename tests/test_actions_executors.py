"""Executors: a real local HTTP server for the webhook, real processes for commands."""

from __future__ import annotations

import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ccm.actions.executors import (
    CommandExecutor,
    DryRunExecutor,
    ExecutionRequest,
    ExecutionResult,
    WebhookExecutor,
    executor_from_config,
    health_from_result,
)
from ccm.errors import ConfigError

REQUEST = ExecutionRequest("act-1", "config_change", "service:cart",
                           {"key": "TIMEOUT_MS", "value": "$(touch pwned); `id`",
                            "previous_value": "500"}, "deploy-bot", "shop", 2)


class Hook:
    """A real HTTP server on loopback that records what it receives."""

    def __init__(self, status: int = 200, body: dict | None = None) -> None:
        self.received: list[tuple[dict, dict]] = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                hook.received.append((json.loads(raw), dict(self.headers)))
                payload = json.dumps(body or {"applied": True}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/ccm"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Hook:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_the_webhook_posts_the_request_as_json(monkeypatch):
    monkeypatch.setenv("HOOK_TOKEN", "tok-123")
    with Hook() as hook:
        result = WebhookExecutor(hook.url, headers={"Authorization": "env:HOOK_TOKEN"}).run(
            REQUEST)
    assert result.ok and "HTTP 200" in result.detail
    assert result.response == {"applied": True}
    body, headers = hook.received[0]
    assert body["action_id"] == "act-1" and body["inputs"]["value"] == "$(touch pwned); `id`"
    assert headers["Authorization"] == "tok-123"
    assert headers["Idempotency-Key"] == "act-1:2"


def test_a_webhook_error_status_is_a_failed_execution():
    with Hook(status=500, body={"error": "boom"}) as hook:
        result = WebhookExecutor(hook.url).run(REQUEST)
    assert not result.ok and "HTTP 500" in result.detail and result.response == {
        "error": "boom"}


def test_an_unreachable_webhook_is_a_failed_execution():
    with Hook() as hook:
        url = hook.url
    result = WebhookExecutor(url, timeout_s=2).run(REQUEST)
    assert not result.ok and "failed" in result.detail


def test_a_missing_header_secret_is_a_config_error():
    with pytest.raises(ConfigError, match=r"\$NOT_SET_ANYWHERE"):
        WebhookExecutor("http://127.0.0.1:9/", headers={"X": "env:NOT_SET_ANYWHERE"}).run(
            REQUEST)


SCRIPT = """
import json, os, sys
req = json.load(sys.stdin)
print(json.dumps({"stdin": req, "env_value": os.environ["CCM_INPUT_VALUE"],
                  "inputs": json.loads(os.environ["CCM_INPUTS"]),
                  "target": os.environ["CCM_TARGET"], "cwd_files": sorted(os.listdir("."))}))
"""


def test_the_command_gets_inputs_on_stdin_and_in_env_never_through_a_shell(tmp_path,
                                                                           monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CommandExecutor([sys.executable, "-c", SCRIPT]).run(REQUEST)
    assert result.ok, result.detail
    out = result.response
    assert out["stdin"]["inputs"]["value"] == "$(touch pwned); `id`"
    assert out["env_value"] == "$(touch pwned); `id`"
    assert out["inputs"]["previous_value"] == "500" and out["target"] == "service:cart"
    assert not (tmp_path / "pwned").exists() and out["cwd_files"] == []


def test_the_command_environment_does_not_leak_the_audit_key(monkeypatch):
    monkeypatch.setenv("CCM_AUDIT_KEY", "secret-material")
    env = CommandExecutor(["true"]).env_for(REQUEST)
    assert "CCM_AUDIT_KEY" not in env and env["CCM_ACTION_ID"] == "act-1"


@pytest.mark.parametrize("argv, ok, detail", [
    ([sys.executable, "-c", "import sys; sys.stderr.write('nope'); sys.exit(3)"], False,
     "exited with 3: nope"),
    (["/definitely/not/here"], False, "command not found"),
    ([sys.executable, "-c", "pass"], True, "exited with 0"),
])
def test_the_command_exit_status_decides(argv, ok, detail):
    result = CommandExecutor(argv).run(REQUEST)
    assert result.ok is ok and detail in result.detail


def test_a_command_that_hangs_is_stopped():
    result = CommandExecutor([sys.executable, "-c", "import time; time.sleep(30)"],
                             timeout_s=0.5).run(REQUEST)
    assert not result.ok and "timed out" in result.detail


def test_dry_run_runs_nothing_and_says_what_it_would_do():
    result = DryRunExecutor().run(REQUEST)
    assert result.ok and result.dry_run and "would run config_change on service:cart" in \
        result.detail


def test_executors_are_built_from_registry_config():
    assert isinstance(executor_from_config({"type": "dry-run"}), DryRunExecutor)
    assert executor_from_config({"type": "command", "argv": ["x"]}).argv == ["x"]
    with pytest.raises(ConfigError):
        executor_from_config({"type": "carrier-pigeon"})


@pytest.mark.parametrize("result, healthy, impacted", [
    (ExecutionResult(True, "ok", response={"healthy": True}), True, ()),
    (ExecutionResult(True, "ok", response=None), True, ()),
    (ExecutionResult(True, "ok", response={"healthy": False,
                                           "observed_impacted": ["service:frontend"]}),
     False, ("service:frontend",)),
    (ExecutionResult(False, "probe down"), False, ()),
])
def test_health_is_read_from_a_probe_result(result, healthy, impacted):
    h = health_from_result(result)
    assert h.healthy is healthy and h.observed_impacted == impacted
