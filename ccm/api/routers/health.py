"""``/healthz`` (the process answers), ``/readyz`` (the store is reachable), ``/metrics``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel

from ccm import __version__
from ccm.api.deps import StateDep, identify
from ccm.api.jsonbody import StrictJsonRoute
from ccm.errors import StoreUnavailable

router = APIRouter(tags=["health"], route_class=StrictJsonRoute)


class Health(BaseModel):
    status: str
    version: str


class Ready(BaseModel):
    status: str
    store: str


@router.get("/healthz", response_model=Health, summary="The process is up")
def healthz() -> Health:
    return Health(status="ok", version=__version__)


@router.get("/readyz", response_model=Ready, summary="The store is reachable",
            responses={503: {"description": "the store cannot be reached"}})
async def readyz(state: StateDep) -> Ready:
    try:
        await run_in_threadpool(state.store.ping)
    except Exception as exc:  # any driver error means "not ready"
        raise StoreUnavailable(f"the store is not reachable: {type(exc).__name__}") from None
    return Ready(status="ready", store=type(state.store).__name__)


_bearer = HTTPBearer(auto_error=False)


@router.get("/metrics", summary="Prometheus metrics", response_class=Response,
            responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}})
def metrics(request: Request, state: StateDep,
            creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
            ) -> Response:
    if state.settings.metrics_auth:
        identify([], state, creds)
    return Response(generate_latest(state.metrics.registry), media_type=CONTENT_TYPE_LATEST)
