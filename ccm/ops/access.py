"""Who is calling, and what they may touch: shared by the API and the MCP server.

An :class:`Identity` comes from a bearer token (:mod:`ccm.api.auth`). Tenants
are kept apart here: an action of another tenant does not exist for anyone but
an admin, and an agent acts only on its own actions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ccm.actions.lifecycle import Controller
from ccm.actions.records import ActionRecord
from ccm.audit.log import Actor
from ccm.errors import CCMError, NotFound

__all__ = ["Forbidden", "Identity", "Unauthenticated", "actor_for", "person", "require_own",
           "visible_action"]


class Unauthenticated(CCMError):
    """No bearer token, or one that is unknown or expired."""


class Forbidden(CCMError):
    """The caller's role, scopes or tenant do not allow this request."""


@dataclass(frozen=True, slots=True)
class Identity:
    """Who is calling: the acting identity, its role, scopes and tenant."""

    id: str
    role: str
    scopes: frozenset[str]
    tenant: str = "default"

    def can(self, scope: str) -> bool:
        return scope in self.scopes

    def sees_tenant(self, tenant: str) -> bool:
        """A token holding the ``admin`` scope sees every tenant; every other token (an
        admin's narrowed to other scopes too) only its own: visibility follows the scopes
        and the tenant, not the role."""
        return tenant == self.tenant or "admin" in self.scopes

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "role": self.role, "tenant": self.tenant,
                "scopes": sorted(self.scopes)}


def visible_action(ctl: Controller, action_id: str, who: Identity) -> ActionRecord:
    """The action, if the caller's tenant may see it (else NotFound, as if absent)."""
    rec = ctl.get(action_id)
    if not who.sees_tenant(str(rec.doc.get("tenant", "default"))):
        raise NotFound(f"no action {action_id!r}")
    return rec


def require_own(who: Identity, rec: ActionRecord, what: str) -> None:
    """Agents act only on the actions they proposed."""
    if who.role == "agent" and who.id != rec.doc["proposal"]["agent"]:
        raise Forbidden(f"an agent may only {what} its own actions; {rec.id} was proposed "
                        f"by {rec.doc['proposal']['agent']}")


def person(who: Identity) -> Actor:
    """The audited actor for a call that is not about an action (admin, ingest)."""
    return Actor(who.id, "agent" if who.role == "agent" else "human")


def actor_for(who: Identity, rec: ActionRecord, ctl: Controller) -> Actor:
    """The audited actor: the proposing agent with its model, or a person."""
    if who.id == rec.doc["proposal"]["agent"]:
        return ctl.actor_of(rec.proposal)
    return person(who)
