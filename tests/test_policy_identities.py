"""The identity registry: agents and humans with their keys and declared behaviour."""

from __future__ import annotations

import pytest

from ccm.errors import ConfigError, NotFound
from ccm.policy.identities import (
    IdentityRecord,
    get_identity,
    list_identities,
    put_identity,
    read_identities_file,
    revoke_identity,
)
from tests.controlkit import AGENT_KEY


def test_identities_are_stored_listed_and_revoked(store):
    put_identity(store, IdentityRecord("bot", "agent", AGENT_KEY.public_b64, "claude", "4.5",
                                       ("internal",), {"max_plan_length": 3}))
    got = get_identity(store, "bot")
    assert got is not None and got.zones == ("internal",) and got.declared == {
        "max_plan_length": 3}
    assert [i.id for i in list_identities(store)] == ["bot"]
    assert revoke_identity(store, "bot").revoked and get_identity(store, "bot").revoked
    with pytest.raises(NotFound):
        revoke_identity(store, "nobody")


def test_an_identities_file_is_read_and_errors_name_the_entry(tmp_path):
    good = tmp_path / "ids.yaml"
    good.write_text(f"identities:\n  - id: alice\n    kind: human\n    public_key: "
                    f"{AGENT_KEY.public_b64}\n")
    assert read_identities_file(str(good))[0].kind == "human"
    bad = tmp_path / "bad.yaml"
    bad.write_text(f"identities:\n  - id: alice\n    kind: robot\n    public_key: "
                   f"{AGENT_KEY.public_b64}\n")
    with pytest.raises(ConfigError, match=r"bad.yaml:2: identities\[0\].kind: expected agent or human \(value 'robot'\)"):
        read_identities_file(str(bad))


@pytest.mark.parametrize("raw, message", [
    ({"id": "a:b", "kind": "agent"}, "id: required, a name without ':'"),
    ({"id": "a", "kind": "agent", "public_key": "bm9wZQ=="}, "public_key must be 32 raw"),
    ({"id": "a", "kind": "agent", "public_key": AGENT_KEY.public_b64,
      "declared": {"mood": "calm"}}, "declared: expected a mapping with"),
    ({"id": "a", "kind": "agent", "public_key": AGENT_KEY.public_b64,
      "declared": {"action_mix": {"deploy": -1}}}, "action_mix"),
])
def test_bad_identities_are_refused(raw, message):
    with pytest.raises(ConfigError, match=message):
        IdentityRecord.from_dict(raw)
