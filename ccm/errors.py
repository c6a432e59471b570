"""CCM's error hierarchy: every error CCM raises on purpose derives from CCMError.

Messages say what went wrong and what to do about it; the CLI prints them
as-is and the API maps them to problem+json responses.
"""

from __future__ import annotations

from typing import Any

from graph_schema.errors import FactError

__all__ = [
    "ActionRefused", "ActionStateError", "AuditUnavailable", "BatchRejected", "CCMError",
    "CaseInvalid", "ConfigError", "Conflict", "FactError", "InvalidRequest", "NotFound",
    "StoreSchemaTooNew", "StoreUnavailable",
]


class CCMError(Exception):
    """The root of every error CCM raises on purpose."""


class ConfigError(CCMError):
    """A setting (environment variable, option, file) is missing or invalid."""


class StoreUnavailable(CCMError):
    """The store cannot be opened or reached."""


class StoreSchemaTooNew(CCMError):
    """The store was written by a newer schema version than this CCM understands."""


class NotFound(CCMError):
    """A node, fact, record or entry that was asked for does not exist."""


class InvalidRequest(CCMError):
    """A request (an action, a symptom, an option) is malformed; the message names it."""


class Conflict(CCMError):
    """A concurrent or out-of-order update was refused; retry with fresh state."""


class AuditUnavailable(CCMError):
    """No signed audit entry can be written (no signing key), so nothing may execute."""


class ActionRefused(CCMError):
    """An action, approval or execution was refused; ``reasons`` says why."""

    def __init__(self, message: str, reasons: list[str] | None = None) -> None:
        self.reasons = list(reasons or [])
        super().__init__(message + ("" if not self.reasons else ": " + "; ".join(self.reasons)))


class ActionStateError(CCMError):
    """An action is not in a state that allows what was asked (e.g. executing a closed one)."""


class BatchRejected(CCMError):
    """A batch of facts was refused as a whole: nothing of it was written."""

    def __init__(self, error: FactError, index: int | None = None, total: int | None = None):
        self.error = error
        self.index = index
        self.total = total
        where = f" (fact {index + 1} of {total})" if index is not None and total else ""
        super().__init__(f"{error}{where}; nothing from this batch was written")

    @property
    def field(self) -> str:
        return self.error.field

    @property
    def value(self) -> Any:
        return self.error.value

    @property
    def where(self) -> str:
        return self.error.where


class CaseInvalid(CCMError):
    """A benchmark case is malformed; names the case, the file and the field."""

    def __init__(self, case: str, file: str, field: str, problem: str) -> None:
        self.case = case
        self.file = file
        self.field = field
        self.problem = problem
        where = f"field '{field}': " if field else ""
        super().__init__(f"case {case!r}: {file}: {where}{problem}")
