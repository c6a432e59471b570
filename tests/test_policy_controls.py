"""Kill switches and sandbox grants in the store, audited as admin changes."""

from __future__ import annotations

import pytest

from ccm.audit import AuditLog, verify_store
from ccm.errors import AuditUnavailable, ConfigError, NotFound
from ccm.policy.controls import grant, list_grants, list_switches, revoke, set_switch
from tests.controlkit import ADMIN, AUDIT_KEY, HOUR


def test_a_switch_is_stored_at_once_and_audited(store, clock):
    log = AuditLog(store, AUDIT_KEY, clock)
    sw, warning = set_switch(store, log, "service:cart", by=ADMIN, paused=True,
                             reason="incident 42", now=clock())
    assert sw.paused and warning is None
    assert list_switches(store)["service:cart"].reason == "incident 42"
    set_switch(store, log, "service:cart", by=ADMIN, paused=False, now=clock())
    assert not list_switches(store)["service:cart"].paused
    entries = [e for _, e in store.read_log("audit")]
    assert [e["data"]["paused"] for e in entries] == [True, False]
    assert verify_store(store).ok


def test_a_switch_works_even_without_an_audit_key(store, clock):
    sw, warning = set_switch(store, AuditLog(store, None, clock), "global", by=ADMIN,
                             dry_run=True, now=clock())
    assert sw.dry_run and "not audited" in warning


def test_a_bad_scope_is_refused(store, clock):
    with pytest.raises(ConfigError, match="switch scope 'planet:earth'"):
        set_switch(store, AuditLog(store, AUDIT_KEY, clock), "planet:earth", by=ADMIN,
                   paused=True, now=clock())


def test_grants_are_time_bound_and_revocable(store, clock):
    log = AuditLog(store, AUDIT_KEY, clock)
    g = grant(store, log, agent="bot", actions=["restart"], targets=["service:*"],
              expires_at=clock() + HOUR, by=ADMIN, now=clock())
    assert g.status(clock()) == "active" and g.status(clock() + HOUR) == "expired"
    clock.advance()
    r = revoke(store, log, g.id, by=ADMIN, now=clock())
    assert r.status(clock()) == "revoked"
    again = revoke(store, log, g.id, by=ADMIN, now=clock() + 5)
    assert again.revoked_at == r.revoked_at
    assert [x.id for x in list_grants(store, "bot")] == [g.id] and list_grants(store, "x") == []
    kinds = [e["data"]["change"] for _, e in store.read_log("audit")]
    assert kinds == ["grant", "revoke"]


def test_granting_needs_the_audit_key_and_a_future_expiry(store, clock):
    with pytest.raises(AuditUnavailable):
        grant(store, AuditLog(store, None, clock), agent="bot", actions=["*"], targets=["*"],
              expires_at=clock() + HOUR, by=ADMIN, now=clock())
    with pytest.raises(ConfigError, match="expire in the future"):
        grant(store, AuditLog(store, AUDIT_KEY, clock), agent="bot", actions=["*"],
              targets=["*"], expires_at=clock(), by=ADMIN, now=clock())
    with pytest.raises(NotFound):
        revoke(store, AuditLog(store, AUDIT_KEY, clock), "grant-nope", by=ADMIN, now=clock())
