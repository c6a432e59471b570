"""Executors: how an approved action actually runs.

- :class:`DryRunExecutor`: runs nothing and says what it would have done;
- :class:`WebhookExecutor`: POSTs the request as JSON to a URL (2xx = done);
- :class:`CommandExecutor`: runs an argv list (never a shell string); the
  request arrives as JSON on stdin and as ``CCM_*`` environment variables
  (exit status 0 = done).

A JSON response (webhook body, command stdout) may carry ``{"healthy": false,
"observed_impacted": [...]}``; health checks (:func:`health_from_config`) read
it to decide the outcome.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from ccm.errors import ConfigError

MAX_RESPONSE = 1 << 20
_ENV_ALLOW = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR")


@dataclass(frozen=True)
class ExecutionRequest:
    """What an executor is asked to do."""

    action_id: str
    action: str
    target: str
    inputs: Mapping[str, Any]
    agent: str
    tenant: str
    attempt: int = 1
    revert_of: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["inputs"] = dict(self.inputs)
        return out


@dataclass(frozen=True)
class ExecutionResult:
    """What happened: ``ok`` when the executor reports success."""

    ok: bool
    detail: str
    dry_run: bool = False
    response: Any = None
    duration_ms: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "detail": self.detail, "dry_run": self.dry_run,
                "response": self.response, "duration_ms": round(self.duration_ms, 3)}


class Executor(Protocol):
    name: str

    def run(self, request: ExecutionRequest) -> ExecutionResult: ...


@dataclass
class DryRunExecutor:
    name: str = "dry-run"

    def run(self, request: ExecutionRequest) -> ExecutionResult:
        return ExecutionResult(True, f"dry run: would run {request.action} on "
                                     f"{request.target}", dry_run=True)


@dataclass
class WebhookExecutor:
    """POST the request as JSON; header values ``env:NAME`` are read from the
    environment at call time (so tokens never sit in the registry file)."""

    url: str
    timeout_s: float = 30.0
    headers: Mapping[str, str] = field(default_factory=dict)
    name: str = "webhook"

    def run(self, request: ExecutionRequest) -> ExecutionResult:
        body = json.dumps(request.to_dict()).encode("utf-8")
        headers = {"Content-Type": "application/json", "User-Agent": "ccm",
                   "Idempotency-Key": f"{request.action_id}:{request.attempt}"}
        for key, value in self.headers.items():
            headers[key] = _env_value(value, f"webhook header {key}")
        req = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        start = time.perf_counter()
        try:
            with urllib.request.urlopen(req, timeout=self.timeout_s) as resp:  # noqa: S310
                status, raw = resp.status, resp.read(MAX_RESPONSE)
        except urllib.error.HTTPError as exc:
            status, raw = exc.code, exc.read(MAX_RESPONSE)
        except (urllib.error.URLError, OSError, TimeoutError) as exc:
            reason = getattr(exc, "reason", exc)
            return ExecutionResult(False, f"POST {self.url} failed: {reason}",
                                   duration_ms=_ms(start))
        ok = 200 <= status < 300
        return ExecutionResult(ok, f"POST {self.url} -> HTTP {status}", response=_json(raw),
                               duration_ms=_ms(start))


@dataclass
class CommandExecutor:
    """Run ``argv`` with the request as JSON on stdin and as environment variables
    (``CCM_ACTION_ID``, ``CCM_ACTION``, ``CCM_TARGET``, ``CCM_AGENT``, ``CCM_TENANT``,
    ``CCM_INPUTS`` as JSON, and ``CCM_INPUT_<NAME>`` per input). No shell is
    involved: inputs are never interpolated into a command line."""

    argv: list[str]
    timeout_s: float = 300.0
    pass_env: list[str] = field(default_factory=list)
    name: str = "command"

    def env_for(self, request: ExecutionRequest) -> dict[str, str]:
        env = {k: os.environ[k] for k in (*_ENV_ALLOW, *self.pass_env) if k in os.environ}
        env.update(CCM_ACTION_ID=request.action_id, CCM_ACTION=request.action,
                   CCM_TARGET=request.target, CCM_AGENT=request.agent,
                   CCM_TENANT=request.tenant, CCM_ATTEMPT=str(request.attempt),
                   CCM_INPUTS=json.dumps(dict(request.inputs), sort_keys=True))
        for key, value in request.inputs.items():
            text = value if isinstance(value, str) else json.dumps(value)
            env[f"CCM_INPUT_{key.upper()}"] = text
        return env

    def run(self, request: ExecutionRequest) -> ExecutionResult:
        """Run the command in a process group of its own (ended on a timeout), which the
        kernel ends when the server's process dies (Linux): no executor outlives it."""
        start = time.perf_counter()
        try:
            proc = subprocess.Popen(  # noqa: S603 - argv list, no shell
                self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, env=self.env_for(request), shell=False,
                start_new_session=True, preexec_fn=_end_with_parent)
        except FileNotFoundError:
            return ExecutionResult(False, f"command not found: {self.argv[0]}",
                                   duration_ms=_ms(start))
        try:
            stdout, stderr = proc.communicate(json.dumps(request.to_dict()).encode("utf-8"),
                                              timeout=self.timeout_s)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            return ExecutionResult(False, f"{self.argv[0]} timed out after "
                                          f"{self.timeout_s:g}s", duration_ms=_ms(start))
        err = stderr[-2000:].decode("utf-8", "replace").strip()
        detail = f"{self.argv[0]} exited with {proc.returncode}" + (f": {err}" if err and
                                                                      proc.returncode else "")
        return ExecutionResult(proc.returncode == 0, detail,
                               response=_json(stdout[:MAX_RESPONSE]),
                               duration_ms=_ms(start))


#: Linux's prctl, looked up once in the parent (a forked child only calls it)
_PRCTL = ctypes.CDLL(None, use_errno=True).prctl if sys.platform.startswith("linux") else None


def _end_with_parent() -> None:
    """In the child, before exec: SIGKILL when the parent dies (Linux prctl
    PR_SET_PDEATHSIG; elsewhere nothing)."""
    if _PRCTL is not None:
        _PRCTL(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG = 1


def _ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000


def _json(raw: bytes) -> Any:
    text = raw.decode("utf-8", "replace").strip()
    if not text:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text[:2000]


def _env_value(value: str, what: str) -> str:
    if isinstance(value, str) and value.startswith("env:"):
        name = value[4:]
        if name not in os.environ:
            raise ConfigError(f"{what} reads ${name}, which is not set")
        return os.environ[name]
    return str(value)


def executor_from_config(cfg: Mapping[str, Any]) -> Executor:
    """An executor from a registry's ``executor`` mapping."""
    kind = cfg.get("type")
    if kind == "dry-run":
        return DryRunExecutor()
    if kind == "webhook":
        return WebhookExecutor(str(cfg["url"]), float(cfg.get("timeout_s", 30)),
                               dict(cfg.get("headers") or {}))
    if kind == "command":
        return CommandExecutor(list(cfg["argv"]), float(cfg.get("timeout_s", 300)),
                               list(cfg.get("pass_env") or []))
    raise ConfigError(f"unknown executor type {kind!r} (dry-run, webhook, command)")


@dataclass(frozen=True)
class Health:
    """A post-execution health observation."""

    healthy: bool
    observed_impacted: tuple[str, ...] = ()
    note: str = ""


def health_from_result(result: ExecutionResult) -> Health:
    """Health as a probe's result says: failed probe or ``"healthy": false`` is unhealthy."""
    resp = result.response if isinstance(result.response, Mapping) else {}
    impacted = tuple(str(r) for r in resp.get("observed_impacted", []) or [])
    healthy = result.ok and resp.get("healthy", True) is not False
    return Health(healthy, impacted, result.detail)


class HealthCheck(Protocol):
    def check(self, request: ExecutionRequest) -> Health: ...


@dataclass
class ProbeHealthCheck:
    """A health check that runs an executor-shaped probe (webhook or command)."""

    probe: Executor

    def check(self, request: ExecutionRequest) -> Health:
        return health_from_result(self.probe.run(request))


def health_from_config(cfg: Mapping[str, Any] | None) -> HealthCheck | None:
    if not cfg:
        return None
    return ProbeHealthCheck(executor_from_config(cfg))
