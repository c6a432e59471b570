"""``POST /v1/rca``: ranked root-cause chains, with the evidence for every link."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool

from ccm.api.deps import RcaReader, StateDep
from ccm.api.jsonbody import StrictJsonRoute
from ccm.api.models.rca import RcaOut, RcaRequest
from ccm.ops.rca import explain

router = APIRouter(prefix="/v1", tags=["root causes"], route_class=StrictJsonRoute)


@router.post("/rca", response_model=RcaOut, summary="Which chain of causes explains symptoms",
             description="Every change, expired configuration value and spontaneous failure "
                         "that could reach the symptoms "
                         "is ranked by its posterior; each comes with its most probable chain "
                         "to a symptom and the evidence per link; `close_call`, when the top "
                         "two are close, names the component state that would separate "
                         "them. Without symptoms or alerts, the alerts firing at `at` are "
                         "explained.")
async def post_rca(state: StateDep, who: RcaReader, req: RcaRequest) -> Any:
    query = req.resolve(state.clock)
    result = await run_in_threadpool(explain, state.controller, who.tenant, query)
    state.metrics.engine_timings("rca", result.timings)
    return result.to_dict()
