"""Tokens, roles, scopes and tenants (ccm.api.auth)."""

from __future__ import annotations

import json
import stat

import pytest

from ccm.api.auth import (
    ROLE_SCOPES,
    SCOPES,
    TokenEntry,
    add_token_to_file,
    hash_token,
    load_token_registry,
    new_token,
    read_token_file,
)
from ccm.errors import ConfigError
from graph_schema import parse_time


def entry(token: str, **kw) -> dict:
    return {"sha256": hash_token(token), "identity": "alice", "role": "sre", **kw}


def test_a_configured_token_authenticates_as_its_identity():
    reg = load_token_registry(None, json.dumps([entry("ccm_a", tenant="payments")]))
    who = reg.authenticate("ccm_a")
    assert who is not None and (who.id, who.role, who.tenant) == ("alice", "sre", "payments")
    assert who.scopes == ROLE_SCOPES["sre"]


def test_an_unknown_token_authenticates_as_nobody():
    reg = load_token_registry(None, json.dumps([entry("ccm_a")]))
    assert reg.authenticate("ccm_b") is None
    assert reg.authenticate("") is None


def test_only_hashes_are_configured_so_the_hash_itself_is_not_a_token():
    reg = load_token_registry(None, json.dumps([entry("ccm_a")]))
    assert reg.authenticate(hash_token("ccm_a")) is None


def test_agents_can_never_approve_flip_switches_or_read_the_audit():
    agent = ROLE_SCOPES["agent"]
    assert not {"actions:approve", "admin", "audit:read", "ingest:write"} & agent
    assert {"actions:approve", "audit:read"} <= ROLE_SCOPES["sre"]
    assert "admin" not in ROLE_SCOPES["sre"]
    assert ROLE_SCOPES["admin"] == frozenset(SCOPES)


def test_scopes_narrow_a_role_and_cannot_widen_it():
    narrowed = TokenEntry.model_validate(entry("x", scopes=["graph:read"])).identity_obj()
    assert narrowed.scopes == {"graph:read"}
    widened = TokenEntry.model_validate(
        {**entry("y", scopes=["actions:approve", "admin", "graph:read"]), "role": "agent"})
    assert widened.identity_obj().scopes == {"graph:read"}
    assert widened.beyond_role() == ["actions:approve", "admin"]


def test_only_admins_see_other_tenants():
    sre = TokenEntry.model_validate(entry("x", tenant="a")).identity_obj()
    admin = TokenEntry.model_validate({**entry("y", tenant="a"), "role": "admin"})
    assert sre.sees_tenant("a") and not sre.sees_tenant("b")
    assert admin.identity_obj().sees_tenant("b")


def test_a_token_stops_working_when_it_expires():
    now = [parse_time("2026-03-01T00:00:00Z")]
    reg = load_token_registry(None, json.dumps([entry("t", expires="2026-03-02T00:00:00Z")]),
                              clock=lambda: now[0])
    assert reg.authenticate("t") is not None
    now[0] = parse_time("2026-03-02T00:00:00Z")
    assert reg.authenticate("t") is None


@pytest.mark.parametrize("bad,field", [
    ({"sha256": "ABC"}, "sha256"),
    ({"role": "root"}, "role"),
    ({"identity": "has space"}, "identity"),
    ({"scopes": ["graph:write"]}, "scopes"),
    ({"expires": "soon"}, "expires"),
    ({"password": "x"}, "password"),
])
def test_a_bad_entry_is_refused_naming_its_index_and_field(bad, field):
    with pytest.raises(ConfigError, match=rf"CCM_API_TOKENS: tokens\[1\]\.{field}"):
        load_token_registry(None, json.dumps([entry("ok"), {**entry("bad"), **bad}]))


def test_the_same_hash_twice_is_refused():
    with pytest.raises(ConfigError, match="same hash"):
        load_token_registry(None, json.dumps([entry("a"), entry("a", identity="bob")]))


def test_invalid_json_is_refused_with_the_variable_named():
    with pytest.raises(ConfigError, match="CCM_API_TOKENS: not valid JSON"):
        load_token_registry(None, "[{")


def test_a_tokens_file_is_read_and_tokens_appended_with_private_permissions(tmp_path):
    f = tmp_path / "sub" / "tokens.yaml"
    t1, t2 = "ccm_one", "ccm_two"
    add_token_to_file(f, TokenEntry.model_validate(entry(t1)))
    add_token_to_file(f, TokenEntry.model_validate(
        {**entry(t2), "identity": "bot", "role": "agent", "scopes": ["impact:read"]}))
    assert stat.S_IMODE(f.stat().st_mode) == 0o600
    assert t1 not in f.read_text() and hash_token(t1) in f.read_text()
    assert [e.identity for e in read_token_file(f)] == ["alice", "bot"]
    reg = load_token_registry(f, None)
    who = reg.authenticate(t2)
    assert who is not None and who.scopes == {"impact:read"}


def test_a_missing_tokens_file_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot read the tokens file"):
        load_token_registry(tmp_path / "nope.yaml", None)


def test_new_tokens_are_long_prefixed_and_distinct():
    a, b = new_token(), new_token()
    assert a.startswith("ccm_") and len(a) > 40 and a != b
