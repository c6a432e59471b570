"""The ingest pipeline: runs adapters over sources and writes their batches.

Order of work: sources are grouped by their adapter's ``order`` (topology < 40 <
changes < 60 < alerts and incidents) and read group by group. A batch marked
``after_stage`` is built only once every source of its group has been read (a
Kubernetes Deployment in one file may need the Service in another); a batch
whose edges name nodes no source has defined yet waits (:mod:`ingest.waiting`): it
is retried at the end of the stage, then at the end of the run, and the records
naming them are rejected if they are still unknown.

Every fact is validated once, here, before the store writes it. A batch is one
transaction, but a record that fails validation or that the store refuses is
rejected alone and the others written (:mod:`ingest.records`). The resolver keeps
each batch's new nodes apart until the batch is written, so that a rejected batch
or record takes back only its own.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

from ccm.errors import BatchRejected
from ccm.store.base import Store
from ccm.store.types import WriteResult
from graph_schema import FactError, NodeFact
from graph_schema.timeutil import now_micros
from ingest.adapters import registry
from ingest.alert_targets import DEFAULT_RULES, TargetRules
from ingest.core import (
    DEFAULT_BATCH,
    Adapter,
    Batch,
    Context,
    FileReport,
    IngestReport,
    detect,
)
from ingest.folders import Input, find_inputs, input_of
from ingest.gcpause import fewer_collections
from ingest.overlap import Overlap
from ingest.records import Ready, ready, rebuild, rejection, unknown_node
from ingest.source import IngestError, Source
from ingest.waiting import Waiting
from ingest.writer import MIN_BYTES, Writer, WriterDied, eligible

ProgressHook = Callable[[str, int, int], None]

__all__ = ["ingest_bytes", "ingest_paths", "ingest_sources"]


def ingest_paths(store: Store, paths: Iterable[str | Path], *, fmt: str | None = None,
                 at: int | None = None, batch_size: int = DEFAULT_BATCH,
                 progress: ProgressHook | None = None,
                 signals: Mapping[str, str] | None = None,
                 alert_targets: TargetRules | None = None) -> IngestReport:
    """Ingest files and folders into ``store``; returns a report per file.

    ``fmt`` forces a format (else each file's is detected; a file found in a folder
    that no format recognises is skipped with a note, and Helm charts and Kustomize
    folders are rendered or noted: see :mod:`ingest.folders`). ``at`` is the valid
    time for sources without timestamps (default: now). ``progress(path, done,
    total)`` is called as bytes are read. ``signals`` overrides alertname -> signal
    entries, ``alert_targets`` how alert labels name components (ingest.alert_targets).
    """
    return _ingest(store, find_inputs(paths), fmt=fmt, at=at, batch_size=batch_size,
                   progress=progress, signals=signals, alert_targets=alert_targets)


def ingest_bytes(store: Store, fmt: str | None, data: bytes, name: str, at: int | None = None,
                 *, batch_size: int = DEFAULT_BATCH,
                 signals: Mapping[str, str] | None = None,
                 alert_targets: TargetRules | None = None) -> FileReport:
    """Ingest one payload held in memory (an API request body) exactly as a file.

    ``name`` stands for the file name in errors and per-source state; ``fmt`` None
    detects the format from the payload.
    """
    report = ingest_sources(store, [Source.from_bytes(data, name)], fmt=fmt, at=at,
                            batch_size=batch_size, signals=signals, alert_targets=alert_targets)
    return report.files[0]


def ingest_sources(store: Store, sources: Sequence[Source], *, fmt: str | None = None,
                   at: int | None = None, batch_size: int = DEFAULT_BATCH,
                   progress: ProgressHook | None = None,
                   signals: Mapping[str, str] | None = None,
                   alert_targets: TargetRules | None = None) -> IngestReport:
    """Ingest ``sources`` (files or payloads), topology before changes before alerts."""
    return _ingest(store, [input_of(s) for s in sources], fmt=fmt, at=at,
                   batch_size=batch_size, progress=progress, signals=signals,
                   alert_targets=alert_targets)


def _ingest(store: Store, inputs: Sequence[Input], *, fmt: str | None, at: int | None,
            batch_size: int, progress: ProgressHook | None,
            signals: Mapping[str, str] | None,
            alert_targets: TargetRules | None = None) -> IngestReport:
    adapters = registry()
    if fmt is not None and fmt not in adapters:
        raise IngestError(f"unknown format {fmt!r} (known: {', '.join(adapters)})")
    ctx = Context(store, now_micros() if at is None else at, batch_size,
                  dict(signals or {}), alert_targets or DEFAULT_RULES)
    plan: list[tuple[Input, Adapter | None]] = []
    for item in inputs:
        try:
            forced = item.fmt or fmt
            plan.append((item, adapters[forced] if forced else
                         detect(item.source, adapters) if item.source else None))
        except OSError:
            plan.append((item, None))
    plan.sort(key=lambda pa: pa[1].order if pa[1] else 99)
    run = Run(ctx, progress)
    report = IngestReport()
    with fewer_collections():
        try:
            for _, group in itertools.groupby(plan, key=lambda pa: pa[1].order if pa[1] else 99):
                for item, adapter in group:
                    report.files.append(run.ingest_input(item, adapter))
                run.end_stage()
            run.end()
        finally:
            run.close()
    return report


class Run:
    """One ingest run: writes batches, holds the ones that wait (stage, unknown nodes)."""

    def __init__(self, ctx: Context, progress: ProgressHook | None) -> None:
        self.ctx = ctx
        self.progress = progress
        self.stage: list[tuple[Batch, FileReport]] = []
        self.waiting = Waiting(self)
        #: the writer process (ingest.writer), started for the first file big enough
        self.writer: Writer | None = None
        self.writer_broken = False

    def ingest_input(self, item: Input, adapter: Adapter | None) -> FileReport:
        """Ingest one input; one not to read (a note about a folder, a file of a folder
        that no format recognises) gets a report of notes (or its error) only."""
        src = item.source
        if src is None or (adapter is None and not item.named and src.exists()):
            fr = FileReport(item.path, "-", notes=list(item.notes))
            if item.error is not None:
                fr.errors.append(item.error)
            elif src is not None:
                fr.notes.append(f"{src}: skipped: not a format CCM reads")
            return fr
        fr = self.ingest_file(src, adapter)
        fr.notes[:0] = item.notes
        return fr

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
                        self.take(batch, fr)
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

    def take(self, batch: Batch, fr: FileReport) -> None:
        if batch.skipped:
            for what, n in batch.skipped.items():
                fr.skip(what, n)
        if batch.notes:
            fr.notes.extend(batch.notes)
        if batch.records or batch.facts or batch.error is not None:
            fr.batches += 1
        token = self.ctx.resolver.seal()
        if batch.error is not None:
            self.reject(batch, fr, str(batch.error), token)
        elif batch.after_stage:
            self.ctx.resolver.discard(token)
            self.stage.append((batch, fr))
        else:
            self.write(batch, fr, token, True)

    def end_stage(self) -> None:
        """Build and write the batches that waited for the whole stage to be read, then
        retry the batches that named nodes this stage has since written."""
        waiting, self.stage = self.stage, []
        for batch, fr in waiting:
            again = rebuild(batch)
            token = self.ctx.resolver.seal()
            if again.error is not None:
                self.reject(again, fr, str(again.error), token)
            else:
                self.write(again, fr, token, True)
        self.waiting.retry(final=False)

    def end(self) -> None:
        """Retry the batches still waiting for nodes; reject those that still name
        nodes nothing defined."""
        self.waiting.retry(final=True)

    def reject(self, batch: Batch, fr: FileReport, why: str, token: int) -> None:
        """Reject the whole batch (every record of it)."""
        self.ctx.resolver.discard(token)
        if batch.on_rejected is not None:
            batch.on_rejected()
        fr.rejected += batch.records
        what = f"rejected ({batch.records} record{'s' if batch.records != 1 else ''})"
        if why.startswith(batch.where):
            fr.errors.append(f"{what}: {why}")
        else:
            fr.errors.append(f"{batch.where}: {what}: {why}")

    def write(self, batch: Batch, fr: FileReport, token: int, defer: bool = False,
               retry: bool = False) -> bool:
        """Write a batch, rejecting its bad records alone; False if it named unknown
        nodes and was kept for a retry (``defer``: in the run's deferred batches)."""
        try:
            rd = ready(batch)
        except FactError as exc:
            self.reject(batch, fr, str(exc), token)
            return True
        result = None
        while rd.facts:
            try:
                result = self.ctx.store.write(rd.facts, validated=True)
            except BatchRejected as exc:
                if unknown_node(exc) and batch.redo is not None and (defer or retry) \
                        and not rd.names_lost(exc):
                    self.ctx.resolver.discard(token)
                    if defer:
                        self.waiting.batches.append((batch, fr))
                    return False
                if unknown_node(exc) and rd.drop_naming(exc.value, exc.error):
                    continue
                if rd.drop(exc.error, exc.index):
                    continue
                self.reject(batch, fr, str(exc), token)
                return True
            break
        self.written(batch, fr, token, rd, result)
        return True

    def written(self, batch: Batch, fr: FileReport, token: int, rd: Ready,
                 result: WriteResult | None) -> None:
        """Account for a written batch: its counts, its nodes, its rejected records."""
        if result is not None:
            fr.added += result.added
            fr.unchanged += result.unchanged
            fr.closed += result.closed
        nodes = (f.ref for f in rd.facts if type(f) is NodeFact)
        resolver = self.ctx.resolver
        if rd.refused:
            # the dropped records' nodes were pending under the token: keep only the
            # written ones
            resolver.discard(token)
            fr.rejected += len(rd.refused)
            fr.errors.extend(rejection(where, exc) for where, exc in rd.refused)
            if batch.on_dropped is not None:
                batch.on_dropped([where for where, _ in rd.refused])
        resolver.commit(token, nodes)
        if batch.on_written is not None:
            batch.on_written()
