"""A seeded sequence of actions and outcomes through the control layer, and memory's priors."""

from __future__ import annotations

import pytest

from ccm.demo.control import demo_control
from ccm.demo.production import load_demo
from ccm.demo.sequence import DEMO_PATTERNS, Pattern, run_sequence
from ccm.memory import Memory, calibrate
from graph_schema import parse_time

AT = parse_time("2026-03-06T08:00:00Z")
ALWAYS = Pattern("restart", "service:adservice", {}, 1.0, ("service:frontend",))
NEVER = Pattern("restart", "service:emailservice", {}, 0.0)


def run(tmp_path, name, steps, **kw):
    store = load_demo(tmp_path / f"{name}.sqlite")
    ctl = demo_control(store, now=AT)
    return store, run_sequence(ctl, steps, **kw)


def test_the_same_seed_gives_the_same_actions_verdicts_and_outcomes(tmp_path):
    a_store, a = run(tmp_path, "a", 8, seed=5)
    b_store, b = run(tmp_path, "b", 8, seed=5)
    a_store.close()
    b_store.close()
    key = [(s.pattern, s.decision, s.outcome, round(s.prior_mean, 9)) for s in a]
    assert key == [(s.pattern, s.decision, s.outcome, round(s.prior_mean, 9)) for s in b]
    assert [s.pattern for s in a[:4]] == [p.name for p in DEMO_PATTERNS]


def test_failures_raise_the_prior_and_clean_outcomes_lower_it(tmp_path):
    store, steps = run(tmp_path, "s", 4, patterns=(ALWAYS, NEVER))
    store.close()
    fail_1, clean_1, _, clean_2 = steps
    assert fail_1.outcome == "unhealthy" and fail_1.prior_mean > fail_1.predicted_p_fail
    assert clean_1.outcome == "healthy" and clean_1.prior_mean < clean_1.predicted_p_fail
    assert clean_2.predicted_p_fail == pytest.approx(clean_1.prior_mean)


def test_a_refused_action_never_executes_and_has_no_outcome(tmp_path):
    store, steps = run(tmp_path, "r", 6, patterns=(ALWAYS,))
    refused = [s for s in steps if s.decision == "refuse"]
    assert refused, "memory of repeated failures makes the policy refuse"
    assert all(s.outcome is None and s.state == "refused" for s in refused)
    actions = Memory(store).actions()
    store.close()
    assert len(actions) == len(steps)
    cal = calibrate(actions)[0]
    assert cal.n == sum(1 for s in steps if s.outcome is not None)
    assert all(o == 1 for _, o in cal.pairs)  # ALWAYS fails
