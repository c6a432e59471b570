"""Bearer tokens, roles, scopes and tenants.

A client sends ``Authorization: Bearer <token>``. CCM never stores tokens, only
their SHA-256 hashes, each bound to an identity (who is acting, for the audit),
a role, scopes and a tenant::

    # $CCM_API_TOKENS_FILE (YAML), or the same list as JSON in $CCM_API_TOKENS
    tokens:
      - sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
        identity: alice          # who acts; every mutating call is audited as this
        role: sre                # agent | sre | admin
        tenant: payments         # default: "default"
        scopes: [graph:read, actions:approve]   # optional: narrows the role's scopes
        expires: 2026-12-31T00:00:00Z           # optional

``ccm token create --role sre --identity alice`` makes a token, appends its hash
to the file and prints the token once.

A role is a ceiling: a token's scopes can only narrow it. Agents can never
approve actions, flip the kill switch or manage grants, whatever their entry
says. Presented tokens are hashed and compared with every configured hash in
constant time; tokens are never logged.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ccm.errors import ConfigError
from ccm.ops.access import Identity
from graph_schema import TimeParseError, parse_time
from graph_schema.timeutil import now_micros

__all__ = [
    "ROLES", "ROLE_SCOPES", "SCOPES", "Identity", "TokenEntry", "TokenRegistry",
    "add_token_to_file", "hash_token", "load_token_registry", "new_token",
]

Role = Literal["agent", "sre", "admin"]
ROLES: tuple[str, ...] = ("agent", "sre", "admin")

#: every scope, and what it allows
SCOPES: dict[str, str] = {
    "graph:read": "read the graph at a time, neighbourhoods, diffs, node histories",
    "impact:read": "predict the blast radius and policy verdict of an action (dry run)",
    "rca:read": "rank root-cause chains for symptoms or alerts",
    "actions:read": "read actions of the token's tenant",
    "actions:propose": "propose actions",
    "actions:execute": "execute an allowed action",
    "actions:report": "report the outcome of an executed action",
    "memory:read": "read memory (outcomes, learned patterns) of the token's tenant",
    "actions:approve": "approve actions under review",
    "ingest:write": "ingest production context (files, Alertmanager webhooks)",
    "audit:read": "read and verify the audit log",
    "admin": "flip the kill switch, manage grants, see every tenant",
}
_AGENT = ("graph:read", "impact:read", "rca:read", "actions:read", "actions:propose",
          "actions:execute", "actions:report", "memory:read")
_SRE = (*_AGENT, "actions:approve", "ingest:write", "audit:read")
#: the most each role may do (a token's ``scopes`` can only narrow this)
ROLE_SCOPES: dict[str, frozenset[str]] = {
    "agent": frozenset(_AGENT),
    "sre": frozenset(_SRE),
    "admin": frozenset(SCOPES),
}
TOKEN_PREFIX = "ccm_"


class TokenEntry(BaseModel):
    """One configured token: its hash and the identity it stands for."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sha256: str = Field(pattern=r"^[0-9a-f]{64}$",
                        description="hex SHA-256 of the token (lowercase)")
    identity: str = Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_.@+\-]+$")
    role: Role
    tenant: str = Field(default="default", min_length=1, max_length=200,
                        pattern=r"^[A-Za-z0-9_.\-]+$")
    scopes: tuple[str, ...] | None = None
    expires: str | None = None

    @field_validator("scopes")
    @classmethod
    def _known_scopes(cls, v: tuple[str, ...] | None) -> tuple[str, ...] | None:
        for s in v or ():
            if s not in SCOPES:
                raise ValueError(f"unknown scope {s!r} (known: {', '.join(SCOPES)})")
        return v

    @field_validator("expires")
    @classmethod
    def _time(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                parse_time(v)
            except TimeParseError as exc:
                raise ValueError(str(exc)) from None
        return v

    def identity_obj(self) -> Identity:
        ceiling = ROLE_SCOPES[self.role]
        scopes = ceiling if self.scopes is None else frozenset(self.scopes) & ceiling
        return Identity(self.identity, self.role, scopes, self.tenant)

    def beyond_role(self) -> list[str]:
        """Scopes listed that the role can never have (they are ignored)."""
        return sorted(set(self.scopes or ()) - ROLE_SCOPES[self.role])


class TokenRegistry:
    """The configured token hashes; :meth:`authenticate` a presented token."""

    def __init__(self, entries: Iterable[TokenEntry], clock: Callable[[], int] | None = None):
        self.entries = list(entries)
        self._expires = [parse_time(e.expires) if e.expires else None for e in self.entries]
        self._digests = [bytes.fromhex(e.sha256) for e in self.entries]
        self._identities = [e.identity_obj() for e in self.entries]
        self._clock = clock or now_micros

    def __len__(self) -> int:
        return len(self.entries)

    def authenticate(self, token: str) -> Identity | None:
        """The identity of ``token``, or None. Compares with every hash (no early exit)."""
        presented = hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()
        found = -1
        for i, digest in enumerate(self._digests):
            if hmac.compare_digest(digest, presented):
                found = i
        if found < 0:
            return None
        expires = self._expires[found]
        if expires is not None and self._clock() >= expires:
            return None
        return self._identities[found]


def new_token() -> str:
    """A fresh random token (256 bits)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """The hex SHA-256 of a token, as configured."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _entries(raw: Any, where: str) -> list[TokenEntry]:
    items = raw.get("tokens") if isinstance(raw, Mapping) else raw
    if items is None:
        items = []
    if not isinstance(items, list):
        raise ConfigError(f"{where}: expected a list of token entries (or {{tokens: [...]}})")
    out: list[TokenEntry] = []
    seen: dict[str, int] = {}
    for i, item in enumerate(items):
        try:
            entry = TokenEntry.model_validate(item)
        except ValidationError as exc:
            err = exc.errors()[0]
            field = ".".join(str(p) for p in err["loc"]) or "(entry)"
            raise ConfigError(f"{where}: tokens[{i}].{field}: {err['msg']}") from None
        if entry.sha256 in seen:
            raise ConfigError(f"{where}: tokens[{i}].sha256: the same hash as "
                              f"tokens[{seen[entry.sha256]}]; each token names one identity")
        seen[entry.sha256] = i
        out.append(entry)
    return out


def read_token_file(path: Path) -> list[TokenEntry]:
    try:
        text = path.expanduser().read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read the tokens file {path} "
                          f"(CCM_API_TOKENS_FILE): {exc.strerror}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({exc})") from None
    return _entries(data, str(path))


def load_token_registry(tokens_file: Path | None, tokens_json: str | None,
                        clock: Callable[[], int] | None = None) -> TokenRegistry:
    """Every configured token: from the file and from the JSON variable."""
    entries: list[TokenEntry] = []
    if tokens_file is not None:
        entries += read_token_file(tokens_file)
    if tokens_json:
        try:
            data = json.loads(tokens_json)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"CCM_API_TOKENS: not valid JSON ({exc.msg} at "
                              f"character {exc.pos})") from None
        entries += _entries(data, "CCM_API_TOKENS")
    hashes = [e.sha256 for e in entries]
    if len(set(hashes)) != len(hashes):
        raise ConfigError("the same token hash appears in CCM_API_TOKENS_FILE and "
                          "CCM_API_TOKENS; each token names one identity")
    return TokenRegistry(entries, clock)


def add_token_to_file(path: Path, entry: TokenEntry) -> None:
    """Append ``entry`` to the tokens file (created 0600 if missing), atomically."""
    path = path.expanduser()
    current = read_token_file(path) if path.exists() else []
    docs = [e.model_dump(exclude_none=True) for e in [*current, entry]]
    for d in docs:
        if "scopes" in d:
            d["scopes"] = list(d["scopes"])
    text = ("# CCM API tokens: SHA-256 hashes only (ccm token create). See docs/api.md.\n"
            + yaml.safe_dump({"tokens": docs}, sort_keys=False))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)
