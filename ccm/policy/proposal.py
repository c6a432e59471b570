"""Proposals: what an agent asks CCM to do, signed by the agent's registered key.

The signature is Ed25519 over the canonical JSON of every field but
``signature`` (:meth:`Proposal.payload`). The action id is derived from the
signed proposal, so submitting the same proposal twice is a no-op; a client that
wants two identical actions gives them different ``nonce`` values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from ccm.audit.canonical import canonical_json, digest
from ccm.audit.keys import Signer, verify_signature
from ccm.errors import ConfigError

_TEXT_LIMIT = 2000


@dataclass(frozen=True)
class Proposal:
    """One proposed action (see the module docstring)."""

    action: str
    target: str
    inputs: Mapping[str, Any]
    agent: str
    model: str = ""
    model_version: str = ""
    tenant: str = "default"
    session: str = ""
    step: int = 1
    plan_length: int = 1
    created_at: int = 0
    nonce: str = ""
    reason: str = ""
    signature: str = field(default="", compare=False)

    def payload(self) -> dict[str, Any]:
        """The signed content: every field but the signature."""
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "signature"}
        out["inputs"] = dict(self.inputs)
        return out

    def payload_bytes(self) -> bytes:
        return canonical_json(self.payload())

    @property
    def digest(self) -> str:
        return digest(self.payload())

    @property
    def action_id(self) -> str:
        return f"act-{self.digest[:20]}"

    def signed(self, signer: Signer) -> Proposal:
        return replace(self, signature=signer.sign(self.payload_bytes()))

    def signature_valid(self, public_key_b64: str) -> bool:
        return bool(self.signature) and verify_signature(public_key_b64, self.signature,
                                                         self.payload_bytes())

    def to_dict(self) -> dict[str, Any]:
        return {**self.payload(), "signature": self.signature}

    @classmethod
    def from_dict(cls, raw: Any, where: str = "proposal") -> Proposal:
        """Build a proposal from JSON, naming the field that is wrong."""
        if not isinstance(raw, Mapping):
            raise ConfigError(f"{where}: expected an object")
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(raw) - set(known))
        if unknown:
            raise ConfigError(f"{where}.{unknown[0]}: unknown field (known: "
                              f"{', '.join(known)})")
        for need in ("action", "target", "agent"):
            if not isinstance(raw.get(need), str) or not raw[need]:
                raise ConfigError(f"{where}.{need}: required, a non-empty string")
        args = dict(raw)
        args.setdefault("inputs", {})
        if not isinstance(args["inputs"], Mapping):
            raise ConfigError(f"{where}.inputs: expected an object")
        for name in ("step", "plan_length", "created_at"):
            value = args.get(name, known[name].default)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ConfigError(f"{where}.{name}: expected a non-negative integer "
                                  f"(value {value!r})")
        for name in ("model", "model_version", "tenant", "session", "nonce", "reason",
                     "signature"):
            value = args.get(name, known[name].default)
            if not isinstance(value, str) or len(value) > _TEXT_LIMIT:
                raise ConfigError(f"{where}.{name}: expected a string of at most "
                                  f"{_TEXT_LIMIT} characters")
        return cls(**args)


def approval_payload(action_id: str, digest_hex: str, approver: str) -> bytes:
    """What an approver signs: the action id, the proposal's digest and who approves."""
    return canonical_json({"action_id": action_id, "digest": digest_hex,
                           "approver": approver, "decision": "approve"})
