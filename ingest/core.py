"""What every adapter plugs into: batches, the adapter protocol, the context, reports.

An adapter (one module per real-world format) *reads* a :class:`Source` and
*yields batches*: lists of graph_schema facts, each batch written to the store
in one transaction. A record that cannot be turned into facts is rejected alone
(the error names file, line or document, field and value) when the batch says
which facts are whose (``Batch.spans``); the other records are kept. The pipeline validates every fact once, here; adapters
never touch the store except through the :class:`Context` (name resolution,
stale-fact cleanup, current attributes). The pipeline that runs adapters is
:mod:`ingest.pipeline`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ccm.store.base import Store
from graph_schema import Close, FactError, NodeFact, TimeParseError, parse_time
from graph_schema.facts import Fact
from ingest.alert_targets import DEFAULT_RULES, TargetRules
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
#: the source of a node a source named but no defining source (a Kubernetes object, a
#: Backstage entity, native JSONL) wrote: a ConfigMap, owner or system not defined yet,
#: the bare-name target of an alert or change. Its origin names the record that named
#: it; no source owns it, so none closes it (see ingest.coverage)
PLACEHOLDER_SOURCE = "placeholder"

__all__ = [
    "DEFAULT_BATCH", "MAX_LINE_BYTES", "Adapter", "Batch", "Context", "FileReport",
    "IngestError", "IngestReport", "PLACEHOLDER_SOURCE", "Resolver", "Source", "detect", "expand", "get_time", "iter_lines",
    "node_at", "read_head", "read_text",
]


@dataclass(slots=True)
class Batch:
    """Facts from a group of records, written in one transaction (its records rejected
    one by one when ``spans`` says whose each fact is); or the reason they were not."""

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
    #: called if the batch, once built, is rejected (by the store, or when rebuilt)
    on_rejected: Callable[[], None] | None = None
    #: records the adapter read and deliberately did not model, by what they are
    #: (added to the file's report as the batch is taken: see FileReport.skip)
    skipped: dict[str, int] | None = None
    #: remarks for the file's report that are not errors
    notes: list[str] | None = None
    #: each record's ``where`` and number of facts, in the order of ``facts`` (facts
    #: after the last span belong to the batch as a whole): a record whose fact fails
    #: validation or is refused by the store is rejected alone and the others written
    #: (see ingest.records); None: the batch is written all or nothing
    spans: list[tuple[str, int]] | None = None
    #: records refused while the batch was built (the others are in ``facts``)
    rejects: list[FactError] | None = None
    #: called with the ``where`` of the records dropped from the batch when the others
    #: were written (as ``on_rejected`` is for a whole batch)
    on_dropped: Callable[[list[str]], None] | None = None


def get_time(doc: Mapping[str, Any], key: str, where: str, *, required: bool = False
             ) -> int | None:
    """The time at ``doc[key]`` in microseconds (RFC 3339 or epoch; see
    :func:`graph_schema.parse_time`); None when absent or empty, unless ``required``.
    A bad or missing value is a :class:`FactError` naming ``where`` and ``key``."""
    value = doc.get(key)
    if value is None or value == "":
        if required:
            raise FactError(where, key, None, "missing")
        return None
    try:
        return parse_time(value)
    except TimeParseError as exc:
        raise FactError(where, key, value, str(exc)) from None


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
    #: how an alert's labels name its component (see ingest.alert_targets)
    alert_targets: TargetRules = DEFAULT_RULES
    resolver: Resolver = field(init=False)
    #: per-run caches of adapters, by adapter name
    state: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.resolver = Resolver(self.store)

    def stale_closes(self, source: str, current: set[str], at: int, where: str) -> list[Close]:
        """Closes for facts that ``source`` asserted before but no longer does."""
        gone = self.store.open_fact_ids(source, at) - current
        return [Close(fid, at, source=source, origin=where) for fid in sorted(gone)]

    def open_facts(self, times: Mapping[str, int]) -> dict[str, set[str]]:
        """What each source asserts true at its time (one store query for all)."""
        return self.store.open_fact_ids_by_source(times)

    def current_attrs(self, items: Iterable[tuple[str, int]]
                      ) -> dict[tuple[str, int], dict[str, Any]]:
        """For each ``(fact id, time)``, the attributes of the fact true then (as known
        now); facts not true then are absent. One store query."""
        wanted = set(items)
        if not wanted:
            return {}
        return {k: dict(v.attrs) for k, v in self.store.versions_at_times(wanted).items()}


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
    #: records read but not modelled, by what they are (``"k8s Role": 3``,
    #: ``"alert without target": 1``): counted, never an error
    skipped: dict[str, int] = field(default_factory=dict)
    #: remarks that are not errors (a README skipped, a Helm chart to render first)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def skip(self, what: str, n: int = 1) -> None:
        """Count ``n`` records of ``what`` as read and deliberately not modelled."""
        self.skipped[what] = self.skipped.get(what, 0) + n

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "format": self.format, "added": self.added,
                "unchanged": self.unchanged, "closed": self.closed, "rejected": self.rejected,
                "batches": self.batches, "errors": self.errors, "skipped": self.skipped,
                "notes": self.notes}


@dataclass
class IngestReport:
    files: list[FileReport] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(f.ok for f in self.files)

    def totals(self) -> dict[str, int]:
        keys = ("added", "unchanged", "closed", "rejected")
        return {k: sum(getattr(f, k) for f in self.files) for k in keys}

    def skipped(self) -> dict[str, int]:
        """Records read but not modelled in all files, by what they are (sorted)."""
        out: dict[str, int] = {}
        for f in self.files:
            for what, n in f.skipped.items():
                out[what] = out.get(what, 0) + n
        return dict(sorted(out.items()))

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "totals": self.totals(), "skipped": self.skipped(),
                "files": [f.to_dict() for f in self.files]}


# -- finding and detecting inputs --------------------------------------------------------

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
