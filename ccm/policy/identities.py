"""The identity registry: agents and humans that may propose or approve actions.

An identity is stored as a record (collection ``identities``) with its Ed25519
public key; an agent also declares its model and its expected behaviour (the
drift detection rule compares what it does with what it declared)::

    identities:
      - id: deploy-bot
        kind: agent
        public_key: "<base64 raw Ed25519 public key>"
        model: claude-sonnet
        model_version: "4.5"
        zones: [internal]              # trust zones it may act in (empty: any)
        declared:
          action_mix: {deploy: 0.6, rollback: 0.2, config_change: 0.2}
          max_plan_length: 5
          calls_per_minute: 6
      - id: alice
        kind: human
        public_key: "..."
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from ccm.audit.keys import public_key_from_b64
from ccm.errors import ConfigError, NotFound
from ccm.store import Store
from ccm.yamlconf import YamlDoc

COLLECTION = "identities"
KINDS = ("agent", "human")
_DECLARED = {"action_mix", "max_plan_length", "calls_per_minute"}


@dataclass(frozen=True)
class IdentityRecord:
    """A registered agent or human."""

    id: str
    kind: str
    public_key: str
    model: str = ""
    model_version: str = ""
    zones: tuple[str, ...] = ()
    declared: Mapping[str, Any] = field(default_factory=dict)
    revoked: bool = False
    registered_at: int = 0

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["zones"] = list(self.zones)
        out["declared"] = dict(self.declared)
        return out

    @classmethod
    def from_dict(cls, raw: Any, where: str = "identity") -> IdentityRecord:
        if not isinstance(raw, Mapping):
            raise ConfigError(f"{where}: expected a mapping")
        known = {"id", "kind", "public_key", "model", "model_version", "zones", "declared",
                 "revoked", "registered_at"}
        unknown = sorted(set(raw) - known)
        if unknown:
            raise ConfigError(f"{where}.{unknown[0]}: unknown field (known: "
                              f"{', '.join(sorted(known))})")
        if not isinstance(raw.get("id"), str) or not raw["id"] or ":" in raw["id"]:
            raise ConfigError(f"{where}.id: required, a name without ':' (value "
                              f"{raw.get('id')!r})")
        if raw.get("kind") not in KINDS:
            raise ConfigError(f"{where}.kind: expected agent or human (value "
                              f"{raw.get('kind')!r})")
        public_key_from_b64(str(raw.get("public_key", "")), f"{where}.public_key")
        declared = raw.get("declared") or {}
        if not isinstance(declared, Mapping) or set(declared) - _DECLARED:
            raise ConfigError(f"{where}.declared: expected a mapping with "
                              f"{', '.join(sorted(_DECLARED))}")
        mix = declared.get("action_mix", {})
        if not isinstance(mix, Mapping) or any(
                not isinstance(v, int | float) or v < 0 for v in mix.values()):
            raise ConfigError(f"{where}.declared.action_mix: expected action: share (>= 0)")
        zones = raw.get("zones") or []
        if not isinstance(zones, list) or not all(isinstance(z, str) for z in zones):
            raise ConfigError(f"{where}.zones: expected a list of zone names")
        return cls(raw["id"], raw["kind"], str(raw["public_key"]).strip(),
                   str(raw.get("model", "")), str(raw.get("model_version", "")),
                   tuple(zones), dict(declared), bool(raw.get("revoked", False)),
                   int(raw.get("registered_at", 0)))


def get_identity(store: Store, identity_id: str) -> IdentityRecord | None:
    rec = store.get_record(COLLECTION, identity_id)
    return IdentityRecord.from_dict(rec.doc, f"identity {identity_id}") if rec else None


def list_identities(store: Store) -> list[IdentityRecord]:
    return [IdentityRecord.from_dict(r.doc, f"identity {r.key}")
            for r in store.list_records(COLLECTION)]


def put_identity(store: Store, identity: IdentityRecord) -> int:
    """Register or replace an identity (callers audit it as an admin change)."""
    return store.put_record(COLLECTION, identity.id, identity.to_dict())


def revoke_identity(store: Store, identity_id: str) -> IdentityRecord:
    rec = store.get_record(COLLECTION, identity_id)
    if rec is None:
        raise NotFound(f"no identity {identity_id!r} is registered")
    store.put_record(COLLECTION, identity_id, {**rec.doc, "revoked": True},
                     expected_rev=rec.rev)
    return IdentityRecord.from_dict({**rec.doc, "revoked": True})


def read_identities_file(path: str) -> list[IdentityRecord]:
    """Identities from a YAML file ``{identities: [...]}`` (see the module docstring)."""
    doc = YamlDoc.read(path)
    items = doc.data.get("identities") if isinstance(doc.data, Mapping) else None
    if not isinstance(items, list):
        raise doc.error(["identities"], "expected a list of identities")
    out = []
    for i, raw in enumerate(items):
        try:
            out.append(IdentityRecord.from_dict(raw, f"identities[{i}]"))
        except ConfigError as exc:
            raise ConfigError(f"{doc.source}:{doc.line(['identities', i])}: {exc}") from None
    return out
