"""What the JSON webhook formats share (Argo CD notifications, GitHub deployment
statuses, PagerDuty): payloads one per file, per line, or as a JSON list, read in
batches of ``--batch-size`` payloads, each payload mapped by a pure function.

A payload's function returns its facts, or [] for a payload CCM does not model,
which it counts in the batch's :class:`Tally` (``"GitHub deployment_status
in_progress": 1``): a skipped payload is never an error. Remarks that are not errors
go to the tally's notes. A payload that cannot be mapped raises
:class:`graph_schema.FactError` naming the file, line (or list index), field and
value; it rejects its batch (``--batch-size 1``: itself alone).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from graph_schema import FactError, TimeParseError, parse_time
from graph_schema.facts import Fact
from ingest.core import Batch, Context
from ingest.records import per_record
from ingest.source import Source, iter_json_records


@dataclass
class Tally:
    """What a batch's payloads skipped (by what they are) and remarked."""

    skipped: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def skip(self, what: str) -> list[Fact]:
        """Count one payload of ``what`` as read and not modelled; no facts."""
        self.skipped[what] = self.skipped.get(what, 0) + 1
        return []


#: ``(ctx, payload, where, tally) -> facts``
PayloadFacts = Callable[[Context, Any, str, Tally], list[Fact]]
#: ``(payload) -> names`` it mentions, looked up in the store at once per batch
PayloadNames = Callable[[Any], list[str]]


def payload_chunks(src: Source, size: int) -> Iterator[tuple[list[tuple[str, Any]], int]]:
    """The ``(where, payload)`` items of a JSON source, ``size`` at a time, each chunk
    with the bytes read so far (for progress)."""
    done = 0

    def count(n: int) -> None:
        nonlocal done
        done += n

    chunk: list[tuple[str, Any]] = []
    for item in iter_payloads(src, count):
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk, done
            chunk = []
    if chunk:
        yield chunk, done


def payload_batches(src: Source, ctx: Context, facts_of: PayloadFacts,
                    names_of: PayloadNames,
                    finish: Callable[[Context, list[Fact]], list[Fact]] | None = None
                    ) -> Iterator[Batch]:
    """The batches of a JSON webhook source; ``finish`` post-processes a batch's facts
    (e.g. merges them with what other sources say)."""
    for chunk, done in payload_chunks(src, ctx.batch_size):
        yield _batch(ctx, chunk, done, facts_of, names_of, finish)


def iter_payloads(src: Source, on_bytes: Callable[[int], None] | None = None
                  ) -> Iterator[tuple[str, Any]]:
    """``(where, payload)`` of a JSON source (see :func:`ingest.source.iter_json_records`),
    a line holding a JSON list (a batch of events) giving its items."""
    for where, value in iter_json_records(src, on_bytes):
        if isinstance(value, list):
            yield from ((f"{where}[{i}]", v) for i, v in enumerate(value))
        else:
            yield where, value


def _batch(ctx: Context, chunk: list[tuple[str, Any]], done: int, facts_of: PayloadFacts,
           names_of: PayloadNames,
           finish: Callable[[Context, list[Fact]], list[Fact]] | None) -> Batch:
    where = chunk[0][0] if len(chunk) == 1 else f"{chunk[0][0]} to {chunk[-1][0]}"
    tally = Tally()
    try:
        ctx.resolver.prefetch(n for _, p in chunk if isinstance(p, Mapping) for n in names_of(p))
        built = per_record(chunk, lambda at, payload: facts_of(ctx, payload, at, tally))
        # ``finish`` keeps the facts' number and order, so the records' spans hold
        facts = built.facts if finish is None else finish(ctx, built.facts)
    except FactError as exc:
        return Batch(where, len(chunk), error=exc, bytes_done=done)
    batch = Batch(where, len(chunk), facts, bytes_done=done, skipped=tally.skipped or None,
                  notes=tally.notes or None, spans=built.spans, rejects=built.rejects)
    batch.redo = lambda: _batch(ctx, chunk, done, facts_of, names_of, finish)
    return batch


def get(m: Any, path: str, where: str, *, required: bool = True) -> Any:
    """``m[a][b]...`` for ``path`` ``"a.b"``; a missing required value is a FactError
    naming the path."""
    value = m
    for part in path.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    if required and (value is None or value == ""):
        raise FactError(where, path, None, "missing")
    return value


def text(m: Any, path: str, where: str, *, required: bool = True) -> str | None:
    """A string field (see :func:`get`); a value of another type is a FactError."""
    value = get(m, path, where, required=required)
    if value is None or value == "":
        return None
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        raise FactError(where, path, value, "expected a string")
    return str(value).strip()


def time_of(m: Any, path: str, where: str, *, required: bool = True) -> int | None:
    """A timestamp field as microseconds (see :func:`get`)."""
    value = text(m, path, where, required=required)
    if value is None:
        return None
    try:
        return parse_time(value)
    except TimeParseError as exc:
        raise FactError(where, path, value, str(exc)) from None
