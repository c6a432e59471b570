"""The audit signing key comes only from the environment."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization

from ccm.audit.keys import Signer, load_signer, read_public_key, verify_signature
from ccm.errors import ConfigError
from tests.controlkit import AUDIT_KEY


def test_no_key_in_the_environment_means_no_signer():
    assert load_signer({}) is None


def test_the_key_is_read_from_ccm_audit_key():
    signer = load_signer({"CCM_AUDIT_KEY": AUDIT_KEY.private_b64()})
    assert signer is not None and signer.key_id == AUDIT_KEY.key_id
    assert not signer.ephemeral_key


def test_the_key_is_read_from_a_file_as_base64_or_pem(tmp_path):
    b64 = tmp_path / "key.b64"
    b64.write_text(AUDIT_KEY.private_b64() + "\n")
    pem = tmp_path / "key.pem"
    pem.write_bytes(AUDIT_KEY.private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    for path in (b64, pem):
        signer = load_signer({"CCM_AUDIT_KEY_FILE": str(path)})
        assert signer is not None and signer.public_b64 == AUDIT_KEY.public_b64


@pytest.mark.parametrize("env, message", [
    ({"CCM_AUDIT_KEY": "not base64!"}, "CCM_AUDIT_KEY is not valid base64"),
    ({"CCM_AUDIT_KEY": "c2hvcnQ="}, "CCM_AUDIT_KEY must be a raw 32-byte"),
    ({"CCM_AUDIT_KEY_FILE": "/nonexistent/key"}, "CCM_AUDIT_KEY_FILE: cannot read"),
])
def test_an_unusable_key_is_an_error_naming_the_variable(env, message):
    with pytest.raises(ConfigError, match=message):
        load_signer(env)


def test_an_ephemeral_key_says_so_and_signs():
    signer = Signer.ephemeral()
    assert signer.ephemeral_key
    assert verify_signature(signer.public_b64, signer.sign(b"data"), b"data")
    assert not verify_signature(signer.public_b64, signer.sign(b"data"), b"other")


def test_a_public_key_is_read_as_text_or_from_a_file(tmp_path):
    assert read_public_key(AUDIT_KEY.public_b64) == AUDIT_KEY.public_b64
    f = tmp_path / "audit.pub"
    f.write_text(AUDIT_KEY.public_b64 + "\n")
    assert read_public_key(str(f)) == AUDIT_KEY.public_b64
    pem = tmp_path / "audit.pem"
    pem.write_bytes(AUDIT_KEY.private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    assert read_public_key(str(pem)) == AUDIT_KEY.public_b64
    with pytest.raises(ConfigError, match="public key"):
        read_public_key("bm9wZQ==")
