"""Identity binding, sandbox grants, network boundary."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ccm.policy import Grant, ImpactSummary
from ccm.policy.rules import IdentityBinding, NetworkBoundary, SandboxGrants
from tests.controlkit import HOUR, NOW, OTHER_AGENT_KEY, at, context, identities, proposal

BOT = identities()[0]
CLOCK = at(NOW)


# -- identity binding --------------------------------------------------------------------------
def test_a_proposal_signed_by_its_registered_agent_proceeds():
    r = IdentityBinding().evaluate(context(proposal(CLOCK)))
    assert r.decision == "proceed" and "claude 4.5" in r.reason


@pytest.mark.parametrize("p, identity, message", [
    (proposal(CLOCK, signer=None), BOT, "not signed"),
    (proposal(CLOCK), None, "unknown identity 'deploy-bot'"),
    (proposal(CLOCK), replace(BOT, revoked=True), "has been revoked"),
    (proposal(CLOCK, signer=OTHER_AGENT_KEY), BOT, "does not match"),
    (proposal(CLOCK, model="gpt"), BOT, "registered as model 'claude'"),
    (proposal(CLOCK, model_version="4.0"), BOT, "the proposal says '4.0'"),
    (proposal(at(NOW - 2 * HOUR)), BOT, "stale or replayed"),
])
def test_unsigned_unknown_or_mismatched_identities_are_refused(p, identity, message):
    r = IdentityBinding().evaluate(context(p, identity=identity))
    assert r.decision == "refuse" and message in r.reason


def test_the_age_check_applies_when_proposing_not_when_executing():
    old = proposal(at(NOW - 2 * HOUR))
    assert IdentityBinding().evaluate(context(old, phase="execute")).decision == "proceed"


# -- sandbox grants ----------------------------------------------------------------------------
def grant(**kw) -> Grant:
    base = {"id": "g-1", "agent": "deploy-bot", "actions": ("restart", "scale"),
            "targets": ("service:ca*",), "expires_at": NOW + HOUR}
    return Grant(**{**base, **kw})


def test_an_active_grant_covering_action_and_target_lets_it_proceed():
    r = SandboxGrants().evaluate(context(grants=[grant()]))
    assert r.decision == "proceed" and "g-1" in r.reason


@pytest.mark.parametrize("g, message", [
    (grant(expires_at=NOW - 1), "grant g-1 expired at"),
    (grant(revoked_at=NOW - HOUR), "grant g-1 was revoked at"),
    (grant(actions=("deploy",)), "no grant lets 'deploy-bot' run restart on service:cart"),
    (grant(targets=("service:frontend",)), "no grant lets"),
    (grant(agent="other-bot"), "no grant lets"),
])
def test_expired_revoked_or_non_covering_grants_refuse(g, message):
    r = SandboxGrants().evaluate(context(grants=[g]))
    assert r.decision == "refuse" and message in r.reason


def test_a_grant_revoked_in_the_future_still_holds_now():
    assert SandboxGrants().evaluate(context(grants=[grant(revoked_at=NOW + 1)])).decision == \
        "proceed"


def test_exempt_actions_need_no_grant():
    assert SandboxGrants(exempt_actions=["restart"]).evaluate(context()).decision == "proceed"


# -- network boundary ---------------------------------------------------------------------------
ZONES = {"service:cart": "internal", "service:frontend": "public", "cache:redis": "internal"}


def reach(**probs: float) -> ImpactSummary:
    return ImpactSummary(p_fail=0.2, node_probabilities={
        k.replace("__", ":"): v for k, v in probs.items()})


def test_an_action_that_stays_in_the_agents_zones_proceeds():
    r = NetworkBoundary().evaluate(context(impact=reach(cache__redis=0.5), zones=ZONES))
    assert r.decision == "proceed" and "stays inside internal" in r.reason


def test_impact_reaching_another_zone_needs_review():
    r = NetworkBoundary().evaluate(context(impact=reach(service__frontend=0.3), zones=ZONES))
    assert r.decision == "review"
    assert "crosses from internal into public: service:frontend" in r.reason


def test_unlikely_impact_does_not_count_as_crossing():
    r = NetworkBoundary(impact_threshold=0.5).evaluate(
        context(impact=reach(service__frontend=0.3), zones=ZONES))
    assert r.decision == "proceed"


def test_an_agent_without_declared_zones_is_bounded_by_the_target_zone():
    ident = replace(identities()[0], zones=())
    r = NetworkBoundary().evaluate(context(impact=reach(service__frontend=0.3), zones=ZONES,
                                           identity=ident))
    assert r.decision == "review"


def test_closed_zones_refuse_and_on_cross_can_refuse():
    r = NetworkBoundary(refuse_zones=["public"]).evaluate(
        context(impact=reach(service__frontend=0.3), zones=ZONES))
    assert r.decision == "refuse" and "closes to agents" in r.reason
    r = NetworkBoundary(on_cross="refuse").evaluate(
        context(impact=reach(service__frontend=0.3), zones=ZONES))
    assert r.decision == "refuse"


def test_no_declared_zones_means_nothing_to_cross():
    assert NetworkBoundary().evaluate(context(impact=reach(service__frontend=0.9))).decision \
        == "proceed"
