"""Rate limits and circuit breakers."""

from __future__ import annotations

from ccm.policy.rules import CircuitBreaker, RateLimit
from tests.controlkit import NOW, at, context, proposal

MIN = 60 * 1_000_000
CLOCK = at(NOW)


def events(n: int, spacing: int = MIN, end: int = NOW) -> list[tuple[int, str]]:
    return [(end - (n - i) * spacing, f"act-{i}") for i in range(n)]


def test_under_the_limit_proceeds_and_at_the_limit_refuses():
    rule = RateLimit(per="service", limit=3, window="1h")
    ok = rule.evaluate(context(rate_events={"service:cart": events(2)}))
    assert ok.decision == "proceed" and "2 earlier actions on service:cart" in ok.reason
    over = rule.evaluate(context(rate_events={"service:cart": events(3)}))
    assert over.decision == "refuse" and "limit 3" in over.reason


def test_only_the_window_counts():
    rule = RateLimit(per="service", limit=3, window="12m")
    r = rule.evaluate(context(rate_events={"service:cart": events(5, spacing=5 * MIN)}))
    assert r.decision == "proceed" and r.data["count"] == 2


def test_actions_proposed_after_this_one_do_not_count_against_it():
    p = proposal(CLOCK)
    evs = [(NOW - MIN, "act-a"), (NOW, p.action_id), (NOW, "act-later"), (NOW, "act-later2")]
    r = RateLimit(per="service", limit=2, window="1h").evaluate(
        context(p, rate_events={"service:cart": evs}))
    assert r.decision == "proceed" and r.data["count"] == 1


def test_the_agent_limit_counts_per_agent_and_can_ask_for_review():
    rule = RateLimit(per="agent", limit=1, window="1h", on_exceed="review")
    r = rule.evaluate(context(rate_events={"agent:deploy-bot": events(1)}))
    assert r.decision == "review" and "agent:deploy-bot" in r.reason
    assert rule.evaluate(context(rate_events={"agent:other-bot": events(5)})).decision == \
        "proceed"


def test_circuit_breaker_limits_plan_length_and_calls():
    cb = CircuitBreaker(max_plan_length=3, max_calls_per_session=2)
    assert cb.evaluate(context(proposal(CLOCK, plan_length=4))).decision == "refuse"
    assert "outside a plan" in cb.evaluate(context(proposal(CLOCK, step=3, plan_length=2))).reason
    p = proposal(CLOCK, session="s1", step=3, plan_length=3)
    r = cb.evaluate(context(p, session_calls=("act-1", "act-2", p.action_id)))
    assert r.decision == "refuse" and "call 3 of session s1" in r.reason
    p2 = proposal(CLOCK, session="s1", step=2, plan_length=3)
    assert cb.evaluate(context(p2, session_calls=("act-1", p2.action_id))).decision == "proceed"


def test_a_failed_step_stops_the_rest_of_the_session():
    p = proposal(CLOCK, session="s1", step=2, plan_length=3)
    r = CircuitBreaker().evaluate(context(p, session_calls=("act-1", p.action_id),
                                          session_failed="act-1"))
    assert r.decision == "refuse" and "hard stop: act-1" in r.reason
    off = CircuitBreaker(stop_after_failure=False).evaluate(
        context(p, session_calls=("act-1", p.action_id), session_failed="act-1"))
    assert off.decision == "proceed"
