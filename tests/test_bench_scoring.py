"""The metrics, on hand-computed examples."""

from __future__ import annotations

import pytest

from ccm.bench.methods.base import Ranked
from ccm.bench.scoring import chain_exact, chain_f1, mean_scores, root_rank, score_case
from ccm.bench.truth import Truth

TRUTH = Truth("change:c1", ("change:c1", "config:a/K", "service:a", "service:fe"), "service:fe")


def r(root: str, *chain: str) -> Ranked:
    return Ranked(root, (root, *chain), 0.0)


def test_the_truth_root_first_scores_one_everywhere():
    s = score_case([r("change:c1", "config:a/K", "service:a", "service:fe")], TRUTH)
    assert (s.rank, s.root_at_1, s.root_at_3, s.mrr, s.chain_f1, s.chain_exact) == (
        1, 1, 1, 1.0, 1.0, 1)


def test_rank_three_misses_root_at_1_but_hits_root_at_3_with_mrr_a_third():
    s = score_case([r("change:c2"), r("service:b"), r("change:c1", "service:fe")], TRUTH)
    assert (s.rank, s.root_at_1, s.root_at_3, s.mrr) == (3, 0, 1, pytest.approx(1 / 3))


def test_repeated_roots_count_once_in_ranks():
    ranked = [r("change:c2"), r("change:c2", "service:x"), r("change:c3"), r("change:c1")]
    assert root_rank(ranked, "change:c1") == 3
    assert score_case(ranked, TRUTH).root_at_3 == 1


def test_a_root_below_the_tenth_distinct_root_scores_zero_mrr():
    ranked = [r(f"change:x{i}") for i in range(10)] + [r("change:c1")]
    s = score_case(ranked, TRUTH)
    assert (s.rank, s.mrr, s.root_at_3) == (None, 0.0, 0)


def test_chain_f1_compares_node_sets_of_the_top_chain():
    # top chain {c2, a, fe} vs truth {c1, a/K, a, fe}: 2 hits, P = 2/3, R = 2/4 -> F1 = 4/7
    s = score_case([r("change:c2", "service:a", "service:fe"), r("change:c1")], TRUTH)
    assert s.chain_f1 == pytest.approx(4 / 7)
    assert s.chain_exact == 0


def test_chain_f1_of_disjoint_or_empty_chains_is_zero():
    assert chain_f1(["x"], ["y"]) == 0.0
    assert chain_f1([], ["y"]) == 0.0


def test_chain_exact_needs_the_same_order():
    assert chain_exact(["a", "b"], ["a", "b"])
    assert not chain_exact(["b", "a"], ["a", "b"])
    assert chain_f1(["b", "a"], ["a", "b"]) == 1.0


def test_no_answer_scores_zero_on_every_metric():
    s = score_case([], TRUTH)
    assert s.metrics() == {"root@1": 0, "root@3": 0, "mrr": 0.0, "chain_f1": 0.0,
                           "chain_exact": 0}
    assert s.predicted_root is None


def test_means_average_each_metric_over_cases():
    hit = score_case([r("change:c1", "config:a/K", "service:a", "service:fe")], TRUTH)
    second = score_case([r("change:c9"), r("change:c1")], TRUTH)
    m = mean_scores([hit, second])
    assert m["root@1"] == 0.5 and m["root@3"] == 1.0 and m["mrr"] == 0.75
    assert m["chain_exact"] == 0.5
    assert mean_scores([]) == {"root@1": 0.0, "root@3": 0.0, "mrr": 0.0, "chain_f1": 0.0,
                               "chain_exact": 0.0}
