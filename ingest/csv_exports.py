"""CSV exports of deploys and of incidents (from a deploy tool or an incident tracker),
read with Python's csv module in chunks of ``--batch-size`` rows.

- deploys: columns ``id, time, service`` (required), ``version, kind, description,
  previous_version, author`` (optional). ``kind`` is a change kind (default
  ``deploy``); each row is a change through :mod:`ingest.changes`.
- incidents: columns ``id, title, started_at`` (required), ``resolved_at, severity,
  root_cause, detected_at, status, impact, summary, url, chain, involves``
  (optional); ``chain`` and ``involves`` hold node references separated by ``->``
  or ``;``. Each row is an incident through :mod:`ingest.incidents`.

Column names are matched case-insensitively; unknown columns are ignored; empty
cells are absent values; blank lines are skipped; a quoted value may span lines. A
bad row is rejected alone, naming the row and column (a row with more fields than
the header, an unquoted comma, too). Rows are numbered from the first
row after the header.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from typing import Any

from graph_schema import CHANGE_KINDS, FactError, TimeParseError, parse_time
from graph_schema.facts import Fact
from ingest.changes import change_facts
from ingest.core import Batch, Context
from ingest.incidents import incidents_facts, names_in
from ingest.records import Built, per_record
from ingest.source import IngestError, Source, iter_lines

DEPLOY_COLUMNS = ("id", "time", "service")
INCIDENT_COLUMNS = ("id", "title", "started_at")
_DEPLOY_ATTRS = ("version", "description", "previous_version", "author")


def _lines(src: Source, on_bytes: Callable[[int], None]) -> Iterator[str]:
    """The text of a source for the CSV reader, line by line through the safe reader."""
    for n, line in iter_lines(src, on_bytes):
        if isinstance(line, FactError):
            raise IngestError(f"{line}; nothing after line {n} was read")
        yield line


def deploys_facts(ctx: Context, rows: list[tuple[Any, str]]) -> Built:
    return per_record(((where, row) for row, where in rows),
                      lambda where, row: deploy_facts(ctx, row, where))


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
    """A CSV export, each row mapped by ``to_facts``."""

    def __init__(self, name: str, required: tuple[str, ...], order: int, description: str,
                 to_facts: Callable[[Context, list[tuple[Any, str]]], Built]) -> None:
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

        reader = csv.reader(_lines(src, count), skipinitialspace=True, strict=True)
        try:
            header = next((r for r in reader if any(f.strip() for f in r)), None)
            if header is None:
                return
            columns = [c.strip().lower() for c in header]
            missing = [c for c in self.required if c not in columns]
            if missing:
                raise IngestError(f"{src}: missing column(s) {', '.join(missing)} "
                                  f"(a {self.name} export needs {', '.join(self.required)})")
            rows: list[tuple[int, dict[str, str]]] = []
            row = 0
            for fields in reader:
                if not any(f.strip() for f in fields):
                    continue  # a blank line
                row += 1
                if len(fields) > len(columns):  # rejected alone; the others are kept
                    yield Batch(f"{src}: row {row}", 1, bytes_done=done, error=FactError(
                        f"{src}: row {row} (line {reader.line_num})", "(row)", len(fields),
                        f"expected at most {len(columns)} fields, as many as the header "
                        "(quote a value that holds a comma)"))
                    continue
                rows.append((row, {c: v.strip() for c, v in zip(columns, fields, strict=False)
                                   if v.strip()}))
                if len(rows) == ctx.batch_size:
                    yield self._batch(ctx, src, rows, done)
                    rows = []
            if rows:
                yield self._batch(ctx, src, rows, done)
        except csv.Error as exc:
            raise IngestError(f"{src}: not a valid CSV file: line {reader.line_num}: {exc}"
                              ) from None

    def _batch(self, ctx: Context, src: Source, rows: list[tuple[int, dict[str, str]]],
               done: int) -> Batch:
        where = f"{src}: rows {rows[0][0]}-{rows[-1][0]}" if rows else str(src)
        try:
            ctx.resolver.prefetch(n for _, r in rows for n in _names(r))
            built = self.to_facts(ctx, [(self._complete(rec, f"{src}: row {n}"),
                                         f"{src}: row {n}") for n, rec in rows])
        except FactError as exc:
            return Batch(where, len(rows), error=exc, bytes_done=done)
        batch = Batch(where, len(rows), built.facts, bytes_done=done, spans=built.spans,
                      rejects=built.rejects)
        batch.redo = lambda: self._batch(ctx, src, rows, done)
        return batch

    def _complete(self, rec: dict[str, str], where: str) -> dict[str, str] | FactError:
        """The row, or a FactError naming its first required column that is empty."""
        missing = next((col for col in self.required if not rec.get(col)), None)
        return rec if missing is None else FactError(where, missing, None, "missing")


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
