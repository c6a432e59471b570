"""Schemathesis fuzzing of every operation in the OpenAPI document: no 5xx, ever.

A small run here (a few examples per operation and mode); the full run is
``python benchmarks/api_fuzz.py`` (over 1,000 requests)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def load_driver():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("api_fuzz", ROOT / "benchmarks" / "api_fuzz.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["api_fuzz"] = module
    spec.loader.exec_module(module)
    return module


def test_generated_requests_to_every_operation_never_get_a_server_error():
    driver = load_driver()
    with driver.demo_server() as (url, token):
        report = driver.fuzz(url, token, examples=8)
    assert report.server_errors == []
    spec_ops = len(report.by_operation)
    assert spec_ops >= 5 and report.requests >= 5 * spec_ops
    assert report.by_status[200] > 0 and report.by_status[422] > 0
