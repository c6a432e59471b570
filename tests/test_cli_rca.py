"""``ccm rca`` end to end: a subprocess on a store loaded from the demo data."""

from __future__ import annotations

import json
import os
import subprocess
import sys

AT = "2026-03-05T10:00:00Z"
TRUE_CHAIN = ["change:chg-102", "config:cartservice/REDIS_ADDR", "service:cartservice",
              "service:frontend"]


def ccm(store, *args):
    env = {**os.environ, "CCM_STORE": str(store.path), "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "ccm", *args], capture_output=True,
                          text=True, env=env, timeout=600)


def test_rca_ranks_the_planted_config_change_first_as_json(demo_store):
    out = ccm(demo_store, "rca", "--at", AT, "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["chains"][0]["chain"] == TRUE_CHAIN
    assert [s["ref"] for s in data["symptoms"]] == [
        "service:cartservice", "service:frontend", "service:checkoutservice"]
    assert len(data["chains"]) == 5
    assert len({c["root"] for c in data["chains"]}) == 5


def test_rca_prints_a_table_with_rank_score_chain_and_evidence(demo_store):
    out = ccm(demo_store, "rca", "--at", AT, "-k", "3")
    assert out.returncode == 0, out.stderr
    assert "change:chg-102 -> config:cartservice/REDIS_ADDR -> service:cartservice -> " \
           "service:frontend" in out.stdout
    for header in ("#", "score", "chain", "evidence"):
        assert header in out.stdout
    assert "explains 3/3" in out.stdout and "17 hypotheses" in out.stdout


def test_rca_takes_explicit_symptoms_with_signals(demo_store):
    out = ccm(demo_store, "rca", "--at", AT, "--symptom", "service:checkoutservice:latency",
              "--json")
    data = json.loads(out.stdout)
    assert data["symptoms"] == [{"ref": "service:checkoutservice", "signal": "latency",
                                 "time": AT}]
    assert data["chains"][0]["symptom"] == "service:checkoutservice"


def test_rca_before_the_alerts_has_nothing_to_explain(demo_store):
    out = ccm(demo_store, "rca", "--at", "2026-03-04T00:00:00Z")
    assert out.returncode == 0 and "none" in out.stdout


def test_rca_with_a_window_that_excludes_the_change_drops_it(demo_store):
    out = ccm(demo_store, "rca", "--at", AT, "--window", "P1D", "--json", "-k", "20")
    roots = [c["root"] for c in json.loads(out.stdout)["chains"]]
    assert "change:chg-102" not in roots and "change:chg-106" in roots


def test_rca_on_an_unknown_symptom_exits_1_naming_it(demo_store):
    out = ccm(demo_store, "rca", "--at", AT, "--symptom", "service:nope")
    assert out.returncode == 1 and "service:nope" in out.stderr


def test_rca_as_known_before_anything_was_recorded_sees_no_alerts(demo_store):
    out = ccm(demo_store, "rca", "--at", AT, "--known-at", "2000-01-01T00:00:00Z", "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["symptoms"] == []


def test_every_engine_command_documents_itself(demo_store):
    for args in (("rca",), ("predict",), ("bench", "perf")):
        out = ccm(demo_store, *args, "--help")
        assert out.returncode == 0 and "Usage:" in out.stdout and "--json" in out.stdout


def test_rca_says_when_the_top_two_are_a_close_call_and_what_to_check(demo_store):
    out = ccm(demo_store, "rca", "--at", "2026-03-05T09:45:00Z", "-k", "3")
    assert out.returncode == 0, out.stderr
    assert "Close call: change:chg-106" in out.stdout
    assert "check whether service:currencyservice is failing" in out.stdout
    data = json.loads(ccm(demo_store, "rca", "--at", "2026-03-05T09:45:00Z", "--json").stdout)
    assert data["close_call"]["observation"]["node"] == "service:currencyservice"
