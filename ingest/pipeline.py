"""The ingest pipeline: runs adapters over sources and writes their batches.

Order of work: sources are grouped by their adapter's ``order`` (topology < 40 <
changes < 60 < alerts and incidents) and read group by group. A batch marked
``after_stage`` is built only once every source of its group has been read (a
Kubernetes Deployment in one file may need the Service in another); a batch
whose edges name nodes no source has defined yet is retried at the end of the
stage, then at the end of the run, and rejected if they are still unknown.

Every fact is validated once, here, before the store writes it. The resolver
keeps each batch's new nodes apart until the batch is written, so that a
rejected batch takes back only its own.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

from ccm.errors import BatchRejected
from ccm.store.base import Store
from graph_schema import FactError, NodeFact, validate
from graph_schema.timeutil import now_micros
from ingest.alert_targets import DEFAULT_RULES, TargetRules
from ingest.core import (
    DEFAULT_BATCH,
    Adapter,
    Batch,
    Context,
    FileReport,
    IngestReport,
    detect,
    expand,
    registry,
)
from ingest.gcpause import fewer_collections
from ingest.overlap import Overlap
from ingest.source import IngestError, Source
from ingest.writer import MIN_BYTES, Writer, WriterDied, eligible

ProgressHook = Callable[[str, int, int], None]
#: the most facts written as one transaction when batches wait for each other; a
#: bigger cycle is written nodes first (a Neo4j transaction holds its state in memory)
MAX_TOGETHER = 20_000

__all__ = ["ingest_bytes", "ingest_paths", "ingest_sources"]


def ingest_paths(store: Store, paths: Iterable[str | Path], *, fmt: str | None = None,
                 at: int | None = None, batch_size: int = DEFAULT_BATCH,
                 progress: ProgressHook | None = None,
                 signals: Mapping[str, str] | None = None,
                 alert_targets: TargetRules | None = None) -> IngestReport:
    """Ingest files and folders into ``store``; returns a report per file.

    ``fmt`` forces a format (else each file's is detected). ``at`` is the valid time
    for sources without timestamps (default: now). ``progress(path, done, total)``
    is called as bytes are read. ``signals`` overrides alertname -> signal entries,
    ``alert_targets`` how alert labels name components (ingest.alert_targets).
    """
    sources = [Source.from_path(p) for p in expand(paths)]
    return ingest_sources(store, sources, fmt=fmt, at=at, batch_size=batch_size,
                          progress=progress, signals=signals, alert_targets=alert_targets)


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
                   signals: Mapping[str, str] | None = None,
                   alert_targets: TargetRules | None = None) -> IngestReport:
    """Ingest ``sources`` (files or payloads), topology before changes before alerts."""
    adapters = registry()
    if fmt is not None and fmt not in adapters:
        raise IngestError(f"unknown format {fmt!r} (known: {', '.join(adapters)})")
    ctx = Context(store, now_micros() if at is None else at, batch_size,
                  dict(signals or {}), alert_targets or DEFAULT_RULES)
    plan: list[tuple[Source, Adapter | None]] = []
    for src in sources:
        try:
            plan.append((src, adapters[fmt] if fmt else detect(src, adapters)))
        except OSError:
            plan.append((src, None))
    plan.sort(key=lambda pa: pa[1].order if pa[1] else 99)
    run = _Run(ctx, progress)
    report = IngestReport()
    with fewer_collections():
        try:
            for _, group in itertools.groupby(plan, key=lambda pa: pa[1].order if pa[1] else 99):
                for src, adapter in group:
                    report.files.append(run.ingest_file(src, adapter))
                run.end_stage()
            run.end()
        finally:
            run.close()
    return report


class _Run:
    """One ingest run: writes batches, holds the ones that wait (stage, unknown nodes)."""

    def __init__(self, ctx: Context, progress: ProgressHook | None) -> None:
        self.ctx = ctx
        self.progress = progress
        self.stage: list[tuple[Batch, FileReport]] = []
        self.deferred: list[tuple[Batch, FileReport]] = []
        #: the writer process (ingest.writer), started for the first file big enough
        self.writer: Writer | None = None
        self.writer_broken = False

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
            overlapped = self._may_overlap(src, adapter, total)
            batches = adapter.read(src, self.ctx)
            if overlapped:
                batches = Overlap(self, fr).take(batches)
            try:
                for batch in batches:
                    if not overlapped:
                        self._take(batch, fr)
                    if self.progress:
                        done = total if batch.bytes_done is None else batch.bytes_done
                        self.progress(str(src), min(total, done), total)
            finally:
                close = getattr(batches, "close", None)
                if close is not None:
                    close()
        except WriterDied as exc:
            fr.errors.append(f"{src}: {exc}")
            self._drop_writer()
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

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None

    def _drop_writer(self) -> None:
        self.writer_broken = True
        self.close()

    def _may_overlap(self, src: Source, adapter: Adapter, size: int) -> bool:
        """Whether a writer process may write this file (a big file of an adapter that
        allows it, into a store it can write: :func:`ingest.writer.eligible`)."""
        return (getattr(adapter, "overlapped", False) and src.path is not None
                and size >= MIN_BYTES and not self.writer_broken
                and eligible(self.ctx.store))

    def start_writer(self) -> Writer | None:
        """The run's writer process, started on first use (None: it cannot start)."""
        if self.writer is None and not self.writer_broken:
            try:
                self.writer = Writer(self.ctx.store.path)  # type: ignore[attr-defined]
            except OSError:  # no interpreter to start: write in this process
                self.writer_broken = True
        return self.writer

    def _take(self, batch: Batch, fr: FileReport) -> None:
        if batch.skipped:
            for what, n in batch.skipped.items():
                fr.skip(what, n)
        if batch.notes:
            fr.notes.extend(batch.notes)
        if batch.records or batch.facts or batch.error is not None:
            fr.batches += 1
        token = self.ctx.resolver.seal()
        if batch.error is not None:
            self._reject(batch, fr, str(batch.error), token)
        elif batch.after_stage:
            self.ctx.resolver.discard(token)
            self.stage.append((batch, fr))
        else:
            self._write(batch, fr, token, True)

    def end_stage(self) -> None:
        """Build and write the batches that waited for the whole stage to be read, then
        retry the batches that named nodes this stage has since written."""
        waiting, self.stage = self.stage, []
        for batch, fr in waiting:
            again = _rebuild(batch)
            token = self.ctx.resolver.seal()
            if again.error is not None:
                self._reject(again, fr, str(again.error), token)
            else:
                self._write(again, fr, token, True)
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
                token = self.ctx.resolver.seal()
                if again.error is not None:
                    self._reject(again, fr, str(again.error), token)
                elif not self._write(again, fr, token, retry=True):
                    still.append((batch, fr))
            if len(still) == len(pending) and len(still) > 1:
                # no batch can go first: their edges name each other's nodes (a cycle
                # across batches); written together they can
                remaining = self._write_together(still, final)
                if len(remaining) < len(still):
                    pending = remaining
                    continue
            if len(still) == len(pending):
                if not final:
                    self.deferred = still
                    return
                for batch, fr in still:
                    again = _rebuild(batch)
                    token = self.ctx.resolver.seal()
                    if again.error is not None:
                        self._reject(again, fr, str(again.error), token)
                    else:
                        self._write(again, fr, token)
                return
            pending = still

    def _write_together(self, items: list[tuple[Batch, FileReport]], final: bool
                        ) -> list[tuple[Batch, FileReport]]:
        """Write waiting batches in one transaction, each counted apart; a batch that
        still names a node nothing defines is taken out (kept waiting unless
        ``final``, then rejected) and the others tried again. Returns those waiting."""
        group: list[tuple[Batch, Batch, FileReport, int, list]] = []
        waiting: list[tuple[Batch, FileReport]] = []
        for batch, fr in items:
            again, token = _rebuild(batch), self.ctx.resolver.seal()
            try:
                if again.error is not None:
                    raise again.error
                group.append((batch, again, fr, token, [validate(f) for f in again.facts]))
            except FactError as exc:
                self._reject(again, fr, str(exc), token)
        if sum(len(g[4]) for g in group) > MAX_TOGETHER:
            return self._write_nodes_first(group, final)
        while group:
            sizes = [len(g[4]) for g in group]
            try:
                result = self.ctx.store.write([f for g in group for f in g[4]], validated=True,
                                              parts=sizes)
            except BatchRejected as exc:
                k = _part_of(exc.index or 0, sizes)
                batch, again, fr, token, _ = group.pop(k)
                unknown = exc.field in ("from", "to") and "unknown node" in exc.error.problem
                if unknown and not final:
                    self.ctx.resolver.discard(token)
                    waiting.append((batch, fr))
                else:
                    self._reject(again, fr, f"{exc.error}; nothing from this batch was written",
                                 token)
                continue
            for (_, again, fr, token, facts), part in zip(group, result.parts, strict=True):
                fr.added += part.added
                fr.unchanged += part.unchanged
                fr.closed += part.closed
                self.ctx.resolver.commit(token, (f.ref for f in facts if isinstance(f, NodeFact)))
                if again.on_written is not None:
                    again.on_written()
            break
        return waiting

    def _write_nodes_first(self, group: list[tuple[Batch, Batch, FileReport, int, list]],
                           final: bool) -> list[tuple[Batch, FileReport]]:
        """Too big to write together: write every batch's nodes, then every batch. A
        batch rejected in the second step (an edge to a node nothing defines) keeps
        the nodes the first step wrote."""
        node_counts = []
        for _, _, fr, _, facts in group:
            nodes = [f for f in facts if isinstance(f, NodeFact)]
            node_counts.append(len(nodes))
            if nodes:
                result = self.ctx.store.write(nodes, validated=True)
                fr.added += result.added
                fr.closed += result.closed
                self.ctx.resolver.commit(self.ctx.resolver.seal(), (f.ref for f in nodes))
        waiting: list[tuple[Batch, FileReport]] = []
        for (batch, again, fr, token, facts), n_nodes in zip(group, node_counts, strict=True):
            try:
                result = self.ctx.store.write(facts, validated=True)
            except BatchRejected as exc:
                unknown = exc.field in ("from", "to") and "unknown node" in exc.error.problem
                if unknown and not final:
                    self.ctx.resolver.discard(token)
                    waiting.append((batch, fr))
                else:
                    self._reject(again, fr, str(exc), token)
                continue
            fr.added += result.added
            fr.unchanged += max(0, result.unchanged - n_nodes)
            fr.closed += result.closed
            self.ctx.resolver.commit(token)
            if again.on_written is not None:
                again.on_written()
        return waiting

    def _reject(self, batch: Batch, fr: FileReport, why: str, token: int) -> None:
        self.ctx.resolver.discard(token)
        if batch.on_rejected is not None:
            batch.on_rejected()
        fr.rejected += batch.records
        what = f"rejected ({batch.records} record{'s' if batch.records != 1 else ''})"
        if why.startswith(batch.where):
            fr.errors.append(f"{what}: {why}")
        else:
            fr.errors.append(f"{batch.where}: {what}: {why}")

    def _write(self, batch: Batch, fr: FileReport, token: int, defer: bool = False,
               retry: bool = False) -> bool:
        """Write a batch; False if it named unknown nodes and was kept for a retry."""
        try:
            facts = [validate(f) for f in batch.facts]
        except FactError as exc:
            self._reject(batch, fr, str(exc), token)
            return True
        if facts:
            try:
                result = self.ctx.store.write(facts, validated=True)
            except BatchRejected as exc:
                unknown = exc.field in ("from", "to") and "unknown node" in exc.error.problem
                if unknown and batch.redo is not None and (defer or retry):
                    self.ctx.resolver.discard(token)
                    if defer:
                        self.deferred.append((batch, fr))
                    return False
                self._reject(batch, fr, str(exc), token)
                return True
            fr.added += result.added
            fr.unchanged += result.unchanged
            fr.closed += result.closed
        self.ctx.resolver.commit(token, (f.ref for f in facts if type(f) is NodeFact))
        if batch.on_written is not None:
            batch.on_written()
        return True


def _part_of(index: int, sizes: list[int]) -> int:
    """Which part of a write made of parts of ``sizes`` holds fact ``index``."""
    for k, n in enumerate(sizes):
        if index < n:
            return k
        index -= n
    return len(sizes) - 1


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
