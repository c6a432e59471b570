"""Canonical JSON and hashes: the bytes that audit hashes and signatures cover.

Canonical JSON here is ``json.dumps`` with sorted keys, no whitespace, UTF-8 and
no NaN/Infinity. Python writes the shortest round-tripping form of a float, so
an entry read back from the store re-encodes to the same bytes.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

ZERO_HASH = "0" * 64


def canonical_json(value: Any) -> bytes:
    """The canonical UTF-8 JSON encoding of ``value``.

    >>> canonical_json({"b": 1, "a": [1.5, "é"]})
    b'{"a":[1.5,"\\xc3\\xa9"],"b":1}'
    """
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def digest(value: Any) -> str:
    """sha256 (hex) of the canonical JSON of ``value``."""
    return sha256_hex(canonical_json(value))
