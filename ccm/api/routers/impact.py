"""``POST /v1/impact`` (a dry run: blast radius and verdict, nothing recorded) and
``GET /v1/registry`` (the actions an agent may propose)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from ccm.api.auth import Identity
from ccm.api.deps import ApiState, ImpactReader, StateDep, parse_when
from ccm.api.jsonbody import StrictJsonRoute
from ccm.api.models.actions import ImpactOut, ImpactRequest, ProposalRequest, RegistryOut
from ccm.ops.impact import DryRun, dry_run
from ccm.ops.proposals import make_proposal
from ccm.policy.proposal import Proposal

router = APIRouter(prefix="/v1", tags=["impact"], route_class=StrictJsonRoute)


def proposal_of(req: ProposalRequest, who: Identity, now: int, state: ApiState) -> Proposal:
    """The proposal ``who`` makes with ``req``, its target any name the graph knows (see
    :func:`ccm.ops.proposals.make_proposal`)."""
    return make_proposal(req.model_dump(), who, now, store=state.controller.store)


def record_verdict(state: ApiState, decision: str, phase: str, results: Any = ()) -> None:
    """Count a verdict, and a policy refusal by the type of each refusing rule."""
    state.metrics.verdicts.labels(decision, phase).inc()
    for r in results:
        if r.decision == "refuse":
            state.metrics.refusals.labels(f"policy:{r.type}").inc()


@router.post("/impact", response_model=ImpactOut, summary="Predict an action's impact (dry run)",
             description="The predicted blast radius of the action and the policy's verdict, "
                         "exactly as proposing it would get them; nothing is recorded.")
async def post_impact(state: StateDep, who: ImpactReader, req: ImpactRequest) -> Any:
    at = parse_when(req.at, "body.at", state.clock)
    now = state.clock()

    def run() -> DryRun:
        return dry_run(state.controller, proposal_of(req, who, now, state), at)

    result = await state.run_impact(run)
    record_verdict(state, result.verdict.decision, "dry_run", result.verdict.results)
    if result.impact is not None:
        state.metrics.engine_timings("impact", getattr(result.impact, "timings", None))
    return state.controller.public(result.to_dict())


@router.get("/registry", response_model=RegistryOut, summary="The actions an agent may propose")
def get_registry(state: StateDep, who: ImpactReader) -> Any:
    reg = state.controller.registry
    return {"actions": [reg.actions[name].to_dict() for name in sorted(reg.actions)]}
