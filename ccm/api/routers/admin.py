"""Admin (kill switches, grants), the audit log, and memory reads.

Only the ``admin`` scope flips switches and manages grants: an agent or an SRE
token gets 403. Every change is an audit entry attributed to the token's identity.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, status

from ccm.api.deps import Admin, AuditReader, MemoryReader, StateDep, parse_when
from ccm.api.jsonbody import StrictJsonRoute
from ccm.api.models.admin import (
    AuditPage,
    GrantList,
    GrantOut,
    GrantRequest,
    MemoryActions,
    SwitchList,
    SwitchOut,
    SwitchRequest,
    VerifyOut,
)
from ccm.api.problems import Forbidden
from ccm.audit.verify import verify_store
from ccm.ops.access import person
from ccm.policy.controls import grant, list_grants, list_switches, revoke, set_switch

router = APIRouter(prefix="/v1", tags=["admin", "audit"], route_class=StrictJsonRoute)


@router.get("/admin/switches", response_model=SwitchList, summary="Kill switches")
def get_switches(state: StateDep, who: Admin) -> Any:
    return {"switches": [s.to_dict() for s in list_switches(state.store).values()]}


@router.put("/admin/switches/{scope:path}", response_model=SwitchOut,
            summary="Throw or release a kill switch (admin)",
            description="`scope` is `global`, `agent:<id>`, `action:<type>` or a node "
                        "reference. Takes effect at once, even when it cannot be audited.")
def put_switch(state: StateDep, who: Admin,
               scope: Annotated[str, Path(max_length=1000, examples=["global"])],
               req: SwitchRequest) -> Any:
    ctl = state.controller
    switch, warning = set_switch(state.store, ctl.audit, scope, by=person(who),
                                 paused=req.paused, dry_run=req.dry_run, reason=req.reason,
                                 now=state.clock())
    return {**switch.to_dict(), "warning": warning}


@router.get("/admin/grants", response_model=GrantList, summary="Sandbox grants")
def get_grants(state: StateDep, who: Admin,
               agent: Annotated[str | None, Query(max_length=200)] = None) -> Any:
    return {"grants": [g.to_dict() for g in list_grants(state.store, agent)]}


@router.post("/admin/grants", response_model=GrantOut, status_code=status.HTTP_201_CREATED,
             summary="Grant an agent actions on targets until a time (admin)")
def post_grant(state: StateDep, who: Admin, req: GrantRequest) -> Any:
    expires = parse_when(req.expires_at, "body.expires_at", state.clock)
    assert expires is not None
    g = grant(state.store, state.controller.audit, agent=req.agent, actions=req.actions,
              targets=req.targets, expires_at=expires, by=person(who), now=state.clock(),
              reason=req.reason)
    return g.to_dict()


@router.delete("/admin/grants/{grant_id}", response_model=GrantOut,
               summary="Revoke a grant from now on (admin)")
def delete_grant(state: StateDep, who: Admin,
                 grant_id: Annotated[str, Path(max_length=200)],
                 reason: Annotated[str, Query(max_length=2000)] = "") -> Any:
    g = revoke(state.store, state.controller.audit, grant_id, by=person(who),
               now=state.clock(), reason=reason)
    return g.to_dict()


def _tenant_of_subject(state: Any, subject: str, cache: dict[str, str | None]) -> str | None:
    if subject not in cache:
        rec = state.store.get_record("actions", subject) if subject.startswith("act-") else None
        cache[subject] = str(rec.doc.get("tenant", "default")) if rec else None
    return cache[subject]


@router.get("/audit", response_model=AuditPage, summary="The audit log, oldest first",
            description="Entries after sequence number `after`. Entries about another "
                        "tenant's actions are left out for everyone but admins.")
def get_audit(state: StateDep, who: AuditReader,
              after: Annotated[int, Query(ge=0, le=2**62)] = 0,
              limit: Annotated[int, Query(ge=1, le=10_000)] = 500,
              subject: Annotated[str | None, Query(max_length=200)] = None) -> Any:
    rows = state.store.read_log("audit", after, limit)
    cache: dict[str, str | None] = {}
    out = []
    for _, doc in rows:
        subj = str(doc.get("subject", ""))
        if subject is not None and subj != subject:
            continue
        tenant = _tenant_of_subject(state, subj, cache)
        if tenant is None or who.sees_tenant(tenant):
            out.append(doc)
    return {"entries": out, "next_after": rows[-1][0] if len(rows) == limit else None}


@router.get("/audit/verify", response_model=VerifyOut, summary="Verify the audit log",
            description="Checks every entry's hash chain and Ed25519 signature, the signed "
                        "head and the latest head in the witness (CCM_AUDIT_WITNESS); `key` "
                        "pins trusted public keys (base64, repeatable; default: the "
                        "server's audit key).")
def get_verify(state: StateDep, who: AuditReader,
               key: Annotated[list[str] | None, Query(max_length=20)] = None,
               trust_store_keys: Annotated[bool, Query(description=(
                   "without a pinned key (`key`, or the server's audit key), accept the "
                   "keys the store records; else the report is not ok"))] = False) -> Any:
    signer = state.controller.audit.signer
    keys = key or ([signer.public_b64] if signer else [])
    return verify_store(state.store, keys, state.settings.audit_witness,
                        trust_store_keys).to_dict()


@router.get("/memory/actions", response_model=MemoryActions,
            summary="Remembered actions and outcomes of a tenant",
            description="Your tenant's by default; only admins may read another tenant's.")
def get_memory(state: StateDep, who: MemoryReader,
               tenant: Annotated[str | None, Query(max_length=200)] = None) -> Any:
    wanted = tenant or who.tenant
    if not who.sees_tenant(wanted):
        state.metrics.refusals.labels("forbidden").inc()
        raise Forbidden(f"{who.id} may not read tenant {wanted!r}'s memory")
    return {"tenant": wanted, "actions": state.controller.memory(wanted).actions()}
