"""Ed25519 keys: the audit signing key (from the environment only) and public keys.

The audit log is signed with one Ed25519 private key read from the environment:

- ``CCM_AUDIT_KEY``: the raw 32-byte private key, base64-encoded; or
- ``CCM_AUDIT_KEY_FILE``: a file holding that base64 text, or a PKCS#8 PEM key.

Nothing else is read: no default key, no key in the store. Demos and tests make
an ephemeral key with :meth:`Signer.ephemeral` and say so.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ccm.audit.canonical import sha256_hex
from ccm.errors import ConfigError

KEY_ENV = "CCM_AUDIT_KEY"
KEY_FILE_ENV = "CCM_AUDIT_KEY_FILE"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ConfigError(f"{what} is not valid base64") from None


def key_id(public_raw: bytes) -> str:
    """A short stable name for a public key: the first 16 hex digits of its sha256."""
    return sha256_hex(public_raw)[:16]


def public_key_from_b64(text: str, what: str = "public key") -> Ed25519PublicKey:
    raw = unb64(text, what)
    if len(raw) != 32:
        raise ConfigError(f"{what} must be 32 raw bytes (base64), got {len(raw)} bytes")
    return Ed25519PublicKey.from_public_bytes(raw)


def public_raw(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def verify_signature(public_b64: str, signature_b64: str, data: bytes) -> bool:
    """True when ``signature_b64`` is a valid Ed25519 signature of ``data``."""
    try:
        key = public_key_from_b64(public_b64)
        key.verify(base64.b64decode(signature_b64, validate=True), data)
    except (InvalidSignature, ConfigError, binascii.Error, ValueError):
        return False
    return True


@dataclass(frozen=True)
class Signer:
    """An Ed25519 private key that signs audit entries (or proposals, approvals)."""

    private: Ed25519PrivateKey = field(repr=False)
    ephemeral_key: bool = False

    @classmethod
    def from_b64(cls, text: str, what: str = KEY_ENV) -> Signer:
        raw = unb64(text, what)
        if len(raw) != 32:
            raise ConfigError(f"{what} must be a raw 32-byte Ed25519 private key in base64 "
                              f"(got {len(raw)} bytes)")
        return cls(Ed25519PrivateKey.from_private_bytes(raw))

    @classmethod
    def from_file(cls, path: str | Path, what: str = KEY_FILE_ENV) -> Signer:
        p = Path(path).expanduser()
        try:
            data = p.read_bytes()
        except OSError as exc:
            raise ConfigError(f"{what}: cannot read {p}: {exc.strerror}") from None
        if b"-----BEGIN" in data:
            try:
                key = serialization.load_pem_private_key(data, password=None)
            except (ValueError, TypeError) as exc:
                raise ConfigError(f"{what}: {p} is not an unencrypted PEM key: {exc}") from None
            if not isinstance(key, Ed25519PrivateKey):
                raise ConfigError(f"{what}: {p} holds a {type(key).__name__}, not Ed25519")
            return cls(key)
        return cls.from_b64(data.decode("ascii", "replace"), f"{what} ({p})")

    @classmethod
    def ephemeral(cls) -> Signer:
        """A fresh key that lives only in this process (demos and tests)."""
        return cls(Ed25519PrivateKey.generate(), ephemeral_key=True)

    @property
    def public_b64(self) -> str:
        return b64(public_raw(self.private.public_key()))

    @property
    def key_id(self) -> str:
        return key_id(public_raw(self.private.public_key()))

    def private_b64(self) -> str:
        """The raw private key, base64 (for writing a key file; handle with care)."""
        return b64(self.private.private_bytes(serialization.Encoding.Raw,
                                              serialization.PrivateFormat.Raw,
                                              serialization.NoEncryption()))

    def sign(self, data: bytes) -> str:
        return b64(self.private.sign(data))

    def secret_material(self, purpose: bytes = b"ccm-redact") -> bytes:
        """Bytes derived from the private key for ``purpose``: keyed hashes of redacted
        values (the default), ``ccm-seal`` for sealing secret values at rest."""
        raw = self.private.private_bytes(serialization.Encoding.Raw,
                                         serialization.PrivateFormat.Raw,
                                         serialization.NoEncryption())
        return bytes.fromhex(sha256_hex(purpose + b"\x00" + raw))


def load_signer(env: Mapping[str, str] | None = None) -> Signer | None:
    """The audit signing key from ``CCM_AUDIT_KEY`` or ``CCM_AUDIT_KEY_FILE``; None if
    neither is set. A set but unusable value raises ConfigError naming it."""
    env = os.environ if env is None else env
    if env.get(KEY_ENV):
        return Signer.from_b64(env[KEY_ENV], KEY_ENV)
    if env.get(KEY_FILE_ENV):
        return Signer.from_file(env[KEY_FILE_ENV], KEY_FILE_ENV)
    return None


def read_public_key(value: str) -> str:
    """A public key given as base64 text, or as a file holding base64 or a PEM key;
    returns the raw key in base64."""
    p = Path(value).expanduser()
    text = value
    if len(value) < 4096 and p.is_file():
        data = p.read_bytes()
        if b"-----BEGIN" in data:
            try:
                key = serialization.load_pem_public_key(data)
            except ValueError as exc:
                raise ConfigError(f"{p} is not a PEM public key: {exc}") from None
            if not isinstance(key, Ed25519PublicKey):
                raise ConfigError(f"{p} holds a {type(key).__name__}, not an Ed25519 key")
            return b64(public_raw(key))
        text = data.decode("ascii", "replace").strip()
    public_key_from_b64(text, f"public key {value!r}")
    return text.strip()
