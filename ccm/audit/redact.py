"""Redaction of sensitive values before anything is written to the audit log or memory.

A value is replaced by ``[redacted hmac:<12 hex>]`` when its key looks secret
(password, secret, token, API key, private key, credential, authorization,
cookie), when it is the ``value`` of a ``{"key": K, "value": V}`` pair whose
``K`` looks secret (a config change of ``DB_PASSWORD``), or when the string
itself looks like a credential (a bearer token, a JWT, a PEM private key, a
GitHub/Slack/AWS token, or the password in ``scheme://user:pass@host``).

The fingerprint is an HMAC keyed with material derived from the audit signing
key, so holders of the key can tell two redacted values apart or match a known
value, and nobody else can brute-force short secrets from it. Without a key the
value is replaced by ``[redacted]``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from typing import Any

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
    re.compile(r"\b(gh[pousr]_[A-Za-z0-9]{30,}|xox[abprs]-[A-Za-z0-9-]{10,}|AKIA[0-9A-Z]{16})"),
)
_URL_PASSWORD = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^/\s:@]+:)(?P<pw>[^@\s/]+)(?=@)",
                           re.I)


class Redactor:
    """Replaces sensitive values in JSON-like data (see the module docstring)."""

    def __init__(self, secret: bytes | None = None) -> None:
        self._secret = secret

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
        secret_pair = bool(pair_key) and looks_secret(pair_key)  # type: ignore[arg-type]
        out: dict[str, Any] = {}
        for k, v in data.items():
            if v is not None and (looks_secret(str(k)) or (
                    secret_pair and k in ("value", "old", "new"))):
                out[k] = self._whole(v)
            else:
                out[k] = self._walk(v)
        return out

    def _whole(self, v: Any) -> Any:
        if isinstance(v, (Mapping, list, tuple)) and not v:
            return v
        return self.mark(v)

    def _string(self, text: str) -> str:
        for pattern in _VALUE_PATTERNS:
            if pattern.search(text):
                return self.mark(text)
        if "://" in text:
            return _URL_PASSWORD.sub(lambda m: m.group("head") + self.mark(m.group("pw")), text)
        return text


def looks_secret(key: str) -> bool:
    """True when a field or config key name suggests its value is a secret."""
    return key.lower() not in PUBLIC_KEYS and SECRET_KEY.search(key) is not None
