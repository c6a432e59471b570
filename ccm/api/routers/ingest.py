"""``POST /v1/ingest/{format}`` (a file's content as the body) and ``POST /v1/alertmanager``
(Alertmanager's webhook as is). Text in payloads is stored as data, never interpreted."""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.concurrency import run_in_threadpool

from ccm.api.auth import Identity
from ccm.api.deps import ApiState, Ingester, StateDep, parse_when
from ccm.api.jsonbody import StrictJsonRoute
from ccm.api.models.ingest import AlertmanagerWebhook, IngestOut, report_dict
from ccm.errors import BatchRejected
from ccm.ops.access import person
from graph_schema import FactError
from ingest import ingest_bytes, registry
from ingest.cdevents import structured_from_binary

router = APIRouter(prefix="/v1", tags=["ingest"], route_class=StrictJsonRoute)

FORMATS = tuple(registry())
Format = Literal[FORMATS]  # type: ignore[valid-type]
_BODY = {"requestBody": {"required": True, "content": {
    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
    "application/json": {"schema": {}}, "application/x-yaml": {"schema": {}},
    "text/plain": {"schema": {"type": "string"}}}}}


async def run_ingest(state: ApiState, who: Identity, fmt: str, body: bytes, source: str,
                     at: int | None, batch_size: int = 1000) -> dict[str, Any]:
    report = await run_in_threadpool(partial(ingest_bytes, state.store, fmt, body, source, at,
                                             batch_size=batch_size, signals=state.alert_signals,
                                             alert_targets=state.alert_targets))
    counts = {k: getattr(report, k) for k in ("added", "unchanged", "closed", "rejected")}
    for outcome, count in counts.items():
        if count:
            state.metrics.ingested.labels(fmt, outcome).inc(count)
    if report.added or report.closed:  # a write to the graph, attributed in the audit log
        await run_in_threadpool(state.controller.note, "ingest", person(who), source,
                                {"format": fmt, "bytes": len(body), **counts})
    if report.errors and not (report.added or report.unchanged or report.closed):
        raise BatchRejected(FactError(source, "(body)", f"{len(body)} bytes",
                                      "; ".join(report.errors[:5])))
    return {**report_dict(report, source),
            "revision": await run_in_threadpool(state.store.revision)}


@router.post("/ingest/{fmt}", response_model=IngestOut, openapi_extra=_BODY,
             summary="Ingest a file's content (any ingest format)",
             description="The body is one file of the format (as `ccm ingest --format` reads "
                         "it); a CDEvent sent in CloudEvents binary mode (`ce-*` headers) is "
                         "read with its headers. A bad record is rejected alone, named in "
                         "`errors` (`ok: false`); the others are written. When "
                         "nothing could be written the answer is a 422 problem.")
async def post_ingest(request: Request, state: StateDep, who: Ingester,
                      fmt: Annotated[Format, Path(description="the format")],
                      at: Annotated[str | None, Query(
                          max_length=64, description="valid time for sources without "
                          "timestamps (default: now)")] = None,
                      source: Annotated[str | None, Query(
                          max_length=200, pattern=r"^[A-Za-z0-9_.:/@\-]+$",
                          description="a stable name for this source (default: api:<format>); "
                                      "snapshot formats close what the source no longer "
                                      "asserts")] = None,
                      batch_size: Annotated[int, Query(
                          ge=1, le=100_000, description="records per atomic batch, for "
                          "line-oriented formats")] = 1000) -> Any:
    t = parse_when(at, "query.at", state.clock)
    body = await request.body()
    if fmt == "cdevents" and "ce-type" in request.headers:  # CloudEvents binary mode
        body = structured_from_binary(request.headers, body)
    return await run_ingest(state, who, fmt, body, source or f"api:{fmt}", t, batch_size)


@router.post("/alertmanager", response_model=IngestOut,
             summary="Alertmanager's webhook (configure it as a webhook receiver)",
             description="Accepts the payload exactly as Alertmanager posts it (version 4): "
                         "each alert becomes an alert node and a SYMPTOM_OF edge; a resolved "
                         "alert closes them at endsAt. Send the token with "
                         "`http_config.authorization` (see docs/api.md).")
async def post_alertmanager(request: Request, state: StateDep, who: Ingester,
                            payload: AlertmanagerWebhook) -> Any:
    body = await request.body()
    return await run_ingest(state, who, "alertmanager", body, "alertmanager", None)
