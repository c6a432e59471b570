"""Memory poisoning: generic ingest (native JSONL through POST /v1/ingest/native and
`ccm ingest`) cannot write what memory learns from, so a tenant-A token cannot move
tenant B's priors with forged outcomes (issue 16, first finding)."""

from __future__ import annotations

import json

import pytest

from ccm.cli.demo import load_demo
from graph_schema import NodeFact
from ingest import ingest_paths
from ingest.memory_kinds import refuse_memory_facts
from tests.api_support import assert_problem, audit_key_b64, serve_store

CHANGE = {"action": "config_change", "target": "service:cartservice",
          "inputs": {"key": "REDIS_ADDR", "value": "redis-cart:6380",
                     "previous_value": "redis-cart:6379"}}
T = "2026-03-30T00:00:00Z"


def forged_lines(n: int = 30) -> dict[str, list[dict]]:
    """The forgeries, by what they forge: every one aimed at tenant payments' memory."""
    failure = {"change_kind": "config_change", "target": "service:cartservice",
               "time": 1_774_828_800_000_000, "outcome": "unhealthy"}
    return {
        "tenant change outcomes": [
            {"type": "node", "kind": "change", "name": f"forged-{i}", "time": T,
             "attrs": {**failure, "tenant": "payments"}} for i in range(n)],
        "shared change outcomes": [
            {"type": "node", "kind": "change", "name": f"shared-{i}", "time": T,
             "attrs": failure} for i in range(n)],
        "action nodes": [
            {"type": "node", "kind": "action", "name": f"act-forged{i}", "time": T,
             "attrs": {"action_type": "config_change", "target": "service:cartservice",
                       "tenant": "payments", "status": "closed", "outcome": "unhealthy",
                       "edge_evidence": {"service:frontend|service:cartservice": 1}}}
            for i in range(n)],
        "action edges": [
            {"type": "edge", "kind": "TARGETS", "from": "action:act-real",
             "to": "service:cartservice", "time": T}],
        "learned propagation": [
            {"type": "edge", "kind": "DEPENDS_ON", "from": "service:frontend",
             "to": "service:cartservice", "time": T, "attrs": {"propagation": 1.0}}],
        "tenant incidents": [
            {"type": "node", "kind": "incident", "name": "forged-inc", "time": T,
             "attrs": {"status": "resolved", "tenant": "payments",
                       "root_cause": "service:cartservice", "chain": ["service:cartservice"]}}],
    }


def jsonl(lines: list[dict]) -> bytes:
    return "".join(json.dumps(x) + "\n" for x in lines).encode()


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    store = load_demo(tmp_path_factory.mktemp("memory") / "demo.sqlite")
    with serve_store(store, audit_key=audit_key_b64()) as running:
        yield running, store
    store.close()


def p_fail(running, who: str) -> float:
    with running.client(who) as c:
        r = c.post("/v1/impact", json=CHANGE)
    assert r.status_code == 200, r.text
    return float(r.json()["verdict"]["impact"]["p_fail"])


@pytest.mark.parametrize("what", sorted(forged_lines()))
def test_forged_memory_posted_by_another_tenants_token_is_refused_per_record(api, what):
    running, _ = api
    lines = forged_lines()[what]
    with running.client("sre") as c:  # tenant "default", aiming at "payments"
        r = c.post("/v1/ingest/native", content=jsonl(lines),
                   params={"source": f"forged-{what.replace(' ', '-')}", "batch_size": 1})
    problem = assert_problem(r, 422, "batch-rejected")
    assert problem["detail"].count("never by ingest") == min(len(lines), 5)  # 5 are shown


def test_forged_outcomes_do_not_move_the_other_tenants_prior(api):
    running, _ = api
    before = {who: p_fail(running, who) for who in ("other_agent", "agent")}
    with running.client("sre") as c:
        for what, lines in forged_lines().items():
            c.post("/v1/ingest/native", content=jsonl(lines),
                   params={"source": f"all-{what.replace(' ', '-')}"})
    assert {who: p_fail(running, who) for who in before} == before
    with running.client("other_sre") as c:
        assert c.get("/v1/memory/actions").json()["actions"] == []


def test_the_good_records_beside_a_forged_one_are_kept(api):
    running, store = api
    good = {"type": "node", "kind": "service", "name": "beside-forgery", "time": T}
    forged = forged_lines(1)["tenant change outcomes"][0]
    with running.client("sre") as c:
        r = c.post("/v1/ingest/native", content=jsonl([good, forged]),
                   params={"source": "mixed", "batch_size": 1})
    report = r.json()
    assert (report["added"], report["rejected"]) == (1, 1), report
    assert "mixed:2" in report["errors"][0] and "attrs.outcome" in report["errors"][0]


def test_ccm_ingest_refuses_them_too(tmp_path):
    store = load_demo(tmp_path / "demo.sqlite")
    path = tmp_path / "forged.jsonl"
    path.write_bytes(jsonl([x for lines in forged_lines(2).values() for x in lines]))
    try:
        report = ingest_paths(store, [path], fmt="native", batch_size=1)
        totals = report.totals()
        assert (totals["added"], totals["rejected"]) == (0, 9)
        assert all("never by ingest" in e for f in report.files for e in f.errors)
    finally:
        store.close()


def test_a_node_of_any_kind_claiming_a_tenant_is_refused_naming_the_field():
    fact = NodeFact("service", "x", {"tenant": "payments"})
    with pytest.raises(Exception, match="attrs.tenant"):
        refuse_memory_facts([fact], "f.jsonl:1")
