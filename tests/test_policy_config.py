"""Policy files, and the verdict: the strictest rule, every reason, the impact."""

from __future__ import annotations

import pytest

from ccm.errors import ConfigError
from ccm.policy import Policy, RuleResult, Switch, Verdict, load_policy, policy_from_text
from ccm.policy.config import default_policy_path
from tests.controlkit import context, wide_impact

EVERY_TYPE = {"kill_switch", "identity_binding", "signed_audit", "memory_write",
              "sandbox_grants", "blast_radius", "schema_drift", "network_boundary",
              "reversible", "rate_limit", "circuit_breaker", "quorum", "drift_detection",
              "earned_autonomy"}


def test_the_default_policy_has_every_primitive():
    policy = load_policy()
    assert {r.type for r in policy.rules} == EVERY_TYPE
    assert policy.source == str(default_policy_path())
    assert policy.memory.enabled_for("anyone")


def test_the_policy_file_is_chosen_by_the_environment(tmp_path, monkeypatch):
    f = tmp_path / "p.yaml"
    f.write_text("version: 1\nrules:\n  - type: kill_switch\n")
    monkeypatch.setenv("CCM_POLICY", str(f))
    assert [r.type for r in load_policy().rules] == ["kill_switch"]


@pytest.mark.parametrize("text, message", [
    ("version: 1\nrules:\n  - type: rate_limit\n    limit: 3\n    window: soon\n",
     "<policy>:5: rules.0.window (value 'soon')"),
    ("version: 1\nrules:\n  - type: quorum\n    approvals: {high: 2}\n    cats: 1\n",
     "<policy>:5: rules.0.cats"),
    ("version: 1\nrules:\n  - type: telepathy\n", "<policy>:3: rules.0: Input tag 'telepathy'"),
    ("version: 1\nrules:\n  - type: kill_switch\n  - type: kill_switch\n",
     "two rules are called 'kill_switch'"),
    ("version: 2\nrules: []\n", "<policy>:1: version (value 2)"),
    ("version: 1\nrules: []\nmemory: {retention: forever}\n", "memory.retention"),
    ("- just\n- a list\n", "a policy is a mapping"),
])
def test_a_bad_policy_is_refused_naming_line_field_and_value(text, message):
    with pytest.raises(ConfigError) as err:
        policy_from_text(text)
    assert message in str(err.value)


def test_the_verdict_is_the_strictest_with_every_reason_and_the_impact():
    policy = load_policy()
    ctx = context(impact=wide_impact(), target_attrs={"tier": "critical"},
                  switches={"action:restart": Switch("action:restart", paused=True)})
    v = policy.decide(ctx)
    assert v.decision == "refuse"
    assert len(v.results) == len(policy.rules)
    assert any(r.startswith("kill_switch: refuse: paused") for r in v.reasons)
    assert any(r.startswith("blast_radius: refuse:") for r in v.reasons)
    assert any(r.startswith("quorum: proceed:") for r in v.reasons)
    assert v.impact is not None and v.impact.traffic_p95 == 0.6


def test_review_needs_combine_across_rules():
    results = [RuleResult("a", "x", "review", "r1", __import__("ccm.policy").policy.Needs(2)),
               RuleResult("b", "y", "review", "r2",
                          __import__("ccm.policy").policy.Needs(1, True, True)),
               RuleResult("c", "z", "proceed", "fine")]
    v = Verdict.of(results, None)
    assert v.decision == "review"
    assert (v.needs.approvals, v.needs.human, v.needs.signature) == (2, True, True)
    assert Verdict.from_dict(v.to_dict()) == v


def test_disabled_rules_are_skipped():
    policy = policy_from_text("version: 1\nrules:\n  - type: signed_audit\n    enabled: false\n")
    assert policy.decide(context(audit_ready=False)).results == ()


def test_at_execution_static_rules_keep_their_result_and_dynamic_ones_rerun():
    policy: Policy = load_policy()
    first = policy.decide(context(impact=wide_impact()))
    assert any(r.rule == "blast_radius" and r.decision == "refuse" for r in first.results)
    again = policy.decide(context(impact=None, phase="execute",
                                  switches={"global": Switch("global", paused=True)}), first)
    by_rule = {r.rule: r for r in again.results}
    assert by_rule["blast_radius"].decision == "refuse"      # kept: describes the action
    assert by_rule["kill_switch"].decision == "refuse"       # re-read: the switch is thrown
    assert again.phase == "execute"
