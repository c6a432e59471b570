"""Every error the API returns is an ``application/problem+json`` body (RFC 9457).

Domain exceptions are mapped to HTTP statuses once, here. A problem names its
``type`` (``urn:ccm:problem:<slug>``, listed in docs/api.md), a ``title``, the
``status``, a ``detail`` saying what to fix, the ``instance`` (the request path)
and the ``request_id`` (also in the ``X-Request-ID`` header, and in the server
log next to the traceback of a 500). Validation errors list every ``errors[]``
field with its message. No stack trace ever reaches a client.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from ccm.errors import (
    ActionRefused,
    ActionStateError,
    AuditUnavailable,
    BatchRejected,
    CCMError,
    ConfigError,
    Conflict,
    InvalidRequest,
    NotFound,
    StoreSchemaTooNew,
    StoreUnavailable,
)
from ccm.ops.access import Forbidden, Unauthenticated
from graph_schema import TimeParseError
from graph_schema.errors import SchemaError
from ingest import IngestError

__all__ = ["PROBLEM_JSON", "FieldProblem", "Forbidden", "Problem", "Unauthenticated",
           "install_problem_handlers", "problem_response"]

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("ccm.api")


class FieldProblem(BaseModel):
    """One invalid field of a request."""

    field: str = Field(description="where: body.action.kind, query.at, path.ref, ...")
    message: str
    type: str = ""


class Problem(BaseModel):
    """An error, as ``application/problem+json`` (RFC 9457)."""

    type: str = Field(description="urn:ccm:problem:<slug>, or about:blank")
    title: str
    status: int
    detail: str = ""
    instance: str = ""
    request_id: str = ""
    errors: list[FieldProblem] | None = None
    reasons: list[str] | None = None


#: domain exception -> (status, slug); the first matching class wins
_DOMAIN: list[tuple[type[BaseException], int, str]] = [
    (Unauthenticated, 401, "unauthenticated"),
    (Forbidden, 403, "forbidden"),
    (ActionRefused, 403, "action-refused"),
    (NotFound, 404, "not-found"),
    (ActionStateError, 409, "invalid-state"),
    (Conflict, 409, "conflict"),
    (BatchRejected, 422, "batch-rejected"),
    (ConfigError, 422, "invalid-request"),
    (InvalidRequest, 422, "invalid-request"),
    (IngestError, 422, "ingest-failed"),
    (AuditUnavailable, 503, "audit-unavailable"),
    (StoreUnavailable, 503, "store-unavailable"),
    (StoreSchemaTooNew, 503, "store-unavailable"),
]


def register_domain_error(cls: type[BaseException], status: int, slug: str) -> None:
    """Map another domain exception (placed before its base classes)."""
    _DOMAIN.insert(0, (cls, status, slug))


def problem_response(request: Request, status: int, slug: str | None, detail: str = "",
                     **extra: Any) -> JSONResponse:
    phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    body = Problem(type=f"urn:ccm:problem:{slug}" if slug else "about:blank", title=phrase,
                   status=status, detail=detail, instance=request.url.path,
                   request_id=getattr(request.state, "request_id", ""), **extra)
    headers = {"X-Request-ID": body.request_id} if body.request_id else {}
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="ccm"'
    return JSONResponse(body.model_dump(exclude_none=True), status_code=status,
                        media_type=PROBLEM_JSON, headers=headers)


def problem_body(status: int, slug: str, scope: Any, detail: str) -> bytes:
    """A problem as bytes, for ASGI middlewares that answer before the app runs."""
    body = Problem(type=f"urn:ccm:problem:{slug}", title=HTTPStatus(status).phrase,
                   status=status, detail=detail, instance=scope.get("path", ""),
                   request_id=scope.get("state", {}).get("request_id", ""))
    return body.model_dump_json(exclude_none=True).encode()


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(p) for p in loc) or "(request)"


async def _on_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [FieldProblem(field=_field(e.get("loc", ())), message=str(e.get("msg", "")),
                           type=str(e.get("type", ""))) for e in exc.errors()]
    named = "; ".join(f"{e.field}: {e.message}" for e in errors[:5])
    return problem_response(request, 422, "validation", f"invalid request: {named}",
                            errors=errors)


async def _on_http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else ""
    slug = {404: "not-found", 405: "method-not-allowed"}.get(exc.status_code)
    if exc.status_code == 404 and detail == "Not Found":
        detail = f"no endpoint at {request.url.path} (the endpoints are listed at /docs)"
    elif exc.status_code == 405:
        allowed = (exc.headers or {}).get("Allow", "")
        detail = f"{request.method} is not allowed on {request.url.path} (allowed: {allowed})"
    resp = problem_response(request, exc.status_code, slug, detail)
    for k, v in (exc.headers or {}).items():
        resp.headers.setdefault(k, v)
    return resp


async def _on_domain(request: Request, exc: Exception) -> JSONResponse:
    for cls, status, slug in _DOMAIN:
        if isinstance(exc, cls):
            extra: dict[str, Any] = {}
            if isinstance(exc, BatchRejected):
                extra["errors"] = [FieldProblem(field=exc.field, message=str(exc.error),
                                                type="fact")]
            reasons = getattr(exc, "reasons", None)
            if isinstance(reasons, list) and reasons:
                extra["reasons"] = [str(r) for r in reasons]
            return problem_response(request, status, slug, str(exc), **extra)
    return problem_response(request, 400, "bad-request", str(exc))


async def _on_schema(request: Request, exc: Exception) -> JSONResponse:
    slug = "invalid-time" if isinstance(exc, TimeParseError) else "invalid-fact"
    return problem_response(request, 422, slug, str(exc))


async def _on_crash(request: Request, exc: Exception) -> JSONResponse:
    rid = getattr(request.state, "request_id", "")
    log.error("request %s %s failed (request id %s)", request.method, request.url.path, rid,
              exc_info=exc)
    return problem_response(request, 500, "internal",
                            "the server failed on this request; the operators can find it "
                            f"in the log by request id {rid}")


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(StarletteHTTPException, _on_http)
    app.add_exception_handler(CCMError, _on_domain)
    app.add_exception_handler(SchemaError, _on_schema)
    app.add_exception_handler(TimeParseError, _on_schema)
    app.add_exception_handler(Exception, _on_crash)
