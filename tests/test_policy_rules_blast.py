"""Blast radius bounded: p95 impacted traffic and services under per-tier thresholds."""

from __future__ import annotations

import dataclasses

import pytest
from pydantic import ValidationError

from ccm.policy import ImpactSummary
from ccm.policy.rules import BlastRadius
from tests.controlkit import context

RULE = BlastRadius()


def impact(traffic: float, services: float) -> ImpactSummary:
    return ImpactSummary(p_fail=0.2, traffic_p95=traffic, services_p95=services)


@pytest.mark.parametrize("tier, traffic, services, decision", [
    ("critical", 0.0, 0, "proceed"),
    ("critical", 0.01, 1, "proceed"),        # at the threshold: still below "above"
    ("critical", 0.02, 0, "review"),
    ("critical", 0.0, 2, "review"),
    ("critical", 0.5, 0, "refuse"),
    ("critical", 0.0, 5, "refuse"),
    ("low", 0.2, 4, "proceed"),
    ("low", 0.3, 0, "review"),
    ("low", 0.7, 0, "refuse"),
])
def test_the_decision_follows_the_target_tier_thresholds(tier, traffic, services, decision):
    r = RULE.evaluate(context(impact=impact(traffic, services), target_attrs={"tier": tier}))
    assert r.decision == decision
    assert f"tier {tier}" in r.reason and "p95 impacted traffic" in r.reason


def test_the_stricter_of_traffic_and_services_wins():
    r = RULE.evaluate(context(impact=impact(0.5, 0), target_attrs={"tier": "low"}))
    assert r.decision == "review"
    r = RULE.evaluate(context(impact=impact(0.0, 20), target_attrs={"tier": "low"}))
    assert r.decision == "refuse"


def test_an_untiered_target_uses_the_default_tier():
    r = RULE.evaluate(context(impact=impact(0.2, 0)))
    assert r.decision == "review" and "tier medium" in r.reason


def test_no_prediction_means_review_by_default_and_is_configurable():
    assert RULE.evaluate(context()).decision == "review"
    assert BlastRadius(missing_impact="refuse").evaluate(context()).decision == "refuse"


def test_thresholds_must_be_ordered_and_the_default_tier_defined():
    with pytest.raises(ValidationError, match="refuse must be at least review"):
        BlastRadius(tiers={"medium": {"traffic": {"review": 0.5, "refuse": 0.1},
                                      "services": {"review": 1, "refuse": 2}}})
    with pytest.raises(ValidationError, match="default_tier"):
        BlastRadius(default_tier="gold")


@pytest.mark.parametrize("p_fail, traffic, decision", [
    (0.04, 0.0, "proceed"),  # 96 % of outcomes impact nothing: the p95 is 0
    (0.08, 0.03, "review"),  # the failing case's 37th percentile: at most its p50
    (0.40, 0.9, "refuse"),   # the failing case's 87.5th percentile: at most its p95
])
def test_the_risk_basis_weighs_the_failing_case_by_its_probability(p_fail, traffic, decision):
    imp = ImpactSummary(p_fail=p_fail, traffic_p50=0.03, traffic_p95=0.9, services_p50=1,
                        services_p95=1)
    assert imp.risk_p95("traffic") == traffic
    r = RULE.evaluate(context(impact=imp, target_attrs={"tier": "critical"}))
    assert r.data["traffic_p95"] == traffic and r.decision == decision


def test_the_if_failed_basis_ignores_how_likely_failure_is():
    imp = ImpactSummary(p_fail=0.01, traffic_p95=0.9)
    assert BlastRadius().evaluate(context(impact=imp)).decision == "proceed"
    assert BlastRadius(basis="if_failed").evaluate(context(impact=imp)).decision == "refuse"


def test_traffic_that_few_outcomes_reach_has_a_zero_p95():
    # fails 18 % of the time; when it does, the only entrypoint is hit 15 % of the time:
    # 2.7 % of all outcomes touch traffic, so the p95 over all outcomes is 0
    imp = ImpactSummary(p_fail=0.18, traffic_mean=0.15, traffic_p95=1.0,
                        node_probabilities={"service:web": 0.15},
                        paths={"service:web": ["service:rec", "service:web"]})
    assert imp.entry_reach() == 0.15 and imp.risk_p95("traffic") == 0.0
    hit_more = dataclasses.replace(imp, node_probabilities={"service:web": 0.4})
    assert hit_more.risk_p95("traffic") == 1.0
    r = RULE.evaluate(context(impact=hit_more))
    assert r.decision == "refuse" and "P(reaches an entrypoint) at most 40.0%" in r.reason
