"""Proposals made through a front door: always as the caller, in the caller's tenant."""

from __future__ import annotations

from typing import Any

from ccm.audit.keys import Signer
from ccm.ops.access import Forbidden, Identity
from ccm.ops.names import known_name
from ccm.policy.proposal import Proposal
from ccm.store.base import Store

__all__ = ["make_proposal"]


def make_proposal(fields: dict[str, Any], who: Identity, now: int,
                  signer: Signer | None = None, store: Store | None = None) -> Proposal:
    """The proposal ``who`` makes with ``fields`` (an action request: action, target,
    inputs, model, ...; optionally agent, tenant, created_at, nonce, signature).

    ``agent`` must be ``who`` and ``tenant`` one ``who`` sees (its own; any, with the
    ``admin`` scope);
    ``signer`` signs it when it carries no signature (the MCP server signing for its
    agent). With ``store``, an unsigned proposal's target may be any name the graph
    knows a node by (:func:`ccm.ops.names.known_name`; an unknown one is kept as given,
    for the policy to refuse).
    Malformed fields raise ConfigError naming them.
    """
    agent, tenant = fields.get("agent"), fields.get("tenant")
    if agent not in (None, who.id):
        raise Forbidden(f"agent {agent!r} is not the token's identity {who.id!r}: "
                        "proposals are made as yourself")
    if tenant is not None and not who.sees_tenant(tenant):
        raise Forbidden(f"tenant {tenant!r} is not the token's tenant {who.tenant!r}")
    raw = {k: v for k, v in fields.items() if v is not None and k != "at"}
    raw.update(agent=who.id, tenant=tenant or who.tenant,
               created_at=fields.get("created_at") or now)
    target = raw.get("target")
    if store is not None and isinstance(target, str) and target and not raw.get("signature"):
        raw["target"] = known_name(store, target) or target
    p = Proposal.from_dict(raw)
    if signer is not None and not p.signature:
        p = p.signed(signer)
    return p
