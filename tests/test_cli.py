"""The `ccm` command, run as a user runs it (a subprocess)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def ccm(*args: str, env: dict[str, str] | None = None, check: bool = True,
        input: str | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "COLUMNS": "160", **(env or {})}
    proc = subprocess.run([sys.executable, "-m", "ccm", *args], capture_output=True, text=True,
                          env=full_env, timeout=300, input=input)
    if check and proc.returncode != 0:
        raise AssertionError(f"ccm {' '.join(args)} exited {proc.returncode}:\n"
                             f"{proc.stdout}\n{proc.stderr}")
    return proc


def all_commands() -> list[list[str]]:
    from ccm.cli import cli

    out: list[list[str]] = []

    def walk(group, prefix):  # type: ignore[no-untyped-def]
        for name, cmd in sorted(group.commands.items()):
            out.append([*prefix, name])
            if hasattr(cmd, "commands"):
                walk(cmd, [*prefix, name])

    walk(cli, [])
    return out


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "demo.sqlite"
    ccm("demo", "--store", str(path))
    return path


def test_top_level_help_lists_the_commands():
    out = ccm("--help").stdout
    for name, *_ in all_commands():
        assert name in out


@pytest.mark.parametrize("command", all_commands(), ids=lambda c: " ".join(c))
def test_every_command_has_help(command):
    out = ccm(*command, "--help").stdout
    assert "Usage:" in out and len(out.splitlines()) > 3


def test_every_command_is_documented_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    for command in all_commands():
        assert f"ccm {' '.join(command)}" in readme, f"README does not mention ccm {command}"


def test_demo_shows_two_graphs_a_diff_and_what_to_try_next(tmp_path):
    out = ccm("demo", "--store", str(tmp_path / "d.sqlite")).stdout
    assert "Graph at 2026-03-01T00:00:00Z" in out
    assert "Graph at 2026-03-05T12:00:00Z" in out
    assert "config:cartservice/REDIS_ADDR" in out
    assert "Try next" in out


def test_demo_runs_on_the_default_embedded_store_with_nothing_configured(tmp_path):
    env = {"XDG_DATA_HOME": str(tmp_path), "CCM_STORE": ""}
    ccm("demo", env=env)
    assert (tmp_path / "ccm" / "demo.sqlite").exists()


def test_graph_at_a_time_as_json(demo_store):
    data = json.loads(ccm("graph", "--at", "2026-03-01T00:00:00Z", "--json",
                          "--store", str(demo_store)).stdout)
    deps = {(e["from"], e["to"]) for e in data["edges"] if e["kind"] == "DEPENDS_ON"}
    assert ("service:frontend", "service:cartservice") in deps
    assert ("service:cartservice", "cache:redis-cart") in deps
    assert not any(n["kind"] == "change" for n in data["nodes"])


def test_history_shows_each_version_of_a_config_key(demo_store):
    data = json.loads(ccm("history", "config:cartservice/REDIS_ADDR", "--json",
                          "--store", str(demo_store)).stdout)
    assert [v["attrs"]["value"] for v in data["node"]] == [
        "redis-cart:6379", "redis-cart:6379,syncTimeout=50"]
    assert data["node"][0]["valid_to"] == "2026-03-02T09:10:00Z"


def test_diff_between_two_times(demo_store):
    data = json.loads(ccm("diff", "2026-03-02T00:00:00Z", "2026-03-03T00:00:00Z", "--json",
                          "--store", str(demo_store)).stdout)
    added = {v.get("ref") or (v["from"], v["kind"], v["to"]) for v in data["added"]}
    assert "change:chg-102" in added and "change:chg-103" in added
    assert [c["after"]["ref"] for c in data["changed"]] == ["config:cartservice/REDIS_ADDR"]


def test_the_store_comes_from_ccm_store(demo_store):
    out = ccm("history", "service:cartservice", env={"CCM_STORE": str(demo_store)}).stdout
    assert "History of service:cartservice" in out


def test_an_unknown_node_is_a_clear_error(demo_store):
    proc = ccm("history", "service:nope", "--store", str(demo_store), check=False)
    assert proc.returncode == 1
    assert "no node 'service:nope'" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_bad_time_is_a_usage_error(demo_store):
    proc = ccm("graph", "--at", "yesterday-ish", "--store", str(demo_store), check=False)
    assert proc.returncode == 2
    assert "not an ISO 8601 time" in proc.stderr


def test_ingest_of_a_bad_record_names_file_line_field_and_value(tmp_path):
    f = tmp_path / "topo.jsonl"
    f.write_text('{"type": "node", "kind": "service", "name": "a"}\n'
                 '{"type": "node", "kind": "service", "name": "b", "attrs": {"rps": "lots"}}\n')
    proc = ccm("ingest", str(f), "--batch-size", "1", "--store", str(tmp_path / "s.sqlite"),
               check=False)
    assert proc.returncode == 1
    assert f"{f}:2" in proc.stderr and "attrs.rps" in proc.stderr and "lots" in proc.stderr
    data = json.loads(ccm("graph", "--json", "--store", str(tmp_path / "s.sqlite")).stdout)
    assert [n["ref"] for n in data["nodes"]] == ["service:a"]


@pytest.mark.neo4j
def test_the_cli_works_on_neo4j(neo4j_uri):
    from ccm.cli.demo import demo_data_dir
    from tests.conftest import wipe_neo4j

    wipe_neo4j(neo4j_uri)
    files = [str(p) for p in sorted(demo_data_dir().glob("*.jsonl"))]
    ccm("ingest", *files, "--store", neo4j_uri)
    data = json.loads(ccm("history", "config:cartservice/REDIS_ADDR", "--json",
                          env={"CCM_STORE": neo4j_uri}).stdout)
    assert [v["attrs"]["value"] for v in data["node"]] == [
        "redis-cart:6379", "redis-cart:6379,syncTimeout=50"]
