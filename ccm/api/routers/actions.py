"""The action lifecycle: propose, read, approve, execute, report the outcome.

Every mutating call acts as the token's identity, which the audit log records:
a proposal's ``agent`` is the token's identity, an approval is by the token's
identity (never the proposer's), and agents execute and report only their own
actions. Actions of another tenant are invisible (404) to all but admins.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response, status

from ccm.actions.records import STATES, ActionRecord
from ccm.api.deps import (
    ActionApprover,
    ActionExecutor,
    ActionProposer,
    ActionReader,
    OutcomeReporter,
    StateDep,
)
from ccm.api.jsonbody import StrictJsonRoute
from ccm.api.models.actions import (
    ActionList,
    ActionOut,
    ApprovalRequest,
    OutcomeRequest,
    ProposalRequest,
)
from ccm.api.routers.impact import proposal_of, record_verdict
from ccm.ops.access import actor_for, require_own, visible_action

router = APIRouter(prefix="/v1/actions", tags=["actions"], route_class=StrictJsonRoute)

ActionId = Annotated[str, Path(max_length=200, examples=["act-3f2a9c1d0b7e4a5f6c8d"])]


@router.post("", response_model=ActionOut, status_code=status.HTTP_201_CREATED,
             summary="Propose an action",
             description="Records the proposal (idempotent by its signed content), predicts its "
                         "impact and applies the policy at once. 201 when new, 200 when the "
                         "same proposal was already made.")
async def propose(state: StateDep, who: ActionProposer, req: ProposalRequest,
                  response: Response) -> Any:
    p = proposal_of(req, who, state.clock(), state)
    ctl = state.controller

    def run() -> tuple[ActionRecord, bool]:
        existed = state.store.get_record("actions", p.action_id) is not None
        return ctl.propose(p), existed

    rec, existed = await state.run_impact(run)
    if existed:
        response.status_code = status.HTTP_200_OK
    else:
        v = rec.verdict
        if v is not None:
            record_verdict(state, v.decision, "propose", v.results)
    response.headers["Location"] = f"/v1/actions/{rec.id}"
    return ctl.public(rec)


@router.get("", response_model=ActionList, summary="Actions of your tenant")
def list_actions(state: StateDep, who: ActionReader,
                 state_: Annotated[list[str] | None, Query(
                     alias="state", description=f"only these states: {', '.join(STATES)}")
                 ] = None,
                 limit: Annotated[int, Query(ge=1, le=10_000)] = 500) -> Any:
    recs = [r for r in state.controller.list_actions(state_ or ())
            if who.sees_tenant(str(r.doc.get("tenant", "default")))]
    return {"actions": [state.controller.public(r) for r in recs[-limit:]]}


@router.get("/{action_id}", response_model=ActionOut, summary="One action")
def get_action(state: StateDep, who: ActionReader, action_id: ActionId) -> Any:
    return state.controller.public(visible_action(state.controller, action_id, who))


@router.post("/{action_id}/approvals", response_model=ActionOut,
             summary="Approve an action under review (sre, admin)")
def approve(state: StateDep, who: ActionApprover, action_id: ActionId,
            req: ApprovalRequest) -> Any:
    ctl = state.controller
    visible_action(ctl, action_id, who)
    return ctl.public(ctl.approve(action_id, who.id, signature=req.signature, note=req.note))


@router.post("/{action_id}/execute", response_model=ActionOut, summary="Execute an action",
             description="Checks the policy again, writes a signed audit entry, then runs the "
                         "registry's executor; at most once.")
def execute(state: StateDep, who: ActionExecutor, action_id: ActionId) -> Any:
    ctl = state.controller
    rec = visible_action(ctl, action_id, who)
    require_own(who, rec, "execute")
    return ctl.public(ctl.execute(action_id, by=actor_for(who, rec, ctl)))


@router.post("/{action_id}/outcome", response_model=ActionOut,
             summary="Report what happened after an action ran",
             description="An unhealthy reversible action is reverted automatically; the "
                         "outcome is written to memory before the action closes.")
def outcome(state: StateDep, who: OutcomeReporter, action_id: ActionId,
            req: OutcomeRequest) -> Any:
    ctl = state.controller
    rec = visible_action(ctl, action_id, who)
    require_own(who, rec, "report the outcome of")
    return ctl.public(ctl.record_outcome(action_id, req.healthy, observed_impacted=req.impacted,
                                         by=actor_for(who, rec, ctl), note=req.note))
