"""Times as callers give them: ISO 8601, ``now``, ``now-2d`` (read on an injected clock)."""

from __future__ import annotations

import re
from collections.abc import Callable

from graph_schema import TimeParseError, parse_duration, parse_time

__all__ = ["parse_duration_field", "parse_when"]

_RELATIVE = re.compile(r"^now\s*-\s*(.+)$", re.IGNORECASE)
#: the times a request may name: the years 1 to 9999, as ISO 8601 can write them (a store
#: keeps 64-bit microseconds; 'now-99999999999d' would overflow it)
EARLIEST = -62_135_596_800 * 1_000_000
LATEST = 253_402_300_799 * 1_000_000


def parse_when(text: str | None, field: str, clock: Callable[[], int]) -> int | None:
    """A time from a request: ISO 8601, ``now``, ``now-2d``; None stays None.

    A bad value raises :class:`TimeParseError` naming ``field`` (a 422 problem).
    """
    if text is None:
        return None
    t = text.strip()
    try:
        if t.lower() == "now":
            return clock()
        m = _RELATIVE.match(t)
        when = clock() - parse_duration(m.group(1).strip()) if m else parse_time(t)
        if not EARLIEST <= when <= LATEST:
            raise TimeParseError(f"{text!r} is outside the years 1 to 9999")
        return when
    except (TimeParseError, OverflowError, ValueError) as exc:
        raise TimeParseError(f"{field}: {exc} (use ISO 8601 like 2026-03-04T10:20:00Z, "
                             "'now' or 'now-2d')") from None


def parse_duration_field(text: str | None, field: str) -> int | None:
    """A duration (``P7D``, ``7d``) from a request; a bad one names ``field``."""
    if text is None:
        return None
    try:
        span = parse_duration(text)
        if not -LATEST <= span <= LATEST:
            raise TimeParseError(f"{text!r} is longer than 10,000 years")
        return span
    except (TimeParseError, OverflowError, ValueError) as exc:
        raise TimeParseError(f"{field}: {exc} (use P7D or 7d)") from None
