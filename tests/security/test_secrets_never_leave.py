"""Secrets never leave: a config change of DB_PASSWORD (and its automatic revert, which
swaps the values) and credentials pasted into a reason or an approval note are stored and
served only as fingerprints; the store file, the audit export and every API answer are
searched byte for byte for the planted secrets (issue 16, third finding)."""

from __future__ import annotations

import io
import json
from importlib import resources
from pathlib import Path

import pytest
import yaml

from ccm.audit.export import export_jsonl
from ccm.audit.redact import RedactionConfig, Redactor, Sealer
from ccm.cli.demo import load_demo
from tests.api_support import (
    TOKENS,
    audit_key_b64,
    command_registry,
    register_identities,
    serve_store,
    signed_proposal,
)
from tests.conftest import FakeClock

NEW_PASSWORD = "n3w-Pa55word-planted"
OLD_PASSWORD = "0ld-Pa55word-planted"
CCM_TOKEN = "ccm_" + "P1antedTokenValue" * 2
GITHUB_PAT = "github_pat_" + "11ABCDEFG0123456789abcdef" * 2
AWS_KEY = "AKIA" + "PLANTEDKEY123456"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJwbGFudGVkIn0.c2lnbmF0dXJlLXBsYW50ZWQ"
PEM = "-----BEGIN PRIVATE KEY-----\nMIIplantedPEMbody\n-----END PRIVATE KEY-----"
SECRETS = [NEW_PASSWORD, OLD_PASSWORD, CCM_TOKEN, GITHUB_PAT, AWS_KEY, JWT, "MIIplantedPEMbody"]
CHANGE = {"action": "config_change", "target": "service:cartservice", "model": "claude",
          "inputs": {"key": "DB_PASSWORD", "value": NEW_PASSWORD,
                     "previous_value": OLD_PASSWORD},
          "reason": f"rotate; old ci token {CCM_TOKEN} and {GITHUB_PAT}"}
SECRET = b"k" * 32


def lenient_policy(path: Path) -> Path:
    """The shipped policy without its blast-radius rule, so the change runs (and fails)."""
    doc = yaml.safe_load((resources.files("ccm.policy") / "default_policy.yaml").read_text())
    doc["rules"] = [r for r in doc["rules"] if r["type"] != "blast_radius"]
    path.write_text(yaml.safe_dump(doc))
    return path


@pytest.fixture(scope="module")
def lifecycle(tmp_path_factory):
    """Propose, approve, execute, report unhealthy (the automatic revert runs), and keep
    every answer the API gave on the way."""
    tmp = tmp_path_factory.mktemp("secrets")
    store = load_demo(tmp / "demo.sqlite")
    register_identities(store)
    answers: list[str] = []
    with serve_store(store, FakeClock(), audit_key=audit_key_b64(),
                     actions=command_registry(tmp / "actions.yaml"),
                     policy=lenient_policy(tmp / "policy.yaml")) as api:
        with api.client("admin") as admin:
            r = admin.post("/v1/admin/grants", json={
                "agent": "deploy-bot", "actions": ["config_change"],
                "targets": ["service:*"], "expires_at": "2026-04-02T00:00:00Z"})
            assert r.status_code == 201, r.text
        _, identity, _, tenant = TOKENS["agent"]
        with api.client("agent") as agent, api.client("sre") as sre:
            answers.append(agent.post("/v1/impact", json=CHANGE).text)
            body = signed_proposal(CHANGE, identity, tenant, created_at=1_775_001_600_000_000)
            r = agent.post("/v1/actions", json=body)
            assert r.status_code == 201, r.text
            answers.append(r.text)
            aid = r.json()["id"]
            if r.json()["state"] == "evaluated":
                r = sre.post(f"/v1/actions/{aid}/approvals",
                             json={"note": f"ok, used {AWS_KEY} and {JWT} and {PEM}"})
                assert r.status_code == 200, r.text
                answers.append(r.text)
            r = agent.post(f"/v1/actions/{aid}/execute")
            assert r.status_code == 200 and r.json()["state"] == "executed", r.text
            answers.append(r.text)
            r = agent.post(f"/v1/actions/{aid}/outcome",
                           json={"healthy": False, "note": f"broke; token {CCM_TOKEN}"})
            assert r.status_code == 200, r.text
            answers.append(r.text)
            for path in ("/v1/actions", f"/v1/actions/{aid}", "/v1/audit", "/v1/memory/actions",
                         "/v1/graph?kind=action&kind=change&kind=config",
                         "/v1/nodes/config:cartservice/DB_PASSWORD/history",
                         f"/v1/nodes/action:{aid}/history"):
                r = sre.get(path)
                assert r.status_code == 200, (path, r.text)
                answers.append(r.text)
        actions = json.loads(answers[-7])["actions"]
    exported = io.BytesIO()
    export_jsonl(store, exported)
    store.close()
    files = b"".join(p.read_bytes() for p in sorted(tmp.glob("demo.sqlite*")))
    yield {"answers": answers, "actions": actions, "audit": exported.getvalue(),
           "store": files}


def test_the_revert_ran_and_swapped_the_fingerprints(lifecycle):
    original, revert = lifecycle["actions"][0], lifecycle["actions"][1]
    assert revert["revert_of"] == original["id"]
    a, b = original["proposal"]["inputs"], revert["proposal"]["inputs"]
    assert a["value"].startswith("[redacted hmac:") and a["previous_value"].startswith(
        "[redacted hmac:") and a["value"] != a["previous_value"]
    assert (b["value"], b["previous_value"]) == (a["previous_value"], a["value"])


@pytest.mark.parametrize("where", ["answers", "audit", "store"])
@pytest.mark.parametrize("secret", SECRETS)
def test_no_planted_secret_is_anywhere(lifecycle, where, secret):
    found = lifecycle[where]
    data = "".join(found).encode() if isinstance(found, list) else found
    assert secret.encode() not in data
    assert json.dumps(secret)[1:-1].encode() not in data


def test_the_shipped_kinds_of_credentials_are_recognised_wherever_they_appear():
    r = Redactor(SECRET)
    for text in (CCM_TOKEN, GITHUB_PAT, AWS_KEY, "ASIA" + "PLANTEDKEY123456", JWT, PEM,
                 "ghp_" + "a" * 36):
        assert r({"note": f"see {text}"})["note"].startswith("[redacted hmac:"), text
    assert r("postgres://app:s3cret@db/orders") == (
        "postgres://app:" + r.mark("s3cret") + "@db/orders")


def test_every_field_of_a_secret_keys_change_is_redacted_but_the_key():
    out = Redactor(SECRET)({"key": "DB_PASSWORD", "value": "a", "previous_value": "b",
                            "old": "c", "new": "d"})
    assert out["key"] == "DB_PASSWORD"
    assert all(v.startswith("[redacted hmac:") for k, v in out.items() if k != "key")


def test_configured_patterns_add_to_the_built_in_ones():
    r = Redactor(SECRET, RedactionConfig(secret_keys=("^SIGNING_SALT$",),
                                         secret_values=(r"\bacme-[0-9a-f]{8}\b",)))
    out = r([{"key": "SIGNING_SALT", "value": "x"}, {"note": "acme-0123abcd", "pin": "12"}])
    assert out[0]["value"].startswith("[redacted") and out[1]["note"].startswith("[redacted")
    assert out[1]["pin"] == "12"
    with pytest.raises(ValueError, match="not a regular expression"):
        RedactionConfig(secret_keys=("(",))


def test_sealed_values_open_again_only_with_the_key():
    sealer = Sealer(SECRET, b"s" * 32)
    doc = {"inputs": {"key": "DB_PASSWORD", "value": NEW_PASSWORD, "n": 3},
           "note": f"dsn postgres://u:{OLD_PASSWORD}@db/x", "token": {"nested": [1, 2]}}
    sealed = sealer(doc)
    assert NEW_PASSWORD not in json.dumps(sealed) and OLD_PASSWORD not in json.dumps(sealed)
    assert sealer.unseal(sealed) == doc
    assert sealer(doc) == sealed  # stable: an unchanged record is written unchanged
    with pytest.raises(Exception):  # another key cannot open it  # noqa: B017
        Sealer(SECRET, b"t" * 32).unseal(sealed)


