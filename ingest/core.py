"""The ingest pipeline every adapter plugs into.

An adapter (one module per real-world format) *reads* a :class:`Source` and
*yields batches*: lists of graph_schema facts, each batch written to the store
in one transaction. A record that cannot be turned into facts makes its batch a
rejected batch (the error names file, line or document, field and value); the
other batches are kept. The pipeline validates every fact once, here; adapters
never touch the store except through the :class:`Context` (name resolution,
stale-fact cleanup, current attributes).

Order of work: files are grouped by their adapter's ``order`` (topology < 40 <
changes < 60 < alerts and incidents) and read group by group. A batch marked
``after_stage`` is built only once every file of its group has been read (a
Kubernetes Deployment in one file may need the Service in another); a batch
whose edges name nodes no file has defined yet is retried at the end of the run.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ccm.errors import BatchRejected
from ccm.store.base import Store
from graph_schema import Close, FactError, NodeFact, validate
from graph_schema.facts import Fact
from graph_schema.timeutil import now_micros
from ingest.resolver import Resolver
from ingest.source import (
    MAX_LINE_BYTES,
    IngestError,
    Source,
    iter_lines,
    read_head,
    read_text,
)

DEFAULT_BATCH = 1000

__all__ = [
    "DEFAULT_BATCH", "MAX_LINE_BYTES", "Adapter", "Batch", "Context", "FileReport",
    "IngestError", "IngestReport", "Resolver", "Source", "detect", "expand", "ingest_bytes",
    "ingest_paths", "ingest_sources", "iter_lines", "node_at", "read_head", "read_text",
    "registry",
]


@dataclass(slots=True)
class Batch:
    """Facts from a group of records, written atomically; or the reason they were not."""

    where: str
    records: int
    facts: list[Fact] = field(default_factory=list)
    error: FactError | None = None
    #: bytes of the source read so far (for progress), when the adapter knows
    bytes_done: int | None = None
    #: rebuilds the batch from its records (names resolved afresh); lets the pipeline
    #: retry a batch whose edges named nodes that a later file of the run defines
    redo: Callable[[], Batch] | None = None
    #: build this batch (with ``redo``) only after every file of its stage was read
    after_stage: bool = False
    #: called once the batch is written (adapters record per-source state here)
    on_written: Callable[[], None] | None = None


def node_at(ref: str, at: int, attrs: Mapping[str, Any] | None = None, *, source: str = "",
            origin: str = "") -> NodeFact:
    """The node fact ``ref`` (``<kind>:<name>``) with ``attrs``, valid from ``at``."""
    kind, name = ref.split(":", 1)
    return NodeFact(kind, name, dict(attrs or {}), at, source=source, origin=origin)


class Adapter(Protocol):
    """One input format."""

    #: the --format name
    name: str
    #: one line for --help and docs
    description: str
    #: lower runs first when a folder holds several formats (topology < 40 < changes < 60)
    order: int

    def sniff(self, src: Source, head: str) -> bool:
        """Whether ``src`` (whose first bytes decode to ``head``) is in this format."""
        ...

    def read(self, src: Source, ctx: Context) -> Iterator[Batch]:
        """Yield the source's batches, in order."""
        ...


@dataclass
class Context:
    """What an adapter may use while reading: the store (through helpers), defaults."""

    store: Store
    #: valid time for sources that carry no timestamp of their own (``--at``)
    at: int
    batch_size: int = DEFAULT_BATCH
    #: alertname -> signal entries that override the built-in table (see ingest.alerts)
    signals: Mapping[str, str] = field(default_factory=dict)
    resolver: Resolver = field(init=False)
    #: per-run caches of adapters, by adapter name
    state: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.resolver = Resolver(self.store)

    def stale_closes(self, source: str, current: set[str], at: int, where: str) -> list[Close]:
        """Closes for facts that ``source`` asserted before but no longer does."""
        gone = self.store.open_fact_ids(source, at) - current
        return [Close(fid, at, source=source, origin=where) for fid in sorted(gone)]

    def current_attrs(self, fact_ids: Iterable[str], at: int) -> dict[str, dict[str, Any]]:
        """The attributes of those facts true at ``at`` (as known now), by fact id."""
        ids = sorted(set(fact_ids))
        if not ids:
            return {}
        return {fid: dict(v.attrs) for fid, v in self.store.versions_at(ids, at).items()}


@dataclass
class FileReport:
    """What ingesting one file did."""

    path: str
    format: str
    added: int = 0
    unchanged: int = 0
    closed: int = 0
    rejected: int = 0
    batches: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "format": self.format, "added": self.added,
                "unchanged": self.unchanged, "closed": self.closed, "rejected": self.rejected,
                "batches": self.batches, "errors": self.errors}


@dataclass
class IngestReport:
    files: list[FileReport] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(f.ok for f in self.files)

    def totals(self) -> dict[str, int]:
        keys = ("added", "unchanged", "closed", "rejected")
        return {k: sum(getattr(f, k) for f in self.files) for k in keys}

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "totals": self.totals(),
                "files": [f.to_dict() for f in self.files]}


# -- finding and detecting inputs --------------------------------------------------------

def registry() -> dict[str, Adapter]:
    """Every adapter, by format name, in detection order."""
    from ingest.adapters import ADAPTERS

    return {a.name: a for a in ADAPTERS}


def expand(paths: Iterable[str | Path]) -> list[Path]:
    """Files under ``paths`` (folders recursively, hidden files skipped), sorted."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            for root, dirs, files in os.walk(p):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                out.extend(Path(root) / f for f in sorted(files) if not f.startswith("."))
        else:
            out.append(p)
    return out


def detect(src: Source, adapters: Mapping[str, Adapter]) -> Adapter | None:
    """The first adapter whose ``sniff`` recognises ``src``, or None."""
    head = read_head(src)
    if not head.strip():
        return None
    for adapter in adapters.values():
        if adapter.sniff(src, head):
            return adapter
    return None


# -- the pipeline ------------------------------------------------------------------------

ProgressHook = Callable[[str, int, int], None]


def ingest_paths(store: Store, paths: Iterable[str | Path], *, fmt: str | None = None,
                 at: int | None = None, batch_size: int = DEFAULT_BATCH,
                 progress: ProgressHook | None = None,
                 signals: Mapping[str, str] | None = None) -> IngestReport:
    """Ingest files and folders into ``store``; returns a report per file.

    ``fmt`` forces a format (else each file's is detected). ``at`` is the valid time
    for sources without timestamps (default: now). ``progress(path, done, total)``
    is called as bytes are read. ``signals`` overrides alertname -> signal entries.
    """
    sources = [Source.from_path(p) for p in expand(paths)]
    return ingest_sources(store, sources, fmt=fmt, at=at, batch_size=batch_size,
                          progress=progress, signals=signals)


def ingest_bytes(store: Store, fmt: str | None, data: bytes, name: str, at: int | None = None,
                 *, batch_size: int = DEFAULT_BATCH,
                 signals: Mapping[str, str] | None = None) -> FileReport:
    """Ingest one payload held in memory (an API request body) exactly as a file.

    ``name`` stands for the file name in errors and per-source state; ``fmt`` None
    detects the format from the payload.
    """
    report = ingest_sources(store, [Source.from_bytes(data, name)], fmt=fmt, at=at,
                            batch_size=batch_size, signals=signals)
    return report.files[0]


def ingest_sources(store: Store, sources: Sequence[Source], *, fmt: str | None = None,
                   at: int | None = None, batch_size: int = DEFAULT_BATCH,
                   progress: ProgressHook | None = None,
                   signals: Mapping[str, str] | None = None) -> IngestReport:
    """Ingest ``sources`` (files or payloads), topology before changes before alerts."""
    adapters = registry()
    if fmt is not None and fmt not in adapters:
        raise IngestError(f"unknown format {fmt!r} (known: {', '.join(adapters)})")
    ctx = Context(store, now_micros() if at is None else at, batch_size,
                  dict(signals or {}))
    plan: list[tuple[Source, Adapter | None]] = []
    for src in sources:
        try:
            plan.append((src, adapters[fmt] if fmt else detect(src, adapters)))
        except OSError:
            plan.append((src, None))
    plan.sort(key=lambda pa: pa[1].order if pa[1] else 99)
    run = _Run(ctx, progress)
    report = IngestReport()
    for _, group in itertools.groupby(plan, key=lambda pa: pa[1].order if pa[1] else 99):
        for src, adapter in group:
            report.files.append(run.ingest_file(src, adapter))
        run.end_stage()
    run.end()
    return report


class _Run:
    """One ingest run: writes batches, holds the ones that wait (stage, unknown nodes)."""

    def __init__(self, ctx: Context, progress: ProgressHook | None) -> None:
        self.ctx = ctx
        self.progress = progress
        self.stage: list[tuple[Batch, FileReport]] = []
        self.deferred: list[tuple[Batch, FileReport]] = []

    def ingest_file(self, src: Source, adapter: Adapter | None) -> FileReport:
        fr = FileReport(str(src), adapter.name if adapter else "?")
        if adapter is None:
            if not src.exists():
                fr.errors.append(f"{src}: no such file")
            else:
                fr.errors.append(f"{src}: unrecognised format (name one with --format; "
                                 f"known: {', '.join(registry())})")
            return fr
        try:
            total = src.size()
            for batch in adapter.read(src, self.ctx):
                self._take(batch, fr)
                if self.progress:
                    done = total if batch.bytes_done is None else batch.bytes_done
                    self.progress(str(src), min(total, done), total)
        except IngestError as exc:
            fr.errors.append(str(exc))
        except FactError as exc:
            fr.errors.append(f"rejected: {exc}")
        except OSError as exc:
            fr.errors.append(f"{src}: cannot read: {exc.strerror or exc}")
        except RecursionError:
            fr.errors.append(f"{src}: nested too deeply to read")
        except MemoryError:
            fr.errors.append(f"{src}: too large to read in memory")
        return fr

    def _take(self, batch: Batch, fr: FileReport) -> None:
        if batch.records or batch.facts or batch.error is not None:
            fr.batches += 1
        if batch.error is not None:
            self._reject(batch, fr, str(batch.error))
        elif batch.after_stage:
            self.stage.append((batch, fr))
        else:
            self._write(batch, fr, defer=True)

    def end_stage(self) -> None:
        """Build and write the batches that waited for the whole stage to be read, then
        retry the batches that named nodes this stage has since written."""
        waiting, self.stage = self.stage, []
        for batch, fr in waiting:
            again = _rebuild(batch)
            if again.error is not None:
                self._reject(again, fr, str(again.error))
            else:
                self._write(again, fr, defer=True)
        self._retry(final=False)

    def end(self) -> None:
        """Retry the batches still waiting for nodes; reject those that still name
        nodes nothing defined."""
        self._retry(final=True)

    def _retry(self, final: bool) -> None:
        pending, self.deferred = self.deferred, []
        while pending:
            still: list[tuple[Batch, FileReport]] = []
            for batch, fr in pending:
                again = _rebuild(batch)
                if again.error is not None:
                    self._reject(again, fr, str(again.error))
                elif not self._write(again, fr, retry=True):
                    still.append((batch, fr))
            if len(still) == len(pending):
                if not final:
                    self.deferred = still
                    return
                for batch, fr in still:
                    again = _rebuild(batch)
                    if again.error is not None:
                        self._reject(again, fr, str(again.error))
                    else:
                        self._write(again, fr)
                return
            pending = still

    def _reject(self, batch: Batch, fr: FileReport, why: str) -> None:
        self.ctx.resolver.discard()
        fr.rejected += batch.records
        what = f"rejected ({batch.records} record{'s' if batch.records != 1 else ''})"
        if why.startswith(batch.where):
            fr.errors.append(f"{what}: {why}")
        else:
            fr.errors.append(f"{batch.where}: {what}: {why}")

    def _write(self, batch: Batch, fr: FileReport, defer: bool = False,
               retry: bool = False) -> bool:
        """Write a batch; False if it named unknown nodes and was kept for a retry."""
        try:
            facts = [validate(f) for f in batch.facts]
        except FactError as exc:
            self._reject(batch, fr, str(exc))
            return True
        if facts:
            try:
                result = self.ctx.store.write(facts, validated=True)
            except BatchRejected as exc:
                unknown = exc.field in ("from", "to") and "unknown node" in exc.error.problem
                if unknown and batch.redo is not None and (defer or retry):
                    self.ctx.resolver.discard()
                    if defer:
                        self.deferred.append((batch, fr))
                    return False
                self._reject(batch, fr, str(exc))
                return True
            fr.added += result.added
            fr.unchanged += result.unchanged
            fr.closed += result.closed
        self.ctx.resolver.commit(f.ref for f in facts if isinstance(f, NodeFact))
        if batch.on_written is not None:
            batch.on_written()
        return True


def _rebuild(batch: Batch) -> Batch:
    if batch.redo is None:
        return Batch(batch.where, batch.records, [], FactError(
            batch.where, "(batch)", None, "cannot be rebuilt"))
    try:
        again = batch.redo()
    except FactError as exc:
        return Batch(batch.where, batch.records, [], exc)
    again.after_stage = False
    return again
