"""Redaction of sensitive values before anything is written to the audit log or memory.

A value is replaced by ``[redacted hmac:<12 hex>]`` when its key looks secret
(password, secret, token, API key, private key, credential, authorization,
cookie), when it is any field but ``key`` of a ``{"key": K, ...}`` mapping whose
``K`` looks secret (a config change of ``DB_PASSWORD``: its ``value``,
``previous_value``, ``old`` and ``new`` alike), or when the string itself looks like a
credential (a bearer token, CCM's own ``ccm_...`` tokens, a JWT, a PEM private key, a
GitHub ``ghp_``/``github_pat_``, Slack or AWS ``AKIA``/``ASIA`` key, or the password in
``scheme://user:pass@host``). More key and value patterns come from the policy's
``redaction`` section (:class:`RedactionConfig`).

The fingerprint is an HMAC keyed with material derived from the audit signing
key, so holders of the key can tell two redacted values apart or match a known
value, and nobody else can brute-force short secrets from it. Without a key the
value is replaced by ``[redacted]``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import BaseModel, ConfigDict, field_validator

SECRET_KEY = re.compile(
    r"(pass(word|wd|phrase)?|secret|token|api[-_]?key|private[-_]?key|credential|"
    r"authori[sz]ation|^auth$|cookie|session[-_]?id|access[-_]?key)", re.I)
#: keys that look secret by name but carry public material
PUBLIC_KEYS = frozenset({"signature", "sig", "public_key", "key_id", "token_type",
                         "max_tokens"})
_VALUE_PATTERNS = (
    re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}"),
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    re.compile(r"\b(gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{22,}|"
               r"xox[abprs]-[A-Za-z0-9-]{10,}|(AKIA|ASIA)[0-9A-Z]{16})"),
    re.compile(r"\bccm_[A-Za-z0-9_-]{16,}"),
)
_URL_PASSWORD = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^/\s:@]+:)(?P<pw>[^@\s/]+)(?=@)",
                           re.I)


class RedactionConfig(BaseModel):
    """More patterns (regular expressions, case-insensitive) than the built-in ones:
    ``secret_keys`` for field and configuration key names whose values are secret,
    ``secret_values`` for strings that are credentials wherever they appear."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    secret_keys: tuple[str, ...] = ()
    secret_values: tuple[str, ...] = ()

    @field_validator("secret_keys", "secret_values")
    @classmethod
    def _regexes(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for pattern in v:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"{pattern!r} is not a regular expression ({exc})") from None
        return v


class Redactor:
    """Replaces sensitive values in JSON-like data (see the module docstring)."""

    def __init__(self, secret: bytes | None = None, config: RedactionConfig | None = None
                 ) -> None:
        self._secret = secret
        config = config or RedactionConfig()
        self._keys = [re.compile(p, re.I) for p in config.secret_keys]
        self._values = [*_VALUE_PATTERNS, *(re.compile(p, re.I) for p in config.secret_values)]

    def secret_key(self, key: str) -> bool:
        """Whether a field or configuration key's value is secret (built-in or configured)."""
        return looks_secret(key) or any(p.search(key) for p in self._keys)

    def mark(self, value: Any) -> str:
        if self._secret is None:
            return "[redacted]"
        text = value if isinstance(value, str) else repr(value)
        mac = hmac.new(self._secret, text.encode("utf-8"), hashlib.sha256).hexdigest()
        return f"[redacted hmac:{mac[:12]}]"

    def __call__(self, data: Any) -> Any:
        return self._walk(data)

    def _walk(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            return self._mapping(data)
        if isinstance(data, (list, tuple)):
            return [self._walk(v) for v in data]
        if isinstance(data, str):
            return self._string(data)
        return data

    def _mapping(self, data: Mapping[str, Any]) -> dict[str, Any]:
        pair_key = data.get("key") if isinstance(data.get("key"), str) else None
        secret_pair = bool(pair_key) and self.secret_key(pair_key)  # type: ignore[arg-type]
        out: dict[str, Any] = {}
        for k, v in data.items():
            if v is not None and (self.secret_key(str(k)) or (secret_pair and k != "key")):
                out[k] = self._whole(v)
            else:
                out[k] = self._walk(v)
        return out

    def _whole(self, v: Any) -> Any:
        if isinstance(v, (Mapping, list, tuple)) and not v:
            return v
        return self.mark(v)

    def _string(self, text: str) -> str:
        for pattern in self._values:
            if pattern.search(text):
                return self.mark(text)
        if "://" in text:
            return _URL_PASSWORD.sub(lambda m: m.group("head") + self.mark(m.group("pw")), text)
        return text


def looks_secret(key: str) -> bool:
    """True when a field or config key name suggests its value is a secret."""
    return key.lower() not in PUBLIC_KEYS and SECRET_KEY.search(key) is not None


_SEALED = re.compile(r"\[redacted hmac:[0-9a-f]{12} sealed:([A-Za-z0-9_-]+=*)\]")


class Sealer(Redactor):
    """A :class:`Redactor` whose marks the key holder can open again: each secret value
    becomes ``[redacted hmac:<12 hex> sealed:<AES-GCM ciphertext>]`` (the same fingerprint,
    and the value encrypted with a key derived from the audit signing key). Action records
    keep their secret inputs so (the executor needs them); nothing else can read them."""

    def __init__(self, secret: bytes, seal_key: bytes,
                 config: RedactionConfig | None = None) -> None:
        super().__init__(secret, config)
        self._aead = AESGCM(seal_key)
        self._nonce_key = hashlib.sha256(b"ccm-seal-nonce\x00" + seal_key).digest()

    def mark(self, value: Any) -> str:
        plain = json.dumps(value, sort_keys=True).encode("utf-8")
        # a nonce from the value: sealing the same value twice gives the same text (the
        # fingerprint already tells equal values apart), so unchanged records stay unchanged
        nonce = hmac.new(self._nonce_key, plain, hashlib.sha256).digest()[:12]
        sealed = base64.urlsafe_b64encode(nonce + self._aead.encrypt(nonce, plain, None))
        return f"{super().mark(value)[:-1]} sealed:{sealed.decode('ascii')}]"

    def unseal(self, data: Any) -> Any:
        """``data`` with every sealed value opened (the inverse of calling the sealer)."""
        if isinstance(data, Mapping):
            return {k: self.unseal(v) for k, v in data.items()}
        if isinstance(data, list):
            return [self.unseal(v) for v in data]
        if isinstance(data, str) and "sealed:" in data:
            whole = _SEALED.fullmatch(data)
            if whole:
                return self._open(whole.group(1))
            return _SEALED.sub(lambda m: str(self._open(m.group(1))), data)
        return data

    def _open(self, token: str) -> Any:
        raw = base64.urlsafe_b64decode(token)
        return json.loads(self._aead.decrypt(raw[:12], raw[12:], None))
