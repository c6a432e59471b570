"""`ccm approve ID --as alice` is authenticated by alice's key: without --key-file it is
refused unless the policy allows unsigned approvals from the command line (issue 16)."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import yaml

from tests.test_cli_control import env, propose, run  # noqa: F401  (env is a fixture)


def test_an_approval_without_the_approvers_key_is_refused_and_changes_nothing(env):  # noqa: F811
    rec = propose(env)
    out = run(["approve", rec["id"], "--as", "alice"], env, code=1)
    assert "needs alice's key" in out and "--key-file" in out
    shown = json.loads(run(["actions", "show", rec["id"], "--json"], env))
    assert shown["state"] == "evaluated" and shown["approvals"] == []


def test_an_approval_signed_with_another_identitys_key_is_refused(env):  # noqa: F811
    rec = propose(env)
    out = run(["approve", rec["id"], "--as", "alice", "--key-file",
               f"{env['TMP']}/bot.key"], env, code=1)
    assert "does not match 'alice'" in out


def test_a_policy_may_allow_unsigned_approvals_from_the_command_line(env):  # noqa: F811
    doc = yaml.safe_load((resources.files("ccm.policy") / "default_policy.yaml").read_text())
    doc["approvals"] = {"unsigned_cli": True}
    policy = Path(env["TMP"]) / "policy.yaml"
    policy.write_text(yaml.safe_dump(doc))
    lenient = {**env, "CCM_POLICY": str(policy)}
    rec = propose(lenient)
    assert "state approved" in run(["approve", rec["id"], "--as", "alice"], lenient)
