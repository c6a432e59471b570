"""Method ``ccm``: the causal engine through the harness."""

from __future__ import annotations

from ccm.bench.cases import load_case
from ccm.bench.methods import all_methods, engine, pick
from ccm.bench.question import ask
from ccm.bench.replay import replayed
from tests.benchcases import write_case


def test_ccm_is_listed_first_and_can_be_picked():
    assert next(iter(all_methods())) == "ccm"
    assert list(pick("ccm")) == ["ccm"]


def test_the_engine_answers_with_distinct_roots_and_chains_that_start_at_them(tmp_path):
    case = load_case(write_case(tmp_path))
    method = engine.CausalEngine(threads=1)
    method.prepare()
    with replayed(case) as store:
        q = ask(store, case.id, case.question_time, case.window)
        ranked = method.rank(q, 3)
    assert 0 < len(ranked) <= 3
    assert len({r.root for r in ranked}) == len(ranked)
    for r in ranked:
        assert r.chain[0] == r.root and set(r.chain) <= set(q.graph.nodes)
    assert engine.symptoms_of(q)[0].ref == "service:checkout"
