"""Errors raised by the schema: a fact that does not fit the declaration."""

from __future__ import annotations

import re
from typing import Any


class SchemaError(Exception):
    """The root of every error graph_schema raises."""


class FactError(SchemaError, ValueError):
    """A fact does not fit the schema: names where, which field and which value."""

    def __init__(self, where: str, field: str, value: Any, problem: str) -> None:
        self.where = where
        self.field = field
        self.value = value
        self.problem = problem
        shown = value if isinstance(value, (int, float)) else repr(_short(value))
        prefix = f"{_short_words(where)}: " if where else ""
        super().__init__(f"{prefix}field '{field}': {_short_words(problem)} (got {shown})")

    def located(self, where: str) -> FactError:
        """The same error, placed at ``where`` (a file and line, a document...)."""
        inner = f"{where}, {self.where}" if self.where else where
        return FactError(inner, self.field, self.value, self.problem)


def _short_words(text: str) -> str:
    """``text`` with each run of over 120 non-blank characters cut (a name from the
    input can be that long: the message names it, it need not repeat it whole)."""
    return _LONG_WORD.sub(lambda m: m.group()[:117] + "...", text)


_LONG_WORD = re.compile(r"\S{121,}")


def _short(value: Any) -> Any:
    if isinstance(value, str) and len(value) > 120:
        return value[:117] + "..."
    return value
