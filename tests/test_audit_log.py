"""The audit log: signed, hash-chained entries appended through the store."""

from __future__ import annotations

import pytest

from ccm.audit import Actor, AuditLog, verify_store
from ccm.audit.canonical import ZERO_HASH, digest
from ccm.audit.keys import verify_signature
from ccm.audit.log import HEAD, KEYS, RECORDS, entry_body
from ccm.errors import AuditUnavailable
from tests.controlkit import AUDIT_KEY

ALICE = Actor("alice", "human")
BOT = Actor("deploy-bot", "agent", "claude", "4.5")


def test_entries_chain_to_each_other_and_carry_the_actor(store, clock):
    log = AuditLog(store, AUDIT_KEY, clock)
    first = log.append("proposal", BOT, "act-1", {"action": "restart"})
    clock.advance()
    second = log.append("approval", ALICE, "act-1", {"accepted": True})
    assert first["seq"] == 1 and first["prev"] == ZERO_HASH
    assert second["seq"] == 2 and second["prev"] == first["hash"]
    assert second["actor"] == {"id": "alice", "kind": "human"}
    assert first["actor"] == {"id": "deploy-bot", "kind": "agent", "model": "claude",
                              "model_version": "4.5"}
    assert second["t"] == first["t"] + 1_000_000
    assert first["time"] == "2026-04-01T00:00:00Z"


def test_each_entry_hash_covers_its_body_and_is_signed(store, clock):
    log = AuditLog(store, AUDIT_KEY, clock)
    entry = log.append("admin", ALICE, "switch:global", {"paused": True})
    assert entry["hash"] == digest(entry_body(entry))
    assert entry["key_id"] == AUDIT_KEY.key_id
    assert verify_signature(AUDIT_KEY.public_b64, entry["sig"], entry["hash"].encode())


def test_secrets_are_redacted_before_they_are_written(store, clock):
    log = AuditLog(store, AUDIT_KEY, clock)
    log.append("proposal", BOT, "act-1", {"inputs": {"key": "DB_PASSWORD", "value": "hunter2",
                                                     "api_token": "abc123"}})
    _, stored = store.read_log("audit")[0]
    text = str(stored)
    assert "hunter2" not in text and "abc123" not in text
    assert stored["data"]["inputs"]["key"] == "DB_PASSWORD"
    assert stored["data"]["inputs"]["value"].startswith("[redacted hmac:")


def test_without_a_key_nothing_can_be_appended(store, clock):
    log = AuditLog(store, None, clock)
    assert not log.ready
    with pytest.raises(AuditUnavailable, match="CCM_AUDIT_KEY"):
        log.append("execution", BOT, "act-1", {})
    assert store.read_log("audit") == []


def test_an_unknown_entry_kind_is_a_programming_error(store, clock):
    with pytest.raises(ValueError, match="unknown audit entry kind"):
        AuditLog(store, AUDIT_KEY, clock).append("gossip", BOT, "x", {})


def test_the_signed_head_follows_the_last_entry_and_the_key_is_recorded(store, clock):
    log = AuditLog(store, AUDIT_KEY, clock)
    for i in range(3):
        last = log.append("admin", ALICE, f"thing-{i}", {})
    head = store.get_record(RECORDS, HEAD).doc
    assert (head["seq"], head["hash"]) == (3, last["hash"])
    key = store.get_record(KEYS, AUDIT_KEY.key_id).doc
    assert key["public_key"] == AUDIT_KEY.public_b64 and key["ephemeral"] is False
    assert verify_store(store).ok
