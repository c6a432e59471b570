"""Predictions remembered per question and graph (ccm.ops.predictions)."""

from __future__ import annotations

from ccm.actions.impact import engine_predictor
from ccm.engine import NO_PRIORS
from ccm.ops.predictions import MemoPredictor
from ccm.ops.snapshots import RecentSnapshots, SnapshotReuse
from ccm.policy.proposal import Proposal
from ccm.policy.registry import load_registry
from graph_schema import EdgeFact, NodeFact

SECOND = 1_000_000


def setup(store, clock):
    t = clock() - 10 * SECOND
    store.write([NodeFact("service", "front", {"entrypoint": True, "rps": 10.0}, t),
                 NodeFact("service", "cart", {}, t), NodeFact("service", "db", {}, t),
                 EdgeFact("DEPENDS_ON", "service:front", "service:cart", {}, t),
                 EdgeFact("DEPENDS_ON", "service:cart", "service:db", {}, t)])
    return SnapshotReuse(store, RecentSnapshots(60 * SECOND))


def restart(target: str) -> Proposal:
    return Proposal("restart", target, {}, "bot")


def test_the_same_question_on_the_same_graph_is_answered_once(embedded, clock):
    view = setup(embedded, clock)
    spec = load_registry().get("restart")
    memo = MemoPredictor(engine_predictor)
    first = memo(view, restart("service:cart"), spec, NO_PRIORS, clock())
    again = memo(view, restart("service:cart"), spec, NO_PRIORS, clock() + SECOND)
    assert again is first and memo.hits == 1
    fresh = engine_predictor(view, restart("service:cart"), spec, NO_PRIORS, clock())
    assert fresh.nodes == first.nodes and fresh.p_fail == first.p_fail


def test_another_target_or_a_changed_graph_is_computed_afresh(embedded, clock):
    view = setup(embedded, clock)
    spec = load_registry().get("restart")
    memo = MemoPredictor(engine_predictor)
    first = memo(view, restart("service:cart"), spec, NO_PRIORS, clock())
    other = memo(view, restart("service:db"), spec, NO_PRIORS, clock())
    assert other is not first and "service:db" in other.nodes
    embedded.write([NodeFact("service", "cart", {"tier": "high"}, clock() - SECOND)])
    assert memo(view, restart("service:cart"), spec, NO_PRIORS, clock()) is not first
    assert memo.hits == 0
