"""Admin controls: kill switches (pause, dry-run), sandbox grants, identities, autonomy.

Every change is an audit entry of kind ``admin``. A switch takes effect even when
no audit key is configured (stopping must always be possible; without a key
nothing executes anyway); granting access needs the audit log.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import suppress
from dataclasses import replace
from typing import Any

from ccm.audit.canonical import digest
from ccm.audit.log import Actor, AuditLog
from ccm.errors import AuditUnavailable, ConfigError, NotFound
from ccm.policy.autonomy import autonomy_key, set_level
from ccm.policy.context import Grant, Switch
from ccm.policy.identities import IdentityRecord, put_identity, revoke_identity
from ccm.policy.records import update_record
from ccm.store import Store
from graph_schema import NODE_KIND_MAP

SWITCHES, GRANTS = "switches", "grants"


def check_scope(scope: str) -> str:
    """``global``, ``agent:<id>``, ``action:<type>`` or a node reference."""
    if scope == "global":
        return scope
    kind, _, name = scope.partition(":")
    if not name or (kind not in ("agent", "action") and kind not in NODE_KIND_MAP):
        raise ConfigError(f"switch scope {scope!r}: use global, agent:<id>, action:<type> or "
                          "a node reference like service:cart")
    return scope


def set_switch(store: Store, audit: AuditLog, scope: str, *, by: Actor,
               paused: bool | None = None, dry_run: bool | None = None, reason: str = "",
               now: int) -> tuple[Switch, str | None]:
    """Throw or release a switch at once; returns it and a warning if it could not
    be audited."""
    check_scope(scope)

    def change(doc: dict[str, Any]) -> None:
        doc["scope"] = scope
        if paused is not None:
            doc["paused"] = paused
        if dry_run is not None:
            doc["dry_run"] = dry_run
        doc.update(by=by.id, reason=reason, at=now)

    doc = update_record(store, SWITCHES, scope, change)
    switch = Switch.from_dict(doc)
    try:
        audit.append("admin", by, f"switch:{scope}", {"change": "kill_switch", **doc})
    except AuditUnavailable as exc:
        return switch, f"the switch is set but was not audited: {exc}"
    return switch, None


def list_switches(store: Store) -> dict[str, Switch]:
    return {r.key: Switch.from_dict(r.doc) for r in store.list_records(SWITCHES)}


def grant(store: Store, audit: AuditLog, *, agent: str, actions: Sequence[str],
          targets: Sequence[str], expires_at: int, by: Actor, now: int,
          reason: str = "") -> Grant:
    """Give ``agent`` write access to ``targets`` for ``actions`` until ``expires_at``."""
    if not audit.ready:
        raise AuditUnavailable("grants are admin changes and need the audit key "
                               "(CCM_AUDIT_KEY or CCM_AUDIT_KEY_FILE)")
    if not actions or not targets:
        raise ConfigError("a grant names at least one action and one target pattern")
    if expires_at <= now:
        raise ConfigError("a grant must expire in the future")
    gid = "grant-" + digest([agent, list(actions), list(targets), expires_at, now, by.id])[:12]
    g = Grant(gid, agent, tuple(actions), tuple(targets), expires_at, now, by.id, None, reason)
    store.put_record(GRANTS, gid, g.to_dict())
    audit.append("admin", by, gid, {"change": "grant", **g.to_dict()})
    return g


def revoke(store: Store, audit: AuditLog, grant_id: str, *, by: Actor, now: int,
           reason: str = "") -> Grant:
    """Revoke a grant from ``now`` on (idempotent)."""
    if store.get_record(GRANTS, grant_id) is None:
        raise NotFound(f"no grant {grant_id!r}")

    changed = []

    def change(doc: dict[str, Any]) -> bool:
        if doc.get("revoked_at") is not None:
            return False
        doc["revoked_at"] = now
        changed.append(True)
        return True

    doc = update_record(store, GRANTS, grant_id, change)
    if not changed:
        return Grant.from_dict(doc)
    with suppress(AuditUnavailable):  # revoking narrows access: it stands even unaudited
        audit.append("admin", by, grant_id, {"change": "revoke", "reason": reason, **doc})
    return Grant.from_dict(doc)


def list_grants(store: Store, agent: str | None = None) -> list[Grant]:
    grants = [Grant.from_dict(r.doc) for r in store.list_records(GRANTS)]
    return [g for g in grants if agent is None or g.agent == agent]


def register_identities(store: Store, audit: AuditLog, identities: Sequence[IdentityRecord],
                        *, by: Actor, now: int) -> list[IdentityRecord]:
    """Register (or replace) identities: who may propose and approve. Needs the audit log."""
    if not audit.ready:
        raise AuditUnavailable("registering identities is an admin change and needs the "
                               "audit key (CCM_AUDIT_KEY or CCM_AUDIT_KEY_FILE)")
    out = []
    for ident in identities:
        stamped = replace(ident, registered_at=now)
        put_identity(store, stamped)
        audit.append("admin", by, f"identity:{ident.id}",
                     {"change": "identity", "identity": stamped.to_dict()})
        out.append(stamped)
    return out


def revoke_identity_audited(store: Store, audit: AuditLog, identity_id: str, *, by: Actor
                            ) -> IdentityRecord:
    ident = revoke_identity(store, identity_id)
    with suppress(AuditUnavailable):  # revoking narrows access: it stands even unaudited
        audit.append("admin", by, f"identity:{identity_id}", {"change": "revoke_identity"})
    return ident


def set_autonomy(store: Store, audit: AuditLog, *, tenant: str, action: str, target: str,
                 level: str, by: Actor, now: int) -> dict[str, Any]:
    """Set an earned-autonomy level by hand (an audited admin change)."""
    if not audit.ready:
        raise AuditUnavailable("setting autonomy is an admin change and needs the audit key")
    doc = set_level(store, autonomy_key(tenant, action, target), level, now, by.id)
    audit.append("admin", by, f"autonomy:{autonomy_key(tenant, action, target)}",
                 {"change": "autonomy", "level": level})
    return doc
