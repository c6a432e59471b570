"""Memory: outcomes and incidents written back as facts, read back per tenant."""

from __future__ import annotations

import pytest

from ccm.actions.records import load
from ccm.errors import ConfigError
from ccm.memory import EdgeEvidence, Memory
from ccm.policy.config import MemoryConfig
from graph_schema import EdgeFact, NodeFact
from tests.controlkit import D0, HOUR, config_change, controller, recorder, setup_store, topology

DAY = 24 * HOUR


def ingested_change(name: str, t: int, outcome: str | None = None, target="service:cart"):
    attrs = {"change_kind": "deploy", "target": target, "time": t}
    if outcome:
        attrs["outcome"] = outcome
    return [NodeFact("change", name, attrs, t),
            EdgeFact("CHANGED", f"change:{name}", target, {}, t)]


def run_bad_change(store, clock, tenant="default", impacted=("service:frontend",)):
    ctl = controller(store, clock, executor=recorder("runs.jsonl"))
    rec = ctl.propose(config_change(clock, tenant=tenant, nonce=f"{tenant}-{clock()}"))
    ctl.approve(rec.id, "alice")
    ctl.execute(rec.id)
    return ctl.record_outcome(rec.id, False, observed_impacted=list(impacted))


@pytest.fixture
def world(store, clock, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    setup_store(store, clock)
    return store


def test_an_outcome_is_written_back_as_facts_once(world, clock):
    rec = run_bad_change(world, clock)
    g = world.graph()
    act = g.nodes[f"action:{rec.id}"]
    assert act.attrs["tenant"] == "default" and act.attrs["outcome"] == "unhealthy"
    assert act.attrs["observed_impacted"] == ["service:frontend"]
    assert act.attrs["params"]["key"] == "REDIS_TIMEOUT_MS"
    assert f"action:{rec.id}|TARGETS|service:cart" in g.edges
    change = g.nodes[f"change:{rec.id}"]
    assert change.attrs["change_kind"] == "config_change" and change.attrs["author"] == \
        "deploy-bot"
    again = Memory(world, "default", clock=clock).record_action(load(world, rec.id).doc,
                                                                act.attrs["params"])
    assert again.added == 0


def test_an_unhealthy_outcome_teaches_the_priors_and_the_edges(world, clock):
    mem = Memory(world, "default", clock=clock)
    assert mem.priors().lookup("config_change", "service:cart") is None
    run_bad_change(world, clock)
    clock.advance()
    pri = mem.priors()
    assert pri.lookup("config_change", "service:cart").alpha == 1
    assert pri.edges[("service:frontend", "service:cart")].reached == 1
    edge = world.graph().edges["service:frontend|DEPENDS_ON|service:cart"]
    assert 0 < edge.attrs["propagation"] < 1 and edge.attrs["hard"] is True


def test_memory_is_scoped_to_its_tenant(world, clock):
    run_bad_change(world, clock, tenant="shop")
    world.write(ingested_change("chg-1", D0 + HOUR // 2, "unhealthy"))
    clock.advance()
    shop, other = Memory(world, "shop", clock=clock), Memory(world, "other", clock=clock)
    assert shop.priors().lookup("config_change", "service:cart") is not None
    assert other.priors().lookup("config_change", "service:cart") is None
    assert other.priors().lookup("deploy", "service:cart").alpha == 1  # ingested: shared
    assert len(shop.actions()) == 2 and other.actions() == []  # the action and its revert


def test_a_resolved_incident_marks_its_root_and_is_recalled_later(world, clock):
    world.write(ingested_change("chg-1", D0 + 2 * HOUR))
    mem = Memory(world, "default", clock=clock)
    chain = ["change:chg-1", "service:cart", "service:frontend"]
    mem.record_incident("inc-1", chain, title="cart errors", started_at=D0 + 3 * HOUR,
                        resolved_at=D0 + 4 * HOUR)
    g = world.graph(D0 + 5 * HOUR)
    assert g.nodes["change:chg-1"].attrs["outcome"] == "unhealthy"
    assert "change:chg-1|CAUSED|service:cart" in g.edges
    assert "incident:inc-1|INVOLVES|service:frontend" in g.edges
    world.write(ingested_change("chg-2", D0 + DAY))
    clock.now = D0 + DAY + HOUR
    found = mem.seen_before(["change:chg-2", "service:cart", "service:frontend"])
    assert [m.ref for m in found] == ["incident:inc-1"]
    assert found[0].describe() == ("seen before: incident:inc-1 on 2026-03-01 (same root: "
                                   "deploy on service:cart; chain overlap 2/2)")
    assert mem.priors(D0 + DAY + HOUR).lookup("deploy", "service:cart").alpha == 1


def test_another_tenant_does_not_recall_an_incident(world, clock):
    world.write(ingested_change("chg-1", D0 + 2 * HOUR))
    Memory(world, "a", clock=clock).record_incident(
        "inc-1", ["change:chg-1", "service:cart"], title="t", started_at=D0 + 3 * HOUR,
        resolved_at=D0 + 4 * HOUR)
    world.write(ingested_change("chg-2", D0 + DAY))
    clock.now = D0 + DAY + HOUR
    assert Memory(world, "b", clock=clock).seen_before(["change:chg-2", "service:cart"]) == []
    assert len(Memory(world, "a", clock=clock).seen_before(["change:chg-2", "service:cart"])) \
        == 1


def test_a_different_root_is_not_seen_before(world, clock):
    world.write(ingested_change("chg-1", D0 + 2 * HOUR))
    mem = Memory(world, "default", clock=clock)
    mem.record_incident("inc-1", ["change:chg-1", "service:cart"], title="t",
                        started_at=D0 + 3 * HOUR, resolved_at=D0 + 4 * HOUR)
    world.write(ingested_change("chg-2", D0 + DAY, target="service:catalog"))
    clock.now = D0 + DAY + HOUR
    assert mem.seen_before(["change:chg-2", "service:catalog"]) == []


def test_retention_ignores_and_expires_old_memory(world, clock):
    short = MemoryConfig(retention="2d")
    rec = run_bad_change(world, clock)
    clock.now += 3 * DAY
    mem = Memory(world, "default", short, clock=clock)
    assert mem.priors().lookup("config_change", "service:cart") is None
    assert mem.expire() == 2  # the action and its revert
    assert f"action:{rec.id}" not in world.graph().nodes
    assert f"action:{rec.id}" in world.graph(clock.now - 2 * DAY).nodes  # history kept


def test_a_tenant_without_memory_cannot_write(world, clock):
    mem = Memory(world, "guest", MemoryConfig(tenants=["shop"]), clock=clock)
    assert not mem.enabled
    with pytest.raises(ConfigError, match="not enabled for tenant 'guest'"):
        mem.record_incident("i", ["service:cart"], title="t", started_at=1, resolved_at=2)
    with pytest.raises(ConfigError, match="tenant must be"):
        Memory(world, "a:b")


def test_topology_is_untouched_by_memory_reads(world, clock):
    Memory(world, "default", clock=clock).priors()
    assert {n.ref for n in world.graph().nodes_of("service")} == {
        f.ref for f in topology() if isinstance(f, NodeFact) and f.kind == "service"}


def test_an_incident_and_an_outcome_of_the_same_failure_count_once(world, clock):
    rec = run_bad_change(world, clock)
    mem = Memory(world, "default", clock=clock)
    mem.record_incident("inc-9", [f"change:{rec.id}", "service:cart", "service:frontend"],
                        title="t", started_at=clock(), resolved_at=clock() + HOUR)
    clock.advance(2 * HOUR)
    pri = mem.priors()
    assert pri.lookup("config_change", "service:cart").alpha == 1
    assert pri.edges[("service:frontend", "service:cart")].observed == 1


def test_an_ingested_incident_teaches_the_edges_of_its_chain(world, clock):
    world.write(ingested_change("chg-1", D0 + HOUR // 2))
    mem = Memory(world, "default", clock=clock)
    mem.record_incident("inc-1", ["change:chg-1", "service:cart", "service:frontend"],
                        title="t", started_at=D0 + HOUR, resolved_at=D0 + 2 * HOUR)
    clock.now = D0 + 3 * HOUR
    assert mem.priors().edges[("service:frontend", "service:cart")] == EdgeEvidence(1, 1)


def redis_incident(world, clock, deploy_hours_before: float):
    """A deploy on cache:redis, then redis, cart and frontend alert a minute apart: the
    ranked roots at the question time."""
    from ccm.engine import Symptom, root_causes

    onset = clock() + 2 * DAY
    name = f"deploy-{deploy_hours_before}"
    world.write(ingested_change(name, onset - int(deploy_hours_before * HOUR),
                                target="cache:redis"))
    symptoms = [Symptom(ref, "errors", onset + i * 60_000_000)
                for i, ref in enumerate(("cache:redis", "service:cart", "service:frontend"))]
    at = onset + 10 * 60_000_000
    snap = world.snapshot(valid_at=at)
    mem = Memory(world, "default", clock=clock)

    def roots(priors=None):
        return [c.root for c in root_causes(snap, symptoms, priors=priors)][:2]

    return name, roots, lambda: mem.priors(at)


def resolve(world, clock, n: int, chain_of) -> None:
    mem = Memory(world, "default", clock=clock)
    for i in range(n):
        t = clock() + i * HOUR
        mem.record_incident(f"past-{i}", chain_of(i, t), title="past", started_at=t,
                            resolved_at=t + HOUR // 2)


def test_a_store_whose_incidents_were_infrastructure_faults_stops_blaming_a_nearby_deploy(
        world, clock):
    resolve(world, clock, 20, lambda i, t: ["cache:redis", "service:cart"])
    name, roots, learned = redis_incident(world, clock, 3)
    assert roots() == [f"change:{name}", "cache:redis"]
    assert learned().balance("cache").alpha == 20
    assert roots(learned()) == ["cache:redis", f"change:{name}"]


def test_a_store_whose_incidents_were_changes_blames_an_older_deploy_again(world, clock):
    def change_caused(i: int, t: int) -> list[str]:
        world.write(ingested_change(f"old-{i}", t - HOUR, target="cache:redis"))
        return [f"change:old-{i}", "cache:redis", "service:cart"]

    resolve(world, clock, 20, change_caused)
    name, roots, learned = redis_incident(world, clock, 30)
    assert roots() == ["cache:redis", f"change:{name}"]
    assert learned().balance("cache").beta == 20
    assert roots(learned())[0] == f"change:{name}"
