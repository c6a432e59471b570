"""What the routers depend on: the app state, the store, the caller, parsed times.

Routers declare what they need with the ``Annotated`` aliases here
(``StoreDep``, ``StateDep``, ``GraphReader``, ...); a scope alias both
authenticates the caller and checks that the token holds the scope.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, TypeVar

from anyio import CapacityLimiter, to_thread
from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer, SecurityScopes

from ccm.actions.lifecycle import Controller
from ccm.api.auth import ROLE_SCOPES, Identity, TokenRegistry
from ccm.api.metrics import ApiMetrics
from ccm.api.problems import Forbidden, Unauthenticated
from ccm.api.settings import Settings
from ccm.ops.times import parse_when
from ccm.store import Store
from ingest.alert_targets import TargetRules

__all__ = [
    "ActionApprover", "ActionExecutor", "ActionProposer", "ActionReader", "Admin",
    "ApiState", "AuditReader", "ControllerDep", "GraphReader", "IdentityDep", "ImpactReader", "Ingester",
    "MemoryReader", "OutcomeReporter", "RcaReader", "StateDep", "StoreDep", "parse_when",
]

T = TypeVar("T")

DEV_IDENTITY = Identity("dev", "admin", ROLE_SCOPES["admin"], "default")


@dataclass
class ApiState:
    """Everything a request may use, built once per app (``app.state.ccm``)."""

    settings: Settings
    store: Store
    tokens: TokenRegistry
    metrics: ApiMetrics
    clock: Callable[[], int]
    #: the action lifecycle (registry, policy, audit signer) on ``store``
    controller: Controller
    #: how many impact predictions run at once (``settings.impact_concurrency``); None:
    #: the shared thread pool's limit
    impact_limiter: CapacityLimiter | None = None
    #: the alertname -> signal overrides (``CCM_ALERT_SIGNALS``) and alert target rules
    #: (``CCM_ALERT_TARGETS``) alerts are ingested with, as ``ccm ingest`` reads them
    alert_signals: Mapping[str, str] | None = None
    alert_targets: TargetRules | None = None

    async def run_impact(self, fn: Callable[[], T]) -> T:
        """``fn`` (a prediction) on a worker thread, at most ``impact_limiter`` at once;
        callers wait in arrival order."""
        return await to_thread.run_sync(fn, limiter=self.impact_limiter)


async def get_state(request: Request) -> ApiState:
    state: ApiState = request.app.state.ccm
    return state


StateDep = Annotated[ApiState, Depends(get_state)]


async def get_store(state: StateDep) -> Store:
    return state.store


StoreDep = Annotated[Store, Depends(get_store)]


async def get_controller(state: StateDep) -> Controller:
    return state.controller


ControllerDep = Annotated[Controller, Depends(get_controller)]

_bearer = HTTPBearer(auto_error=False, description="A CCM token (ccm token create)")


def identify(scopes: list[str], state: ApiState,
             creds: HTTPAuthorizationCredentials | None) -> Identity:
    """The caller's identity; 401 without a valid token, 403 without ``scopes``."""
    if creds is None or not creds.credentials:
        if state.settings.insecure_dev:
            return DEV_IDENTITY
        state.metrics.refusals.labels("unauthenticated").inc()
        raise Unauthenticated("this endpoint needs a bearer token: send "
                              "'Authorization: Bearer <token>' (ccm token create makes one)")
    who = state.tokens.authenticate(creds.credentials)
    if who is None:
        state.metrics.refusals.labels("unauthenticated").inc()
        raise Unauthenticated("the bearer token is unknown or expired")
    missing = [s for s in scopes if not who.can(s)]
    if missing:
        state.metrics.refusals.labels("forbidden").inc()
        raise Forbidden(f"{who.id} ({who.role}) lacks the scope "
                        f"{', '.join(missing)} needed here")
    return who


# The dependencies are coroutines: they compute in microseconds and never block, and
# FastAPI runs a plain function dependency on a worker thread (a hand-off per
# dependency per request, and GIL hand-offs under load).


async def authenticate(security: SecurityScopes, state: StateDep,
                       creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
                       ) -> Identity:
    """The caller's identity (:func:`identify`) for the scopes the endpoint declares."""
    return identify(security.scopes, state, creds)


IdentityDep = Annotated[Identity, Security(authenticate)]
GraphReader = Annotated[Identity, Security(authenticate, scopes=["graph:read"])]
ImpactReader = Annotated[Identity, Security(authenticate, scopes=["impact:read"])]
RcaReader = Annotated[Identity, Security(authenticate, scopes=["rca:read"])]
ActionReader = Annotated[Identity, Security(authenticate, scopes=["actions:read"])]
ActionProposer = Annotated[Identity, Security(authenticate, scopes=["actions:propose"])]
ActionApprover = Annotated[Identity, Security(authenticate, scopes=["actions:approve"])]
ActionExecutor = Annotated[Identity, Security(authenticate, scopes=["actions:execute"])]
OutcomeReporter = Annotated[Identity, Security(authenticate, scopes=["actions:report"])]
MemoryReader = Annotated[Identity, Security(authenticate, scopes=["memory:read"])]
Ingester = Annotated[Identity, Security(authenticate, scopes=["ingest:write"])]
AuditReader = Annotated[Identity, Security(authenticate, scopes=["audit:read"])]
Admin = Annotated[Identity, Security(authenticate, scopes=["admin"])]
