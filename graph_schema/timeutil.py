"""Time values: CCM stores every instant as integer microseconds since the epoch, UTC.

``parse_time`` reads what sources give (ISO 8601 strings, datetimes, epoch
seconds) and ``format_time`` writes ISO 8601 with a ``Z``. Durations use ISO
8601 (``P7D``, ``PT30M``) or short forms (``7d``, ``30m``, ``90s``).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

#: the "open" end of a validity interval (a fact still true)
OPEN = 2**63 - 1
#: "everything recorded so far": the default knowledge time of queries
KNOWN_NOW = OPEN - 1
#: the last instant a datetime can show (9999-12-31); later values print as None
MAX_SHOWN = 253402300799 * 1_000_000
#: the beginning of time for facts from sources that carry no timestamp
BEGINNING = 0
MICROS = 1_000_000

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_FRACTION_RE = re.compile(r"(\.\d+)")


class TimeParseError(ValueError):
    """A value could not be read as a time or a duration."""


def parse_time(value: Any) -> int:
    """Return ``value`` as microseconds since the epoch (UTC).

    Accepts ISO 8601 strings (``2026-03-04T10:20:00Z``, offsets, a bare date),
    timezone-aware datetimes, and epoch seconds as int/float. A naive datetime
    or a string without an offset is read as UTC.

    >>> parse_time("1970-01-01T00:00:01Z")
    1000000
    >>> format_time(parse_time("2026-03-04T10:20:00+01:00"))
    '2026-03-04T09:20:00Z'
    """
    if isinstance(value, bool):
        raise TimeParseError(f"not a time: {value!r}")
    if isinstance(value, datetime):
        dt = value if value.tzinfo else value.replace(tzinfo=UTC)
        delta = dt - _EPOCH
        return (delta.days * 86400 + delta.seconds) * MICROS + delta.microseconds
    if isinstance(value, (int, float)):
        return int(round(value * MICROS))
    if not isinstance(value, str):
        raise TimeParseError(f"not a time: {value!r}")
    text = value.strip()
    if not text:
        raise TimeParseError("empty time")
    if text.lower() == "now":
        return now_micros()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    # Python <3.11-style restrictions are gone in 3.11, but nanosecond fractions
    # (Kubernetes, Go) still need trimming to microseconds.
    m = _FRACTION_RE.search(text)
    if m and len(m.group(1)) > 7:
        text = text[: m.start()] + m.group(1)[:7] + text[m.end():]
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        raise TimeParseError(f"not an ISO 8601 time: {value!r}") from None
    return parse_time(dt)


def format_time(micros: int | None) -> str | None:
    """ISO 8601 UTC with a ``Z``; None (and the open end) stay None."""
    if micros is None or micros >= MAX_SHOWN:
        return None
    dt = _EPOCH + timedelta(microseconds=micros)
    text = dt.strftime("%Y-%m-%dT%H:%M:%S")
    if dt.microsecond:
        text += f".{dt.microsecond:06d}".rstrip("0")
    return text + "Z"


def to_datetime(micros: int) -> datetime:
    return _EPOCH + timedelta(microseconds=micros)


def now_micros() -> int:
    return parse_time(datetime.now(UTC))


class ManualClock:
    """A clock (µs UTC) that moves only when told: for scenarios, demos and tests.

    >>> clock = ManualClock(1_000)
    >>> clock(), clock.advance(500), clock()
    (1000, 1500, 1500)
    """

    def __init__(self, now: int) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now

    def advance(self, micros: int = 1_000_000) -> int:
        """Move the clock ``micros`` forward; returns the new time."""
        self.now += micros
        return self.now


_ISO_DURATION = re.compile(
    r"^P(?:(?P<w>\d+(?:\.\d+)?)W)?(?:(?P<d>\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(?P<h>\d+(?:\.\d+)?)H)?(?:(?P<m>\d+(?:\.\d+)?)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?$"
)
_SHORT_DURATION = re.compile(r"^(?P<n>\d+(?:\.\d+)?)\s*(?P<u>w|d|h|m|s|ms)$")
_UNIT = {"w": 7 * 86400, "d": 86400, "h": 3600, "m": 60, "s": 1, "ms": 0.001}


def parse_duration(value: Any) -> int:
    """Return a duration in microseconds: ``P7D``, ``PT30M``, ``7d``, ``90s``.

    >>> parse_duration("P1DT1H") == (86400 + 3600) * 1_000_000
    True
    """
    if isinstance(value, timedelta):
        return int(value.total_seconds() * MICROS)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value * MICROS)
    if not isinstance(value, str) or not value.strip():
        raise TimeParseError(f"not a duration: {value!r}")
    text = value.strip()
    m = _ISO_DURATION.match(text.upper())
    if m and any(m.groupdict().values()):
        g = {k: float(v) if v else 0.0 for k, v in m.groupdict().items()}
        seconds = g["w"] * 7 * 86400 + g["d"] * 86400 + g["h"] * 3600 + g["m"] * 60 + g["s"]
        return int(round(seconds * MICROS))
    m = _SHORT_DURATION.match(text.lower())
    if m:
        return int(round(float(m.group("n")) * _UNIT[m.group("u")] * MICROS))
    raise TimeParseError(f"not a duration (use ISO 8601 like P7D or 7d, 30m): {value!r}")
