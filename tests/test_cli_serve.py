"""``ccm serve``: a real server process, secure by default."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import httpx
import pytest

from ccm.cli.serve import service_settings
from tests.api_support import ccm_serve, free_port


def env(tmp_path, **extra: str) -> dict[str, str]:
    e = {k: v for k, v in os.environ.items() if not k.startswith("CCM_")}
    return {**e, "COLUMNS": "300", "XDG_CONFIG_HOME": str(tmp_path / "config"),
            "CCM_STORE": str(tmp_path / "s.sqlite"), **extra}


def run(args: list[str], e: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ccm", *args], capture_output=True, text=True,
                          env=e, timeout=120)


def test_serve_refuses_to_start_without_tokens(tmp_path):
    proc = run(["serve", "--port", str(free_port())], env(tmp_path))
    assert proc.returncode == 1
    assert "no API tokens are configured" in proc.stderr and "--insecure-dev" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_insecure_dev_refuses_a_non_loopback_address(tmp_path):
    proc = run(["serve", "--insecure-dev", "--host", "0.0.0.0"], env(tmp_path))
    assert proc.returncode == 1 and "only binds to loopback" in proc.stderr


@pytest.mark.parametrize("workers", [1, 2])
def test_serve_runs_with_a_token_from_ccm_token_create(tmp_path, workers):
    e = env(tmp_path)
    token = run(["token", "create", "--role", "sre", "--identity", "alice"], e).stdout.strip()
    with ccm_serve(["--workers", str(workers)], e, timeout=60) as server:
        url = server.url
        assert httpx.get(f"{url}/v1/graph").status_code == 401
        for _ in range(4):  # with two workers, both answer
            ok = httpx.get(f"{url}/v1/graph", headers={"Authorization": f"Bearer {token}"})
            assert ok.status_code == 200 and ok.json()["nodes"] == []
        assert (tmp_path / "s.sqlite").exists()
    assert token not in server.stderr


def test_serve_reads_alerts_with_ccm_alert_signals_and_ccm_alert_targets(tmp_path):
    from tests.test_api_ingest import FIRING, HEADERS

    signals, targets = tmp_path / "signals.yaml", tmp_path / "targets.yaml"
    signals.write_text("HighRequestErrorRate: latency\n")
    targets.write_text("order:\n  - {label: namespace, as: explicit}\n")
    e = env(tmp_path, CCM_ALERT_SIGNALS=str(signals), CCM_ALERT_TARGETS=str(targets))
    with ccm_serve(["--insecure-dev"], e, timeout=60) as server:
        hook = httpx.post(f"{server.url}/v1/alertmanager", content=json.dumps(FIRING),
                          headers=HEADERS)
        listed = httpx.post(f"{server.url}/v1/ingest/alertmanager", content=json.dumps(
            [{**FIRING["alerts"][0], "fingerprint": "0000000000000001"}]))
        graph = httpx.get(f"{server.url}/v1/graph", params={"at": "2026-03-05T10:00:00Z"}).json()
    assert hook.status_code == 200 and listed.status_code == 200, (hook.text, listed.text)
    # only the alert with a namespace label names a node (the targets file's one rule); the
    # frontend one has no label it reads and is skipped
    assert hook.json()["skipped"] == {"alert without target": 1}, hook.json()
    nodes = graph["nodes"] if isinstance(graph["nodes"], list) else [
        {"ref": r, **n} for r, n in graph["nodes"].items()]
    alerts = {n["ref"]: n["attrs"]["signal"] for n in nodes if n["ref"].startswith("alert:")}
    assert set(alerts.values()) == {"latency"} and len(alerts) == 2, alerts
    assert {(e["from"] in alerts, e["to"]) for e in graph["edges"]
            if e["kind"] == "SYMPTOM_OF"} == {(True, "service:boutique")}


def test_serve_with_a_bad_alert_targets_file_stops_at_start_naming_it(tmp_path):
    targets = tmp_path / "targets.yaml"
    targets.write_text("order: nope\n")
    proc = run(["serve", "--insecure-dev", "--port", str(free_port())],
               env(tmp_path, CCM_ALERT_TARGETS=str(targets)))
    assert proc.returncode != 0 and "targets.yaml" in proc.stderr, proc.stderr
def test_the_server_tunes_its_collector_unless_told_not_to(monkeypatch):
    monkeypatch.delenv("CCM_GC_TUNING", raising=False)
    assert service_settings(None, False, gc_tuning=True).gc_tuning is True
    assert service_settings(None, False, gc_tuning=False).gc_tuning is False
    assert service_settings(None, False).gc_tuning is False  # the library's default
