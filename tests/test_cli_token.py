"""``ccm token``: create, list, hash."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from ccm.api.auth import hash_token, load_token_registry


def ccm(args: list[str], tmp_path, input: str | None = None) -> subprocess.CompletedProcess[str]:
    e = {k: v for k, v in os.environ.items() if not k.startswith("CCM_")}
    e["XDG_CONFIG_HOME"], e["COLUMNS"] = str(tmp_path), "300"
    return subprocess.run([sys.executable, "-m", "ccm", *args], capture_output=True,
                          text=True, env=e, timeout=120, input=input)


def test_create_prints_the_token_once_and_stores_only_its_hash(tmp_path):
    proc = ccm(["token", "create", "--role", "agent", "--identity", "deploy-bot",
                "--tenant", "payments"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    token = proc.stdout.strip()
    f = tmp_path / "ccm" / "tokens.yaml"
    assert token not in f.read_text() and hash_token(token) in f.read_text()
    who = load_token_registry(f, None).authenticate(token)
    assert who is not None and (who.id, who.role, who.tenant) == ("deploy-bot", "agent",
                                                                  "payments")


def test_create_refuses_a_scope_beyond_the_role(tmp_path):
    proc = ccm(["token", "create", "--role", "agent", "--identity", "bot", "--scope",
                "actions:approve"], tmp_path)
    assert proc.returncode == 1 and "the agent role can never have it" in proc.stderr
    assert not (tmp_path / "ccm" / "tokens.yaml").exists()


def test_create_with_a_file_and_list_as_json(tmp_path):
    f = tmp_path / "t.yaml"
    ccm(["token", "create", "--role", "sre", "--identity", "alertmanager", "--scope",
         "ingest:write", "--file", str(f)], tmp_path)
    rows = json.loads(ccm(["token", "list", "--json", "--file", str(f)], tmp_path).stdout)
    assert rows[0]["identity"] == "alertmanager" and rows[0]["scopes"] == ["ingest:write"]
    assert len(rows[0]["sha256"]) == 12


def test_hash_prints_the_sha256_of_a_token_from_stdin(tmp_path):
    out = ccm(["token", "hash"], tmp_path, input="ccm_abc\n").stdout.strip()
    assert out == hash_token("ccm_abc")
