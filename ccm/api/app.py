"""The app factory: ``create_app(settings)`` builds the FastAPI app; its lifespan opens
the store (nothing connects at import time or in the factory)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from functools import partial
from typing import cast

from anyio import CapacityLimiter
from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool

from ccm import __version__
from ccm.actions.impact import engine_predictor
from ccm.actions.lifecycle import Controller
from ccm.api.auth import TokenRegistry, load_token_registry
from ccm.api.deps import ApiState
from ccm.api.metrics import ApiMetrics, MetricsMiddleware
from ccm.api.middleware import BodyLimitMiddleware, HostCheckMiddleware, RequestIdMiddleware
from ccm.api.problems import install_problem_handlers
from ccm.api.routers import actions, admin, graph, health, impact, ingest, rca
from ccm.api.settings import Settings, get_settings
from ccm.audit.keys import Signer
from ccm.errors import ConfigError
from ccm.ops.collector import owned_collector
from ccm.ops.predictions import MemoPredictor
from ccm.ops.runtime import prefer_passive_threads
from ccm.ops.snapshots import RecentSnapshots, SnapshotReuse
from ccm.policy.config import load_policy
from ccm.policy.registry import load_registry
from ccm.store import Store, open_store
from ccm.web import install_web, web_config
from graph_schema.timeutil import now_micros
from ingest.alert_targets import load_target_rules
from ingest.alerts import load_signal_table

__all__ = ["create_app", "reconcile_actions"]

log = logging.getLogger("ccm.api")

DESCRIPTION = """\
CCM, the Context & Control Model: a causal, time-versioned graph of production.
Agents ask it what an action would break before acting (`POST /v1/impact`,
`POST /v1/actions`); SREs ask it which chain of changes caused an alert
(`POST /v1/rca`). Every call needs `Authorization: Bearer <token>` (roles agent,
sre, admin; see docs/api.md). Every error is `application/problem+json`.
"""


def check_auth_configured(settings: Settings, tokens: TokenRegistry) -> None:
    """Secure by default: no tokens and no explicit insecure opt-in is a refusal to start."""
    if not len(tokens) and not settings.insecure_dev:
        raise ConfigError(
            "no API tokens are configured, so the API would be open to anyone: create one "
            "with `ccm token create --role sre --identity <you>` (it writes "
            "$CCM_API_TOKENS_FILE), or set CCM_API_TOKENS, or for a local try-out only pass "
            "--insecure-dev (CCM_INSECURE_DEV=1)")


def audit_signer(settings: Settings) -> Signer | None:
    """The audit signing key from the settings (None: nothing can execute)."""
    if settings.audit_key is not None:
        return Signer.from_b64(settings.audit_key.get_secret_value(), "CCM_AUDIT_KEY")
    if settings.audit_key_file is not None:
        return Signer.from_file(settings.audit_key_file, "CCM_AUDIT_KEY_FILE")
    return None


def controller_factory(settings: Settings, clock: Callable[[], int]
                       ) -> Callable[[Store], Controller]:
    """Reads the registry, the policy and the audit key now (a bad file fails at start) and
    returns what builds the controller once the store is open."""
    registry = load_registry(settings.actions)
    policy = load_policy(settings.policy)
    signer = audit_signer(settings)

    reuse = int(settings.snapshot_reuse_s * 1_000_000)

    def make(store: Store) -> Controller:
        view = cast(Store, SnapshotReuse(store, RecentSnapshots(reuse))) if reuse else store
        return Controller(view, registry=registry, policy=policy, signer=signer, clock=clock,
                          witness=settings.audit_witness,
                          predictor=MemoPredictor(partial(
                              engine_predictor, samples=settings.impact_samples,
                              precision=settings.impact_precision)))

    return make


def create_app(settings: Settings | None = None, *, store: Store | None = None,
               clock: Callable[[], int] | None = None) -> FastAPI:
    """The CCM API. ``store``: serve this open store (the caller closes it) instead of
    opening ``settings.store`` in the lifespan; ``clock``: the time source for 'now'."""
    settings = settings or get_settings()
    clock = clock or now_micros
    prefer_passive_threads()
    tokens = load_token_registry(settings.api_tokens_file, settings.api_tokens, clock)
    check_auth_configured(settings, tokens)
    web = web_config(enabled=settings.web, token_file=settings.web_token_file,
                     allowed_hosts=settings.web_allowed_hosts.split(","), tokens=tokens,
                     insecure_dev=settings.insecure_dev)
    metrics = ApiMetrics()
    signals = load_signal_table(settings.alert_signals) if settings.alert_signals else None
    targets = load_target_rules(settings.alert_targets) if settings.alert_targets else None

    make_controller = controller_factory(settings, clock)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        opened = store if store is not None else await run_in_threadpool(
            open_store, settings.store)
        ctl = make_controller(opened)
        app.state.ccm = ApiState(settings, opened, tokens, metrics, clock, ctl,
                                 CapacityLimiter(settings.impact_concurrency), signals, targets)
        if settings.insecure_dev:
            log.warning("insecure dev mode: requests without a token act as the admin 'dev'")
        try:
            with owned_collector(settings.gc_tuning):
                yield
        finally:
            if store is None:
                opened.close()

    app = FastAPI(title="CCM API", version=__version__, description=DESCRIPTION,
                  lifespan=lifespan, openapi_url="/openapi.json", docs_url="/docs",
                  redoc_url=None)
    install_problem_handlers(app)
    app.add_middleware(BodyLimitMiddleware, limit=settings.max_body_bytes)
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    app.add_middleware(HostCheckMiddleware, hosts=settings.allowed_hosts.split(","),
                       loopback_only=settings.insecure_dev)
    app.add_middleware(RequestIdMiddleware)
    for module in (health, graph, impact, rca, actions, ingest, admin):
        app.include_router(module.router)
    install_web(app, web)
    return app


def reconcile_actions(settings: Settings, clock: Callable[[], int] | None = None) -> int:
    """Resume every action a previous server left mid-way (``ccm serve`` calls this once
    before it listens): returns how many it looked at (see ``Controller.reconcile``)."""
    store = open_store(settings.store)
    try:
        return len(controller_factory(settings, clock or now_micros)(store).reconcile())
    finally:
        store.close()


def app_from_environment() -> FastAPI:
    """The app from the ``CCM_*`` environment (``ccm serve --workers N`` starts each
    worker process with it)."""
    return create_app(get_settings())
