"""``ccm bench perf`` as a subprocess: a table of ratios and the JSON contract."""

from __future__ import annotations

import json
import os
import subprocess
import sys


def test_bench_perf_writes_the_results_json(tmp_path):
    out = tmp_path / "perf.json"
    proc = subprocess.run(
        [sys.executable, "-m", "ccm", "bench", "perf", "--edges", "200", "--impls",
         "ccm,scipy,igraph", "--repeats", "2", "--json", str(out)],
        capture_output=True, text=True, timeout=600, env={**os.environ, "COLUMNS": "160"})
    assert proc.returncode == 0, proc.stderr
    data = json.loads(out.read_text())
    ops = {(r["op"], r["impl"], r["edges"]) for r in data["results"]}
    assert ("reachability", "scipy", 200) in ops and ("blast_radius", "ccm", 200) in ops
    assert all(isinstance(r["seconds"], float) for r in data["results"])
    assert "Performance" in proc.stdout and "x" in proc.stdout


def test_bench_perf_refuses_an_unknown_implementation():
    proc = subprocess.run([sys.executable, "-m", "ccm", "bench", "perf", "--impls", "oracle"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "oracle" in proc.stderr


def test_bench_generate_outside_the_checkout_finds_the_checkouts_topologies(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "ccm", "bench", "generate", "--out",
                           str(tmp_path / "cases"), "--cases", "2"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "wrote 2 cases" in proc.stdout
    assert len([p for p in (tmp_path / "cases").iterdir() if p.is_dir()]) == 2
