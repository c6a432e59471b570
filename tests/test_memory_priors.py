"""The priors table: outcome counts per (kind, target), propagation evidence per edge."""

from __future__ import annotations

import pytest

from ccm.memory import Beta, EdgeEvidence, Priors
from ccm.memory.priors import posterior


def test_beta_counts_update_a_structural_prior_the_engines_way():
    b = Beta(1, 0)
    assert b.update(0.1, 10) == pytest.approx((10 * 0.1 + 1) / 11)
    assert posterior(b, 0.1, 10) == pytest.approx((2.0, 9.0))
    assert Beta(0, 40).update(0.1, 10) == pytest.approx(1 / 50)


def test_lookup_returns_counts_only_for_what_was_seen():
    pri = Priors(outcomes={("deploy", "service:cart"): Beta(2, 3)})
    assert pri.lookup("deploy", "service:cart") == Beta(2, 3)
    assert pri.lookup("deploy", "service:other") is None
    assert pri.p_fail("deploy", "service:other", 0.1) == 0.1
    assert pri.p_fail("deploy", "service:cart", 0.1) == pytest.approx((1 + 2) / 15)


def test_propagation_moves_from_the_base_towards_what_was_observed():
    pri = Priors(edges={("service:web", "service:cart"): EdgeEvidence(3, 3)},
                 propagation_strength=10)
    assert pri.propagation("service:web", "service:cart", 0.3) == pytest.approx(6 / 13)
    assert pri.propagation("service:x", "service:y", 0.3) == 0.3
    assert EdgeEvidence().add(True).add(False) == EdgeEvidence(1, 2)


def test_the_table_serialises_for_people():
    pri = Priors("shop", 5, {("deploy", "service:a"): Beta(1, 2)},
                 {("service:b", "service:a"): EdgeEvidence(1, 1)})
    d = pri.to_dict()
    assert d["outcomes"] == [{"kind": "deploy", "target": "service:a", "failures": 1,
                              "clean": 2}]
    assert d["edges"][0]["caller"] == "service:b"


def test_the_balance_of_incidents_per_component_kind_is_served_and_serialised():
    pri = Priors(balances={"cache": Beta(18, 2)})
    assert pri.balance("cache") == Beta(18, 2) and pri.balance("service") is None
    assert pri.to_dict()["balance"] == [{"component_kind": "cache", "spontaneous": 18,
                                         "change_caused": 2}]
