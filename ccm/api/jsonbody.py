"""JSON request bodies, parsed strictly: values no store or response can hold are refused.

Python's ``json`` reads ``NaN``, ``Infinity`` and ``-Infinity`` (not JSON by RFC 8259),
overflows ``1e400`` to infinity, and reads a ``"\\ud800"`` escape as a lone UTF-16
surrogate (a string no UTF-8 encoder can write). Each of these is refused when the body
is parsed, before any endpoint runs, as a 422 ``validation`` problem naming the field
(``body.inputs.value``). Every router of the API uses :class:`StrictJsonRoute`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute

__all__ = ["StrictJsonRoute", "unstorable_value"]

_SURROGATE = re.compile(r"[\ud800-\udfff]")


def _bad_text(s: str) -> bool:
    return not s.isascii() and _SURROGATE.search(s) is not None


def unstorable_value(value: Any) -> tuple[tuple[str | int, ...], str] | None:
    """The path and reason of the first value JSON cannot carry (a non-finite number, a
    string or key with a lone surrogate) in a parsed JSON ``value``, or None."""
    stack: list[tuple[tuple[str | int, ...], Any]] = [((), value)]
    while stack:
        path, v = stack.pop()
        if isinstance(v, float) and not math.isfinite(v):
            return path, (f"{v} is not a number JSON can carry (NaN, Infinity and "
                          "numbers beyond 1.8e308 are refused): send a finite number")
        if isinstance(v, str) and _bad_text(v):
            return path, "contains a lone UTF-16 surrogate (like \\ud800), which is not text"
        if isinstance(v, dict):
            for k, item in v.items():
                if _bad_text(k):
                    return (*path, k.encode("utf-8", "backslashreplace").decode()), (
                        "the key contains a lone UTF-16 surrogate, which is not text")
                stack.append(((*path, k), item))
        elif isinstance(v, list):
            stack.extend(((*path, i), item) for i, item in enumerate(v))
    return None


class StrictJsonRoute(APIRoute):
    """A route whose JSON body is refused (422, the field named) when it holds a value
    :func:`unstorable_value` finds."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        if self.body_field is None:
            return handler

        async def strict(request: Request) -> Response:
            await _check_body(request)
            return await handler(request)

        return strict


async def _check_body(request: Request) -> None:
    ctype = request.headers.get("content-type", "application/json").split(";")[0].strip()
    if not (ctype == "application/json" or ctype.endswith("+json")):
        return
    body = await request.body()
    if not body:
        return
    try:
        value = await request.json()  # cached on the request: the endpoint reads it again
    except (ValueError, RecursionError):
        return  # not JSON: FastAPI's own parsing names the position
    found = unstorable_value(value)
    if found is not None:
        path, why = found
        raise RequestValidationError([{"loc": ("body", *path), "msg": why,
                                       "type": "value_error", "input": None}])

