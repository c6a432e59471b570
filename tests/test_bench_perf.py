"""The performance benchmark runs every implementation and reports honest results."""

from __future__ import annotations

import pytest

from ccm.bench import perf


@pytest.fixture(scope="module")
def report():
    return perf.run([300], ("ccm", "scipy", "igraph", "networkx"), budget=3.0, repeats=2)


def rows(report, **match):
    return [r for r in report["results"] if all(r[k] == v for k, v in match.items())]


def test_every_implementation_reports_each_of_its_operations(report):
    got = {(r["op"], r["impl"]) for r in report["results"]}
    assert {("reachability", i) for i in ("ccm", "scipy", "igraph", "networkx")} <= got
    assert {("blast_radius", "ccm"), ("blast_radius", "networkx"), ("monte_carlo", "ccm"),
            ("monte_carlo", "networkx"), ("root_causes", "ccm"),
            ("root_causes", "networkx")} <= got
    for r in report["results"]:
        assert set(r) >= {"op", "impl", "edges", "seconds", "status"}


def test_all_implementations_reach_the_same_nodes(report):
    reached = {r["impl"]: r["reached"] for r in rows(report, op="reachability")}
    assert len(set(reached.values())) == 1
    br = {r["impl"]: r["reached"] for r in rows(report, op="blast_radius")}
    assert br["ccm"] == br["networkx"] <= reached["ccm"]


def test_what_does_not_fit_the_budget_says_so_with_its_bound(report):
    nx_rca = rows(report, op="root_causes", impl="networkx")[0]
    assert nx_rca["status"] in ("ok", "timeout")
    if nx_rca["status"] == "timeout":
        assert nx_rca["seconds"] is None and nx_rca["bound_s"] == 3.0


def test_the_root_cause_workload_finds_its_planted_change(report):
    r = rows(report, op="root_causes", impl="ccm")[0]
    assert r["services"] == 10_000 and r["changes"] == 500 and r["symptoms"] == 10
    assert r["planted_rank"] == 1


def test_targets_and_machine_are_reported(report):
    assert report["targets"]["edges"] == 300
    assert "blast_radius_vs_scipy_bfs" in report["targets"]
    assert report["machine"]["cpus"] >= 1 and report["graphs"]["300"]["edges"] == 300


@pytest.mark.neo4j
def test_neo4j_reachability_agrees_with_ccm(neo4j_uri, monkeypatch):
    monkeypatch.setenv("NEO4J_URI", neo4j_uri)
    out = perf.run([200], ("ccm", "neo4j"), budget=30.0, repeats=1)
    neo = rows(out, op="reachability", impl="neo4j")[0]
    ccm = rows(out, op="reachability", impl="ccm")[0]
    assert neo["status"] == "ok" and neo["reached"] == ccm["reached"]
    assert "VarLengthExpand" in neo["plan"]
