"""Per-record rejection: which facts of a batch belong to which record.

A batch is written in one transaction, but it is rejected record by record: an
adapter says which facts each record gave (:attr:`ingest.core.Batch.spans`, built
with :func:`per_record` or :func:`each_record`) and which records it refused while
building them (:attr:`ingest.core.Batch.rejects`). The pipeline validates the
facts (:func:`ready`), drops a record holding a fact that fails validation or that
the store refuses (:meth:`Ready.drop`), and writes the others.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, TypeVar

from ccm.errors import BatchRejected
from ccm.store.types import WriteResult
from graph_schema import EdgeFact, FactError, NodeFact, validate
from graph_schema.facts import Fact
from ingest.core import Batch, Context, FileReport

if TYPE_CHECKING:
    from ingest.writer import Writer

T = TypeVar("T")
R = TypeVar("R")

__all__ = ["Built", "Ready", "each_record", "per_record", "ready", "rebuild", "rejection",
           "unknown_node"]



class Sink(Protocol):
    """What an ingest run offers the parts that write its batches (:mod:`ingest.waiting`,
    :mod:`ingest.overlap`); :class:`ingest.pipeline.Run` is the one implementation."""

    ctx: Context

    def take(self, batch: Batch, fr: FileReport) -> None: ...

    def reject(self, batch: Batch, fr: FileReport, why: str, token: int) -> None: ...

    def write(self, batch: Batch, fr: FileReport, token: int, defer: bool = False,
              retry: bool = False) -> bool: ...

    def written(self, batch: Batch, fr: FileReport, token: int, rd: Ready,
                result: WriteResult | None) -> None: ...

    def start_writer(self) -> Writer | None: ...


@dataclass
class Built:
    """The facts of a batch's records, each record's ``(where, number of facts)`` in
    order, and the records refused while built."""

    facts: list[Fact] = field(default_factory=list)
    spans: list[tuple[str, int]] = field(default_factory=list)
    rejects: list[FactError] = field(default_factory=list)


def each_record(items: Iterable[tuple[str, T]], build: Callable[[str, T], R],
                rejects: list[FactError]) -> Iterator[tuple[str, R]]:
    """``(where, build(where, item))`` for each record ``(where, item)``; a record whose
    item is a FactError, or whose build raises one, is added to ``rejects`` instead."""
    for where, item in items:
        try:
            if isinstance(item, FactError):
                raise item
            out = build(where, item)
        except FactError as exc:
            rejects.append(exc)
            continue
        yield where, out


def per_record(items: Iterable[tuple[str, T]],
               build: Callable[[str, T], list[Fact]]) -> Built:
    """The facts ``build(where, item)`` gives for each record, with the records' spans;
    a record refused while built (see :func:`each_record`) is left out, named."""
    built = Built()
    facts, spans = built.facts, built.spans
    for where, new in each_record(items, build, built.rejects):
        facts.extend(new)
        spans.append((where, len(new)))
    return built


@dataclass
class Ready:
    """A batch's facts validated for writing, less the records dropped, and why."""

    facts: list[Fact]
    #: the kept records' spans (None: the batch is all or nothing)
    spans: list[tuple[str, int]] | None
    #: ``(record where, error)`` of each record refused (while built, or here)
    refused: list[tuple[str, FactError]]
    #: the nodes of the records dropped here (an edge of another record to one of
    #: them is dropped in turn: that node will not be written)
    lost: set[str] = field(default_factory=set)

    def drop(self, error: FactError, index: int | None) -> bool:
        """Drop the record holding fact ``index``, which the store refused for
        ``error``; False if no record holds it (the batch is all or nothing, or the
        fact comes after its records)."""
        if self.spans is None or index is None:
            return False
        start = 0
        for k, (where, n) in enumerate(self.spans):
            if index < start + n:
                gone = self.facts[start:start + n]
                del self.facts[start:start + n]
                del self.spans[k]
                self.refused.append((where, error))
                self.lost.update(f.ref for f in gone if type(f) is NodeFact)
                return True
            start += n
        return False

    def drop_naming(self, ref: str, error: FactError) -> int:
        """Drop every record with an edge from or to the node ``ref``, which the store
        does not have (``error`` says so for one of them; each is named by its own
        edge): one write attempt for all the records naming a missing node. Returns
        how many were dropped."""
        if self.spans is None:
            return 0
        kept: list[Fact] = []
        spans: list[tuple[str, int]] = []
        start = dropped = 0
        for where, n in self.spans:
            part = self.facts[start:start + n]
            start += n
            edge = next((f for f in part if type(f) is EdgeFact and ref in (f.src, f.dst)),
                        None)
            if edge is None:
                kept.extend(part)
                spans.append((where, n))
                continue
            dropped += 1
            field_name = "from" if edge.src == ref else "to"
            self.refused.append((where, FactError(edge.origin or where, field_name, ref,
                                                  error.problem)))
            self.lost.update(f.ref for f in part if type(f) is NodeFact)
        if dropped:
            self.facts = kept + self.facts[start:]
            self.spans = spans
        return dropped

    def names_lost(self, exc: BatchRejected) -> bool:
        """Whether the store refused an edge to a node of a record dropped here."""
        return exc.field in ("from", "to") and exc.value in self.lost


def ready(batch: Batch) -> Ready:
    """``batch``'s facts validated; a record with a fact that fails validation is
    dropped. Raises FactError for a bad fact outside every record (or any bad fact,
    when the batch has no spans)."""
    refused = [(exc.where, exc) for exc in batch.rejects or ()]
    try:
        return Ready([validate(f) for f in batch.facts], batch.spans and list(batch.spans),
                     refused)
    except FactError:
        if not batch.spans:
            raise
    out = Ready([], [], refused)
    spans: list[tuple[str, int]] = []
    facts, start = batch.facts, 0
    for where, n in batch.spans:
        part = facts[start:start + n]
        start += n
        try:
            checked = [validate(f) for f in part]
        except FactError as exc:
            out.refused.append((where, exc))
            out.lost.update(f.ref for f in part if type(f) is NodeFact)
            continue
        out.facts.extend(checked)
        spans.append((where, n))
    out.facts.extend(validate(f) for f in facts[start:])
    out.spans = spans
    return out


def rejection(where: str, exc: FactError | str) -> str:
    """The report line of one record rejected at ``where`` for ``exc``."""
    why = str(exc)
    return f"rejected: {why}" if why.startswith(where) else f"{where}: rejected: {why}"


def rebuild(batch: Batch) -> Batch:
    """The batch built again from its records (``Batch.redo``: names resolved afresh),
    or a batch rejected whole saying why it cannot be."""
    if batch.redo is None:
        return Batch(batch.where, batch.records, [], FactError(
            batch.where, "(batch)", None, "cannot be rebuilt"))
    try:
        again = batch.redo()
    except FactError as exc:
        return Batch(batch.where, batch.records, [], exc)
    again.after_stage = False
    return again


def unknown_node(exc: BatchRejected) -> bool:
    """Whether the store refused an edge to a node that does not exist (yet)."""
    return exc.field in ("from", "to") and "unknown node" in exc.error.problem
