"""What every CLI command shares: the store option, time parsing, output helpers."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any, TypeVar

import click
from rich.console import Console

from ccm.errors import CCMError
from ccm.store import Store, open_store
from graph_schema import TimeParseError, parse_duration, parse_time
from graph_schema.errors import SchemaError
from graph_schema.timeutil import now_micros

F = TypeVar("F", bound=Callable[..., Any])

#: width of output that is not a terminal (a pipe, a file, a CI log) when $COLUMNS is
#: unset: tables keep their ids and figures whole instead of fitting 80 columns
PIPE_WIDTH = 160


def _width(stream: Any) -> int | None:
    isatty = getattr(stream, "isatty", None)
    if os.environ.get("COLUMNS") or (isatty is not None and isatty()):
        return None  # Rich's own: the terminal's width, or $COLUMNS
    return PIPE_WIDTH


console = Console(highlight=False, soft_wrap=True, width=_width(sys.stdout))
err_console = Console(stderr=True, highlight=False, width=_width(sys.stderr))


class TimeParam(click.ParamType):
    """ISO 8601 (``2026-03-04T10:20:00Z``), ``now``, or ``now-2d`` / ``now-90m``."""

    name = "TIME"

    def convert(self, value: Any, param: Any, ctx: Any) -> int:
        if isinstance(value, int):
            return value
        text = str(value).strip()
        try:
            if text.lower().startswith("now-"):
                return now_micros() - parse_duration(text[4:])
            return parse_time(text)
        except TimeParseError as exc:
            self.fail(f"{exc} (use ISO 8601 like 2026-03-04T10:20:00Z, 'now' or 'now-2d')",
                      param, ctx)


class DurationParam(click.ParamType):
    """ISO 8601 duration (``P7D``, ``PT30M``) or ``7d``, ``30m``."""

    name = "DURATION"

    def convert(self, value: Any, param: Any, ctx: Any) -> int:
        if isinstance(value, int):
            return value
        try:
            return parse_duration(value)
        except TimeParseError as exc:
            self.fail(str(exc), param, ctx)


TIME = TimeParam()
DURATION = DurationParam()

store_option = click.option(
    "--store", "store_location", envvar="CCM_STORE", metavar="LOCATION",
    help="Store to use: a SQLite file, bolt://... or neo4j://... (default: $CCM_STORE, "
         "else ~/.local/share/ccm/ccm.sqlite).")
json_option = click.option("--json", "as_json", is_flag=True,
                           help="Print JSON for machines instead of tables.")


@contextmanager
def opened_store(location: str | None) -> Iterator[Store]:
    store = open_store(location)
    try:
        yield store
    finally:
        store.close()


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")


def handle_errors(func: F) -> F:
    """Turn CCM's errors into a one-line message and exit status 1."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (CCMError, SchemaError) as exc:
            err_console.print(f"[red]error:[/red] {exc}", markup=True, highlight=False)
            sys.exit(1)

    return wrapper  # type: ignore[return-value]
