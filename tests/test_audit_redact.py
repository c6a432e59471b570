"""Sensitive values are redacted (or keyed-hashed) before they are written."""

from __future__ import annotations

from ccm.audit.redact import Redactor, looks_secret

SECRET = b"k" * 32


def test_values_of_secret_looking_keys_are_replaced():
    out = Redactor(SECRET)({"password": "hunter2", "API_KEY": "abc", "user": "bob",
                            "nested": {"client_secret": "s3"}, "authorization": "Basic x"})
    assert out["user"] == "bob"
    for k in ("password", "API_KEY", "authorization"):
        assert out[k].startswith("[redacted hmac:")
    assert out["nested"]["client_secret"].startswith("[redacted hmac:")


def test_the_value_of_a_secret_config_key_is_redacted_but_the_key_name_kept():
    out = Redactor(SECRET)({"key": "DB_PASSWORD", "value": "hunter2", "previous_value": "x",
                            "old": "a", "new": "b"})
    assert out["key"] == "DB_PASSWORD"
    assert out["value"].startswith("[redacted") and out["old"].startswith("[redacted")
    assert out["new"].startswith("[redacted")
    plain = Redactor(SECRET)({"key": "REDIS_ADDR", "value": "redis:6379"})
    assert plain == {"key": "REDIS_ADDR", "value": "redis:6379"}


def test_credential_shaped_strings_are_redacted_wherever_they_are():
    r = Redactor(SECRET)
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJlX3ZhbHVl"
    assert r(["Bearer abcdefghijklmnop"])[0].startswith("[redacted")
    assert r({"note": jwt})["note"].startswith("[redacted")
    assert r("ghp_" + "a" * 36).startswith("[redacted")
    assert r("AKIAABCDEFGHIJKLMNOP").startswith("[redacted")
    assert r("-----BEGIN PRIVATE KEY-----\nMII...").startswith("[redacted")
    assert r("restart the cart service") == "restart the cart service"


def test_the_password_in_a_url_is_redacted_and_the_rest_kept():
    out = Redactor(SECRET)("postgres://app:s3cret@db:5432/orders")
    assert out.startswith("postgres://app:[redacted hmac:") and out.endswith("@db:5432/orders")
    assert "s3cret" not in out


def test_fingerprints_are_stable_per_key_and_differ_between_keys():
    a, b = Redactor(SECRET), Redactor(b"z" * 32)
    assert a({"token": "t"}) == a({"token": "t"})
    assert a({"token": "t"}) != a({"token": "u"})
    assert a({"token": "t"}) != b({"token": "t"})
    assert Redactor(None)({"token": "t"}) == {"token": "[redacted]"}


def test_public_material_named_like_a_secret_is_kept():
    assert not looks_secret("signature") and not looks_secret("public_key")
    assert looks_secret("GITHUB_TOKEN") and looks_secret("passwd")
    assert Redactor(SECRET)({"signature": "abc"}) == {"signature": "abc"}
