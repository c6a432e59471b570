"""The API load benchmark at a tiny size (the full run is `ccm bench load`)."""

from __future__ import annotations

import json

import pytest

from ccm.bench.load import LoadPlan, run_benchmark
from ccm.bench.loadgen import check_loopback
from ccm.errors import ConfigError


def test_a_tiny_run_reports_every_endpoint_and_concurrency(tmp_path):
    plan = LoadPlan(services=200, concurrency=(1, 3), impact_requests=12, rca_requests=3,
                    max_seconds=20)
    report = run_benchmark(plan, tmp_path / "load.sqlite")
    rows = [(r["endpoint"], r["concurrency"]) for r in report["results"]]
    assert rows == [("/v1/impact", 1), ("/v1/impact", 3), ("/v1/rca", 1), ("/v1/rca", 3)]
    for r in report["results"]:
        assert r["errors"] == 0 and r["requests"] >= 3, r
        assert 0 < r["p50_ms"] <= r["p99_ms"] and r["rps"] > 0
    json.dumps(report)


@pytest.mark.parametrize("url", ["http://10.0.0.1:8080", "http://example.com",
                                 "http://0.0.0.0:80"])
def test_the_load_generator_only_targets_loopback(url):
    with pytest.raises(ConfigError, match="loopback"):
        check_loopback(url)


def test_loopback_addresses_are_accepted():
    for url in ("http://127.0.0.1:1", "http://localhost:2", "http://[::1]:3"):
        check_loopback(url)


def test_a_tiny_run_under_writes_reports_writes_freshness_memory_and_store_size(tmp_path):
    plan = LoadPlan(services=200, concurrency=(2,), impact_requests=400, rca_requests=50,
                    max_seconds=4, writes=(("alerts", 4.0), ("deploys", 1.0), ("edges", 1.0)))
    report = run_benchmark(plan, tmp_path / "load.sqlite")
    rows = {r["endpoint"]: r for r in report["results"]}
    assert set(rows) == {"/v1/impact", "/v1/rca", "/v1/alertmanager (alerts)",
                         "/v1/ingest/cdevents (deploys)", "/v1/ingest/jaeger (edges)"}
    assert all(r["errors"] == 0 and r["requests"] >= 1 for r in rows.values()), rows
    fresh = report["freshness"]
    writes = sum(rows[k]["requests"] for k in rows if "(" in k)
    assert fresh["method"] == "revision" and fresh["writes"] == writes
    assert fresh["unseen"] == 0 and fresh["own_next_answer"]["stale"] == 0
    assert fresh["own_next_answer"]["checked"] == rows["/v1/ingest/cdevents (deploys)"][
        "requests"]
    assert report["server"]["peak_rss_bytes"] > 0
    assert report["store"]["bytes_after"] > report["store"]["bytes_before"]
    json.dumps(report)
