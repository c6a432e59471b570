"""Hostile input never crashes or hangs ingest: every format, every kind of bad file.

Each case forces the format (detection would refuse most of these files anyway) and
checks that the file gets a clear error naming it, and that nothing is written.
"""

from __future__ import annotations

import hashlib
import time

import pytest

from ingest import ingest_paths, registry
from tests.helpers import FIXTURES

FORMATS = list(registry())
#: a valid input of each format, to truncate
SAMPLES = {
    "native": FIXTURES.parent.parent / "ccm" / "demo" / "data" / "topology.jsonl",
    "native-changes": FIXTURES.parent.parent / "ccm" / "demo" / "data" / "changes.jsonl",
    "native-alerts": FIXTURES.parent.parent / "ccm" / "demo" / "data" / "alerts.jsonl",
    "k8s": FIXTURES / "k8s" / "shop" / "v1.yaml",
    "backstage": FIXTURES / "backstage" / "catalog-info.yaml",
    "jaeger": FIXTURES / "jaeger" / "dependencies.json",
    "otlp": FIXTURES / "otlp" / "traces-single.json",
    "callgraph-metrics": FIXTURES / "real" / "metrics" / "servicegraph-failed-label.json",
    "cdevents": FIXTURES / "cdevents" / "service_deployed.json",
    "alertmanager": FIXTURES / "alertmanager" / "firing.json",
    "incident": FIXTURES / "incident" / "cart-redis-timeout.yaml",
    "deploys-csv": FIXTURES / "csv" / "deploys.csv",
    "incidents-csv": FIXTURES / "csv" / "incidents.csv",
    "argocd": FIXTURES / "real" / "changes" / "argocd-app.json",
    "github-deployments": FIXTURES / "real" / "changes" / "github-deployment_status-payload.json",
    "pagerduty": FIXTURES / "real" / "incidents" / "pagerduty-triggered_v3.json",
    "opsgenie": FIXTURES / "real" / "incidents" / "opsgenie-create.json",
}


def garbage(n: int) -> bytes:
    """Deterministic binary noise."""
    out, block = bytearray(), b"ccm"
    while len(out) < n:
        block = hashlib.sha256(block).digest()
        out += block
    return bytes(out[:n])


def ingest_bad(store, path, fmt):  # type: ignore[no-untyped-def]
    start = time.monotonic()
    report = ingest_paths(store, [path], fmt=fmt)
    elapsed = time.monotonic() - start
    f = report.files[0]
    assert not report.ok, f"{fmt}: {path.name} was accepted"
    assert all(path.name in e for e in f.errors), f.errors
    return f, elapsed


def test_every_format_has_a_sample():
    assert set(SAMPLES) == set(FORMATS)


def truncated(data: bytes) -> bytes:
    """``data`` cut just after an opening quote past its first third: the way a copy
    that stopped midway breaks every one of these formats."""
    for opener in (b': "', b": '", b',"', b'["', b'":"'):
        i = data.find(opener, len(data) // 3)
        if i >= 0:
            return data[: i + len(opener)]
    raise AssertionError("no quote to cut at")


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_truncated_file_is_an_error_not_a_crash(fmt, tmp_path, embedded):
    path = tmp_path / f"cut{SAMPLES[fmt].suffix}"
    path.write_bytes(truncated(SAMPLES[fmt].read_bytes()))
    f, _ = ingest_bad(embedded, path, fmt)
    assert any(("not JSON" in e or "not YAML" in e or "not a valid CSV" in e
                or "not a native" in e) for e in f.errors), f.errors


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("encoding", ["utf-16", "latin-1"])
def test_text_in_another_encoding_is_named(fmt, encoding, tmp_path, embedded):
    text = SAMPLES[fmt].read_text(encoding="utf-8") + "\n# café\n"
    path = tmp_path / f"enc{SAMPLES[fmt].suffix}"
    path.write_bytes(text.encode(encoding))
    f, _ = ingest_bad(embedded, path, fmt)
    expected = "UTF-16" if encoding == "utf-16" else "UTF-8"
    assert any(expected in e for e in f.errors), f.errors


@pytest.mark.parametrize("fmt", FORMATS)
def test_binary_garbage_is_named_as_such(fmt, tmp_path, embedded):
    path = tmp_path / f"noise{SAMPLES[fmt].suffix}"
    path.write_bytes(garbage(64 * 1024))
    f, _ = ingest_bad(embedded, path, fmt)
    assert f.added == 0 and embedded.stats()["entities"] == 0


@pytest.fixture(scope="module")
def huge_line(tmp_path_factory):  # type: ignore[no-untyped-def]
    """One 100 MB line (then a valid-looking short one)."""
    path = tmp_path_factory.mktemp("huge") / "huge.jsonl"
    with open(path, "wb") as fh:
        chunk = b'{"x": "' + b"y" * (1024 * 1024 - 8)
        for _ in range(100):
            fh.write(chunk)
        fh.write(b'"}\n')
    return path


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_100_mb_line_is_refused_without_holding_it(fmt, huge_line, tmp_path, embedded):
    path = tmp_path / f"huge{SAMPLES[fmt].suffix}"
    path.symlink_to(huge_line)
    f, elapsed = ingest_bad(embedded, path, fmt)
    assert elapsed < 30
    assert any(("longer than" in e or "larger than" in e or "not JSON" in e
                or "not a valid" in e) for e in f.errors), f.errors


@pytest.mark.parametrize("fmt", ["k8s", "backstage", "incident"])
def test_a_yaml_alias_bomb_is_refused_quickly(fmt, tmp_path, embedded):
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(lines) + "\n")
    f, elapsed = ingest_bad(embedded, path, fmt)
    assert elapsed < 10 and any("alias bomb" in e for e in f.errors), f.errors
