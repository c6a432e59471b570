"""CSV exports of deploys and of incidents (from a deploy tool or an incident tracker),
read with pandas in chunks of ``--batch-size`` rows.

- deploys: columns ``id, time, service`` (required), ``version, kind, description,
  previous_version, author`` (optional). ``kind`` is a change kind (default
  ``deploy``); each row is a change through :mod:`ingest.changes`.
- incidents: columns ``id, title, started_at`` (required), ``resolved_at, severity,
  root_cause, detected_at, status, impact, summary, url, chain, involves``
  (optional); ``chain`` and ``involves`` hold node references separated by ``->``
  or ``;``. Each row is an incident through :mod:`ingest.incidents`.

Column names are matched case-insensitively; unknown columns are ignored; empty
cells are absent values. A bad row rejects its chunk, naming the row and column; a
row with more fields than the header is rejected alone (pandas leaves it out).
"""

from __future__ import annotations

import io
import re
import threading
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import pandas as pd

from graph_schema import CHANGE_KINDS, FactError, TimeParseError, parse_time
from graph_schema.facts import Fact
from ingest.changes import change_facts
from ingest.core import Batch, Context
from ingest.incidents import incidents_facts, names_in
from ingest.source import IngestError, Source, iter_lines

DEPLOY_COLUMNS = ("id", "time", "service")
INCIDENT_COLUMNS = ("id", "title", "started_at")
_DEPLOY_ATTRS = ("version", "description", "previous_version", "author")


class _LineStream(io.TextIOBase):
    """The text of a source for pandas, line by line through the safe reader."""

    def __init__(self, src: Source, on_bytes: Callable[[int], None]) -> None:
        self._lines = iter_lines(src, on_bytes)
        self._buf = ""

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> str:
        while size is None or size < 0 or len(self._buf) < size:
            item = next(self._lines, None)
            if item is None:
                break
            n, line = item
            if isinstance(line, FactError):
                raise IngestError(f"{line}; nothing after line {n} was read")
            self._buf += line
        if size is None or size < 0:
            out, self._buf = self._buf, ""
        else:
            out, self._buf = self._buf[:size], self._buf[size:]
        return out


def deploys_facts(ctx: Context, rows: list[tuple[Any, str]]) -> list[Fact]:
    return [f for row, where in rows for f in deploy_facts(ctx, row, where)]


def deploy_facts(ctx: Context, row: dict[str, str], where: str) -> list[Fact]:
    try:
        t = parse_time(row["time"])
    except TimeParseError as exc:
        raise FactError(where, "time", row["time"], str(exc)) from None
    kind = row.get("kind") or "deploy"
    if kind not in CHANGE_KINDS:
        raise FactError(where, "kind", kind, "expected one of " + ", ".join(CHANGE_KINDS))
    attrs = {k: row[k] for k in _DEPLOY_ATTRS if row.get(k)}
    return change_facts(ctx, change_id=row["id"], time=t, change_kind=kind,
                        target=row["service"], attrs=attrs, where=where)


class CsvExport:
    """A CSV export read with pandas, each row mapped by ``to_facts``."""

    def __init__(self, name: str, required: tuple[str, ...], order: int, description: str,
                 to_facts: Callable[[Context, list[tuple[Any, str]]], list[Fact]]) -> None:
        self.name = name
        self.required = required
        self.order = order
        self.description = description
        self.to_facts = to_facts

    def sniff(self, src: Source, head: str) -> bool:
        if src.suffix != ".csv":
            return False
        header = {c.strip().strip('"').lower() for c in head.splitlines()[0].split(",")} \
            if head.strip() else set()
        return set(self.required) <= header

    def read(self, src: Source, ctx: Context) -> Iterator[Batch]:
        done = 0

        def count(n: int) -> None:
            nonlocal done
            done += n

        try:
            reader = pd.read_csv(_LineStream(src, count), dtype=str, keep_default_na=False,
                                 chunksize=ctx.batch_size, skipinitialspace=True,
                                 on_bad_lines="warn")
            row = 0
            skipped: dict[int, FactError] = {}
            for chunk in _chunks(reader, src, skipped):
                chunk.columns = [str(c).strip().lower() for c in chunk.columns]
                missing = [c for c in self.required if c not in chunk.columns]
                if missing:
                    raise IngestError(f"{src}: missing column(s) {', '.join(missing)} "
                                      f"(a {self.name} export needs {', '.join(self.required)})")
                rows = []
                for rec in chunk.to_dict("records"):
                    row += 1
                    while row in skipped:   # a row of the wrong width is rejected alone
                        yield Batch(f"{src}: rows {row}-{row}", 1, error=skipped.pop(row))
                        row += 1
                    rows.append((row, {k: str(v).strip() for k, v in rec.items()
                                       if str(v).strip()}))
                yield self._batch(ctx, src, rows, done)
            for n in sorted(skipped):
                yield Batch(f"{src}: rows {n}-{n}", 1, error=skipped[n])
        except pd.errors.EmptyDataError:
            return
        except (pd.errors.ParserError, ValueError) as exc:
            raise IngestError(f"{src}: not a valid CSV file: {exc}") from None

    def _batch(self, ctx: Context, src: Source, rows: list[tuple[int, dict[str, str]]],
               done: int) -> Batch:
        where = f"{src}: rows {rows[0][0]}-{rows[-1][0]}" if rows else str(src)
        facts: list[Fact] = []
        try:
            ctx.resolver.prefetch(n for _, r in rows for n in _names(r))
            for n, rec in rows:
                for col in self.required:
                    if not rec.get(col):
                        raise FactError(f"{src}: row {n}", col, None, "missing")
            facts = self.to_facts(ctx, [(rec, f"{src}: row {n}") for n, rec in rows])
        except FactError as exc:
            return Batch(where, len(rows), error=exc, bytes_done=done)
        batch = Batch(where, len(rows), facts, bytes_done=done)
        batch.redo = lambda: self._batch(ctx, src, rows, done)
        return batch


_WARNINGS = threading.Lock()
_BAD_LINE = re.compile(r"line (\d+): expected (\d+) fields, saw (\d+)")


def _chunks(reader: Iterator[pd.DataFrame], src: Source, skipped: dict[int, FactError]
            ) -> Iterator[pd.DataFrame]:
    """The reader's chunks; each row that has more fields than the header is left out
    by pandas and added to ``skipped`` (row number -> error) as it is read."""
    while True:
        # catch_warnings swaps process-wide state: one thread at a time (API ingests run
        # in a thread pool), or one thread's skipped rows could go unreported
        with _WARNINGS, warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", pd.errors.ParserWarning)
            chunk = next(reader, None)
        for w in caught:
            for m in _BAD_LINE.finditer(str(w.message)):
                n = int(m.group(1)) - 1   # pandas counts the header as line 1
                skipped[n] = FactError(f"{src}: row {n}", "(row)", int(m.group(3)),
                                       f"expected {m.group(2)} fields, as many as the header "
                                       "(quote a value that holds a comma)")
        if chunk is None:
            return
        yield chunk


def _names(row: dict[str, Any]) -> list[str]:
    return ([row["service"]] if row.get("service") else []) + names_in(row)


ADAPTERS = (
    CsvExport("deploys-csv", DEPLOY_COLUMNS, 45,
              "CSV export of deploys (id, time, service, version, kind, description)",
              deploys_facts),
    CsvExport("incidents-csv", INCIDENT_COLUMNS, 70,
              "CSV export of incidents (id, title, started_at, resolved_at, severity, ...)",
              incidents_facts),
)
