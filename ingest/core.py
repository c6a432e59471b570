"""The ingest pipeline every adapter plugs into.

An adapter (one module per real-world format) *reads* a file and *yields
batches*: lists of validated graph_schema facts, each batch written to the
store in one transaction. A record that cannot be turned into facts makes its
batch a rejected batch (the error names file, line or document, field and
value); the other batches are kept. Adapters never touch the store directly
except through the :class:`Context` (name resolution, stale-fact cleanup).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ccm.errors import BatchRejected, CCMError
from ccm.store.base import Store
from graph_schema import COMPONENT_KINDS, NODE_KIND_MAP, Close, FactError
from graph_schema.facts import Fact
from graph_schema.timeutil import now_micros

MAX_LINE_BYTES = 16 * 1024 * 1024
DEFAULT_BATCH = 1000


class IngestError(CCMError):
    """A file could not be ingested at all (unreadable, unrecognised, not text)."""


@dataclass(slots=True)
class Batch:
    """Facts from a group of records, written atomically; or the reason they were not."""

    where: str
    records: int
    facts: list[Fact] = field(default_factory=list)
    error: FactError | None = None
    #: bytes of the file read so far (for progress), when the adapter knows
    bytes_done: int | None = None
    #: rebuilds the batch from its records (names resolved afresh); lets the pipeline
    #: retry a batch whose edges named nodes that a later file of the run defines
    redo: Callable[[], Batch] | None = None


class Adapter(Protocol):
    """One input format."""

    #: the --format name
    name: str
    #: one line for --help and docs
    description: str
    #: lower runs first when a folder holds several formats (topology < changes < alerts)
    order: int

    def sniff(self, path: Path, head: str) -> bool:
        """Whether ``path`` (whose first bytes decode to ``head``) is in this format."""
        ...

    def read(self, path: Path, ctx: Context) -> Iterator[Batch]:
        """Yield the file's batches, in order."""
        ...


class Resolver:
    """Turns bare names from sources into node references (see the benchmark spec).

    A name that contains ``<kind>:`` is already a reference. A bare name resolves to
    the existing node of that name whatever its kind (components other than
    ``service`` win over ``service``); a name that matches nothing becomes
    ``service:<name>``. Nodes of the batch being built are *pending*: they count
    once the batch is written and are forgotten if it is rejected.
    """

    _PREFERENCE = {k: i for i, k in enumerate(
        ("datastore", "cache", "queue", "gateway", "external", "service"))}

    def __init__(self, store: Store) -> None:
        self.store = store
        self._by_name: dict[str, set[str]] = {}
        self._looked_up: set[str] = set()
        self._pending: set[str] = set()

    def prefetch(self, names: Iterable[str]) -> None:
        """Look names up in the store in one query (adapters call it per batch)."""
        todo = [n for n in set(names) if n not in self._looked_up]
        if not todo:
            return
        found = self.store.find_refs(todo)
        for name in todo:
            self._looked_up.add(name)
            for r in found.get(name, []):
                self._by_name.setdefault(name, set()).add(r)

    def note(self, r: str) -> None:
        """Node ``r`` is in the batch being built."""
        self._pending.add(r)

    def commit(self) -> None:
        for r in self._pending:
            self._by_name.setdefault(r.split(":", 1)[1], set()).add(r)
        self._pending.clear()

    def discard(self) -> None:
        self._pending.clear()

    def exists(self, r: str) -> bool:
        if r in self._pending:
            return True
        name = r.split(":", 1)[1]
        self.prefetch([name])
        return r in self._by_name.get(name, ())

    def resolve(self, name: str, default_kind: str = "service") -> str:
        """The reference for ``name`` (a bare name or a ``<kind>:<name>`` reference)."""
        if ":" in name and name.split(":", 1)[0] in NODE_KIND_MAP:
            return name
        self.prefetch([name])
        candidates = {r for r in self._by_name.get(name, ())
                      if r.split(":", 1)[0] in COMPONENT_KINDS}
        candidates |= {r for r in self._pending if r.split(":", 1)[1] == name
                       and r.split(":", 1)[0] in COMPONENT_KINDS}
        if candidates:
            return min(candidates, key=lambda r: (self._PREFERENCE[r.split(":", 1)[0]], r))
        return f"{default_kind}:{name}"


@dataclass
class Context:
    """What an adapter may use while reading: the store (through helpers), defaults."""

    store: Store
    #: valid time for sources that carry no timestamp of their own (``--at``)
    at: int
    batch_size: int = DEFAULT_BATCH
    resolver: Resolver = field(init=False)

    def __post_init__(self) -> None:
        self.resolver = Resolver(self.store)

    def stale_closes(self, source: str, current: set[str], at: int, where: str) -> list[Close]:
        """Closes for facts that ``source`` asserted before but no longer does."""
        gone = self.store.open_fact_ids(source, at) - current
        return [Close(fid, at, source=source, origin=where) for fid in sorted(gone)]


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


# -- safe reading ------------------------------------------------------------------------

def iter_lines(path: Path, on_bytes: Callable[[int], None] | None = None
               ) -> Iterator[tuple[int, str | FactError]]:
    """Yield ``(line number, text)`` of a UTF-8 text file, or ``(n, FactError)`` for a
    line that is too long, not UTF-8, or holds NUL bytes. Never loads a whole line
    over :data:`MAX_LINE_BYTES` into memory."""
    with open(path, "rb") as fh:
        n = 0
        while True:
            raw = fh.readline(MAX_LINE_BYTES + 1)
            if not raw:
                return
            n += 1
            if on_bytes:
                on_bytes(len(raw))
            if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
                skipped = len(raw)
                while raw and not raw.endswith(b"\n"):
                    raw = fh.readline(MAX_LINE_BYTES)
                    skipped += len(raw)
                    if on_bytes:
                        on_bytes(len(raw))
                yield n, FactError(f"{path}:{n}", "(line)", f"{skipped} bytes",
                                   f"line longer than {MAX_LINE_BYTES // (1024 * 1024)} MiB")
                continue
            if b"\x00" in raw:
                yield n, FactError(f"{path}:{n}", "(line)", raw[:20].hex(),
                                   "binary data (NUL bytes), not text")
                continue
            try:
                yield n, raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                yield n, FactError(f"{path}:{n}", "(line)", f"byte {exc.start}",
                                   "not valid UTF-8 text")


def read_head(path: Path, size: int = 4096) -> str:
    with open(path, "rb") as fh:
        data = fh.read(size)
    if b"\x00" in data:
        return ""
    return data.decode("utf-8", errors="replace").lstrip("\ufeff")


def read_text(path: Path, limit: int) -> str:
    """A whole text file (UTF-8, BOM tolerated) of at most ``limit`` bytes, or IngestError."""
    size = path.stat().st_size
    if size > limit:
        raise IngestError(f"{path}: {size} bytes is over the {limit // (1024 * 1024)} MiB "
                          "limit for this format")
    data = path.read_bytes()
    if b"\x00" in data:
        raise IngestError(f"{path}: binary data (NUL bytes), not a text file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise IngestError(f"{path}: not valid UTF-8 text (byte {exc.start})") from None


# -- the pipeline ---------------------------------------------------------------------------

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


def detect(path: Path, adapters: dict[str, Adapter]) -> Adapter | None:
    head = read_head(path)
    if not head.strip():
        return None
    for adapter in adapters.values():
        if adapter.sniff(path, head):
            return adapter
    return None


ProgressHook = Callable[[str, int, int], None]


def ingest_paths(store: Store, paths: Iterable[str | Path], *, fmt: str | None = None,
                 at: int | None = None, batch_size: int = DEFAULT_BATCH,
                 progress: ProgressHook | None = None) -> IngestReport:
    """Ingest files and folders into ``store``; returns a report per file.

    ``fmt`` forces a format (else each file's is detected). ``at`` is the valid time
    for sources without timestamps (default: now). ``progress(path, done, total)``
    is called as bytes are read.
    """
    adapters = registry()
    if fmt is not None and fmt not in adapters:
        raise IngestError(f"unknown format {fmt!r} (known: {', '.join(adapters)})")
    ctx = Context(store, now_micros() if at is None else at, batch_size)
    plan: list[tuple[Path, Adapter | None]] = []
    for path in expand(paths):
        try:
            adapter = adapters[fmt] if fmt else detect(path, adapters)
        except OSError:
            plan.append((path, None))
            continue
        plan.append((path, adapter))
    plan.sort(key=lambda pa: (pa[1].order if pa[1] else 99))
    report = IngestReport()
    deferred: list[tuple[Batch, FileReport]] = []
    for path, adapter in plan:
        report.files.append(ingest_file(ctx, path, adapter, progress, deferred))
    _retry_deferred(ctx, deferred)
    return report


def _retry_deferred(ctx: Context, deferred: list[tuple[Batch, FileReport]]) -> None:
    """Retry batches that named nodes unknown at the time, until no retry succeeds."""
    while deferred:
        still: list[tuple[Batch, FileReport]] = []
        for batch, fr in deferred:
            assert batch.redo is not None
            again = batch.redo()
            again.redo = None
            if again.error is not None:
                _reject(ctx, again, fr, str(again.error))
            elif not _write(ctx, again, fr, None):
                still.append((batch, fr))
        if len(still) == len(deferred):
            for batch, fr in still:
                again = batch.redo()  # type: ignore[misc]
                again.redo = None
                _write(ctx, again, fr, None)
            return
        deferred = still


def ingest_file(ctx: Context, path: Path, adapter: Adapter | None,
                progress: ProgressHook | None = None,
                deferred: list[tuple[Batch, FileReport]] | None = None) -> FileReport:
    """Ingest one file with ``adapter``; batches that name nodes not yet known are
    appended to ``deferred`` (when given) for a retry after the other files."""
    fr = FileReport(str(path), adapter.name if adapter else "?")
    if adapter is None:
        if not path.exists():
            fr.errors.append(f"{path}: no such file")
        else:
            fr.errors.append(f"{path}: unrecognised format (name one with --format; "
                             f"known: {', '.join(registry())})")
        return fr
    try:
        total = path.stat().st_size
        for batch in adapter.read(path, ctx):
            fr.batches += 1
            if batch.error is not None:
                _reject(ctx, batch, fr, str(batch.error))
            else:
                _write(ctx, batch, fr, deferred)
            if progress:
                progress(str(path), min(total, _progress_of(batch, total)), total)
    except IngestError as exc:
        fr.errors.append(str(exc))
    except OSError as exc:
        fr.errors.append(f"{path}: cannot read: {exc.strerror or exc}")
    except RecursionError:
        fr.errors.append(f"{path}: nested too deeply to read")
    except MemoryError:
        fr.errors.append(f"{path}: too large to read in memory")
    return fr


def _progress_of(batch: Batch, total: int) -> int:
    return total if batch.bytes_done is None else batch.bytes_done


def _reject(ctx: Context, batch: Batch, fr: FileReport, why: str) -> None:
    ctx.resolver.discard()
    fr.rejected += batch.records
    fr.errors.append(f"{batch.where}: rejected ({batch.records} records): {why}")


def _write(ctx: Context, batch: Batch, fr: FileReport,
           deferred: list[tuple[Batch, FileReport]] | None) -> bool:
    """Write a batch; False if it was deferred for a retry."""
    if not batch.facts:
        return True
    try:
        result = ctx.store.write(batch.facts)
    except BatchRejected as exc:
        unknown_node = exc.field in ("from", "to") and "unknown node" in exc.error.problem
        if unknown_node and deferred is not None and batch.redo is not None:
            ctx.resolver.discard()
            deferred.append((batch, fr))
            return False
        _reject(ctx, batch, fr, str(exc))
        return True
    ctx.resolver.commit()
    fr.added += result.added
    fr.unchanged += result.unchanged
    fr.closed += result.closed
    return True
