"""The control-plane commands, end to end on an embedded store (in process)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from ccm.cli import cli
from tests.controlkit import AGENT_KEY, ALICE_KEY, AUDIT_KEY, topology


def run(args: list[str], env: dict[str, str], code: int = 0) -> str:
    result = CliRunner().invoke(cli, args, env=env, catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result.output


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    from ccm.store import EmbeddedStore

    store_path = tmp_path / "s.sqlite"
    with EmbeddedStore(store_path) as s:
        s.write(topology())
    for name, key in (("audit", AUDIT_KEY), ("bot", AGENT_KEY), ("alice", ALICE_KEY)):
        (tmp_path / f"{name}.key").write_text(key.private_b64())
        (tmp_path / f"{name}.pub").write_text(key.public_b64)
    (tmp_path / "ids.yaml").write_text(yaml.safe_dump({"identities": [
        {"id": "deploy-bot", "kind": "agent", "public_key": AGENT_KEY.public_b64,
         "model": "claude", "model_version": "4.5", "zones": ["internal", "public"]},
        {"id": "alice", "kind": "human", "public_key": ALICE_KEY.public_b64}]}))
    reg = yaml.safe_load(Path("ccm/policy/default_actions.yaml").read_text())
    reg["executor"] = {"type": "command", "argv": [sys.executable, "-c",
                                                   "import sys; sys.stdin.read()"]}
    (tmp_path / "actions.yaml").write_text(yaml.safe_dump(reg))
    e = {"CCM_STORE": str(store_path), "CCM_AUDIT_KEY_FILE": str(tmp_path / "audit.key"),
         "CCM_ACTIONS": str(tmp_path / "actions.yaml"), "CCM_POLICY": "", "COLUMNS": "200",
         "TMP": str(tmp_path)}
    run(["admin", "identity", "add", str(tmp_path / "ids.yaml"), "--as", "root"], e)
    run(["admin", "grant", "deploy-bot", "--action", "*", "--target", "service:*", "--for",
         "8h", "--as", "root"], e)
    return e


def propose(env: dict[str, str], *extra: str) -> dict:
    out = run(["propose", "config_change", "service:reviews", "--agent", "deploy-bot",
               "-i", "key=THEME", "-i", "value=50", "-i", "previous_value=500",
               "--key-file", f"{env['TMP']}/bot.key", "--json", *extra], env)
    return json.loads(out[out.index("{"):])


def test_a_proposal_goes_through_approval_execution_and_revert(env):
    rec = propose(env)
    assert rec["state"] == "evaluated" and rec["verdict"]["decision"] == "review"
    out = run(["approve", rec["id"], "--as", "deploy-bot", "--key-file", f"{env['TMP']}/bot.key"],
              env, code=1)
    assert "cannot approve its own proposal" in out
    out = run(["approve", rec["id"], "--as", "alice", "--key-file", f"{env['TMP']}/alice.key"],
              env)
    assert "state approved" in out
    assert "state executed" in run(["execute", rec["id"], "--as", "deploy-bot"], env)
    out = run(["outcome", rec["id"], "--unhealthy", "--impacted", "service:frontend",
               "--as", "alice"], env)
    assert "state closed" in out and f"reverted: {rec['id']}-revert (ok" in out
    listed = json.loads(run(["actions", "list", "--proposed", "--json"], env))
    assert {r["id"]: r["state"] for r in listed} == {rec["id"]: "closed",
                                                     f"{rec['id']}-revert": "closed"}
    out = run(["audit", "verify", "--public-key", f"{env['TMP']}/audit.pub"], env)
    assert out.startswith("ok:")


def test_an_unsigned_proposal_is_refused_with_every_reason(env):
    out = run(["propose", "restart", "service:cart", "--agent", "deploy-bot"], env)
    assert "refuse" in out and "the proposal is not signed" in out
    assert "blast_radius" in out and "kill_switch" in out


def test_a_paused_service_refuses_proposals(env):
    assert "service:reviews: paused" in run(["admin", "kill-switch", "pause",
                                             "service:reviews", "--reason", "incident",
                                             "--as", "alice"], env)
    rec = propose(env)
    assert rec["state"] == "refused"
    assert any("paused (service:reviews) by alice" in r["reason"]
               for r in rec["verdict"]["results"])
    assert "service:reviews" in run(["admin", "kill-switch", "list"], env)


def test_the_registry_is_listed_and_shown(env):
    assert "schema_migration" in run(["actions", "list"], env)
    out = run(["actions", "show", "config_change"], env)
    assert "previous_value" in out and "risk medium" in out
    assert "no registered action" in run(["actions", "show", "nope"], env, code=1)


def test_an_exported_log_verifies_alone_and_an_edit_is_named(env):
    propose(env)
    out_file = Path(env["TMP"]) / "audit.jsonl"
    run(["audit", "export", "--out", str(out_file)], env)
    pub = f"{env['TMP']}/audit.pub"
    assert run(["audit", "verify", "--file", str(out_file), "--public-key", pub],
               env).startswith("ok:")
    lines = out_file.read_text().splitlines()
    entry = json.loads(lines[2])
    entry["actor"]["id"] = "mallory"
    lines[2] = json.dumps(entry)
    out_file.write_text("\n".join(lines) + "\n")
    out = run(["audit", "verify", "--file", str(out_file), "--public-key", pub], env, code=1)
    assert "TAMPERED" in out and "first bad entry is 3" in out


def test_calibrate_reports_and_plots(env):
    rec = propose(env)
    run(["approve", rec["id"], "--as", "alice", "--key-file", f"{env['TMP']}/alice.key"], env)
    run(["execute", rec["id"]], env)
    run(["outcome", rec["id"], "--healthy"], env)
    png = Path(env["TMP"]) / "cal.png"
    data = json.loads(run(["calibrate", "--json", "--plot", str(png)], env))
    assert [c["what"].split(":")[0] for c in data["calibrations"]] == [
        "action failure", "node impact"]
    fail = data["calibrations"][0]
    p_fail = rec["verdict"]["impact"]["p_fail"]  # the engine's prediction at proposal time
    assert fail["n"] == 1 and fail["brier"] == pytest.approx(p_fail ** 2)
    assert data["balance"] == []  # no resolved incident yet: the default rates
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_grants_are_listed_and_revoked(env):
    grants = json.loads(run(["admin", "grants", "--json"], env))
    assert grants[0]["status"] == "active"
    assert "revoked at" in run(["admin", "revoke", grants[0]["id"], "--as", "root"], env)
    assert propose(env)["state"] == "refused"


def test_keygen_writes_a_private_key_and_prints_the_public_one(env, tmp_path):
    out = run(["admin", "keygen", "--out", str(tmp_path / "k")], env)
    assert len(out.strip()) == 44 and oct((tmp_path / "k").stat().st_mode)[-3:] == "600"
    assert "refusing to overwrite" in run(["admin", "keygen", "--out", str(tmp_path / "k")],
                                          env, code=1)


def test_autonomy_can_be_set_by_hand_and_is_audited(env):
    run(["admin", "autonomy", "set", "config_change", "service:reviews", "autonomous", "--as",
         "root"], env)
    assert propose(env)["verdict"]["decision"] != "refuse"
    assert "autonomous" in run(["admin", "autonomy", "list"], env)


def test_an_agent_can_submit_a_signed_proposal_as_json(env, tmp_path):
    import time

    from ccm.policy.proposal import Proposal

    p = Proposal("restart", "service:cart", {}, "deploy-bot", "claude", "4.5",
                 created_at=int(time.time() * 1_000_000)).signed(AGENT_KEY)
    f = tmp_path / "p.json"
    f.write_text(json.dumps(p.to_dict()))
    out = run(["propose", "--file", str(f), "--json"], env)
    rec = json.loads(out[out.index("{"):])
    assert rec["id"] == p.action_id and rec["verdict"]["decision"] != "refuse"
    f.write_text(json.dumps({**p.to_dict(), "target": "service:frontend"}))
    out = run(["propose", "--file", str(f), "--json"], env)
    bad = json.loads(out[out.index("{"):])
    assert any("signature does not match" in r["reason"] for r in bad["verdict"]["results"])


def test_the_rca_command_cites_an_earlier_incident_from_memory(tmp_path):
    from ccm.cli.demo import load_demo
    from ccm.demo.memory_story import run_memory_story

    path = tmp_path / "demo.sqlite"
    store = load_demo(path)
    run_memory_story(store, audit_key=AUDIT_KEY, agent_key=AGENT_KEY)
    store.close()
    env = {"CCM_STORE": str(path), "COLUMNS": "200"}
    args = ["rca", "--at", "2026-03-09T14:20:00Z", "--symptom",
            "service:recommendationservice", "--symptom", "service:frontend", "-k", "2"]
    data = json.loads(run([*args, "--json"], env))
    top = data["chains"][0]
    assert top["root"] == "change:chg-201"
    assert [m["ref"] for m in top["seen_before"]] == ["incident:inc-demo-1"]
    assert "seen before: incident:inc-demo-1 on 2026-03-06" in run(args, env)
    other = json.loads(run([*args, "--json", "--tenant", "elsewhere"], env))
    assert other["chains"][0]["seen_before"] == []
