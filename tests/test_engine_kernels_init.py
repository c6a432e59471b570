"""Compile-time accounting and thread safety of the kernels."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from ccm.engine import Action, predict_impact, root_causes
from ccm.engine.kernels import compile_seconds, warm_up
from graph_schema import parse_time


def test_compile_time_is_spent_once_per_process_and_reported_apart():
    warm_up()
    assert compile_seconds() is not None and compile_seconds() > 0
    assert warm_up() == 0.0


def test_concurrent_requests_from_threads_give_the_same_answers(demo_store):
    snap = demo_store.snapshot(parse_time("2026-03-05T10:00:00Z"))
    action = Action("deploy", "service:productcatalogservice")

    def both(_):
        impact = predict_impact(snap, action, samples=2000, seed=5)
        return impact.traffic, root_causes(snap)[0].root

    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(both, range(8)))
    assert len(set(answers)) == 1 and answers[0][1] == "change:chg-102"


def test_a_thread_gets_the_cores_only_while_no_other_thread_holds_them():
    from ccm.engine.kernels import cores_if_free

    with cores_if_free() as first:
        with ThreadPoolExecutor(max_workers=1) as pool:
            other = pool.submit(lambda: cores_if_free().__enter__()).result()
        assert first is True and other is False
    with cores_if_free() as again:
        assert again is True
