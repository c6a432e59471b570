"""Sources that state the *current* shape of something: manifests and catalogs.

A Kubernetes object or a Backstage entity is a **snapshot source**, with a stable
id (``k8s:<namespace>/<Kind>/<name>``, ``backstage:<kind>:<namespace>/<name>``).
Each ingest states everything the object says now, valid from the ingest's time:

- facts it states that were not true yet get a new version (a ConfigMap value);
- facts it stated before and no longer does are closed at that time
  (:func:`replace_all`);
- an object that vanished from a file it was in (same file path, or same payload
  name) has all its facts closed (:class:`Membership`).

Several sources may describe one node or edge (a Deployment and a Backstage
Component both describe ``service:cart``; a manifest and a trace both describe a
dependency). :func:`merge_current` keeps the attributes other sources set: an
adapter replaces only the attributes it owns.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, replace
from typing import Any

from graph_schema import Close, EdgeFact, NodeFact
from graph_schema.facts import Fact
from ingest.core import Context

MEMBERS = "ingest.members"


def fact_id(f: Fact) -> str:
    return f.fact_id


@dataclass
class SourceState:
    """The state one snapshot source states now (what later ingests remember of it and
    compare with): its facts, true from ``at``."""

    source: str
    facts: list[Fact]
    at: int
    where: str


def replace_all(ctx: Context, states: list[SourceState],
                owned: Callable[[str], Collection[str]] | None,
                spans: list[tuple[str, int]] | None = None) -> list[Fact]:
    """Each source state's facts, merged with what other sources say of them
    (:func:`merge_current`; ``owned`` None: the sources own every attribute they
    state, no merge), plus closes for what each source asserted before (true at its
    time) and no longer asserts. Two store queries in all. ``spans`` gets each
    state's ``(where, number of facts)`` (see ingest.core.Batch.spans)."""
    all_facts = [f for s in states for f in s.facts]
    merged = merge_current(ctx, all_facts, None, owned) if owned is not None else all_facts
    asserted = ctx.open_facts({s.source: s.at for s in states})
    out: list[Fact] = []
    i = 0
    for snap in states:
        facts, i = merged[i:i + len(snap.facts)], i + len(snap.facts)
        current = {f.fact_id for f in facts if not isinstance(f, Close)}
        gone = asserted.get(snap.source, set()) - current
        out.extend(facts)
        out.extend(Close(fid, snap.at, source=snap.source, origin=snap.where)
                   for fid in sorted(gone))
        if spans is not None:
            spans.append((snap.where, len(facts) + len(gone)))
    return out


def merge_current(ctx: Context, facts: list[Fact], at: int | None,
                  owned: Callable[[str], Collection[str]],
                  weak: Collection[str] = ()) -> list[Fact]:
    """Merge each node or edge fact with the version of it true at ``at`` (None: at the
    fact's own ``valid_from``).

    The new attributes win, except ``weak`` ones, which only fill a gap (a trace's
    ``evidence`` does not replace a manifest's); of the current ones, those
    ``owned(kind)`` names (the adapter is their only authority) are dropped, the
    others (set by other sources) are kept. Facts that do not exist yet are
    unchanged.
    """
    def key(f: NodeFact | EdgeFact) -> tuple[str, int]:
        return f.fact_id, f.valid_from if at is None else at

    current = ctx.current_attrs(key(f) for f in facts if isinstance(f, (NodeFact, EdgeFact)))
    if not current:
        return facts
    out: list[Fact] = []
    for f in facts:
        now = current.get(key(f)) if isinstance(f, (NodeFact, EdgeFact)) else None
        if now is None or isinstance(f, Close):
            out.append(f)
            continue
        strong = {k: v for k, v in f.attrs.items() if k not in weak or k not in now}
        mine = set(owned(f.kind)) | set(strong)
        merged = {k: v for k, v in now.items() if k not in mine}
        if merged or len(strong) != len(f.attrs):
            merged.update(strong)
            out.append(replace(f, attrs=merged))
        else:
            out.append(f)
    return out


class Membership:
    """Which snapshot sources a file (or named payload) held, across runs, with a
    short summary of each (what later runs need to resolve names against them).

    Stored as one control-plane record per format and file; when a file no longer
    holds an object it held, every fact of that object is closed.
    """

    def __init__(self, ctx: Context, fmt: str, key: str) -> None:
        self.ctx = ctx
        self.record_key = record_key(fmt, key)
        rec = ctx.store.get_record(MEMBERS, self.record_key)
        self.previous: dict[str, Any] = dict(rec.doc.get("sources", {})) if rec else {}
        #: what this run saved (see :meth:`revert`)
        self.saved: dict[str, Any] = {}

    def vanished_closes(self, current: Iterable[str], still_elsewhere: Collection[str],
                        at: int, where: str) -> list[Close]:
        """Closes for the facts of objects the file held and holds no more (unless
        another file of this run holds them now)."""
        gone = sorted(set(self.previous) - set(current) - set(still_elsewhere))
        asserted = self.ctx.open_facts(dict.fromkeys(gone, at)) if gone else {}
        return [Close(fid, at, source=source, origin=f"{where} ({source} removed)")
                for source in gone for fid in sorted(asserted.get(source, ()))]

    def save(self, summaries: dict[str, Any]) -> None:
        self.saved = summaries
        self.ctx.store.put_record(MEMBERS, self.record_key, {"sources": summaries})

    def revert(self, sources: Collection[str]) -> None:
        """Save again, with what an earlier run saved of ``sources`` (or nothing)
        instead of this run's summaries: their batch was refused after the save."""
        saved = dict(self.saved)
        hit = [s for s in sources if s in saved]
        for s in hit:
            if s in self.previous:
                saved[s] = self.previous[s]
            else:
                del saved[s]
        if hit:
            self.save(saved)


class Unbuilt:
    """The snapshot sources of a run whose batch was refused, while built or by the
    store: their summaries must not be saved as ingested (later runs would resolve
    names against objects that are not in the graph). A batch may be refused after
    its file's summaries were saved (it waited for a node a later file should have
    defined), so a refusal also corrects the saves of this run."""

    def __init__(self) -> None:
        self.sources: set[str] = set()
        self._saved: list[Membership] = []

    def __contains__(self, source: object) -> bool:
        return source in self.sources

    def refused(self, sources: Iterable[str]) -> None:
        added = set(sources) - self.sources
        self.sources |= added
        for members in self._saved:
            members.revert(added)

    def built(self, sources: Iterable[str]) -> None:
        self.sources.difference_update(sources)

    def summaries(self, members: Membership, current: dict[str, Any]) -> dict[str, Any]:
        """``current`` (source -> summary) without the refused sources, which keep what
        an earlier run saved of them (if anything)."""
        out = {s: doc for s, doc in current.items() if s not in self.sources}
        out.update({s: members.previous[s] for s in current
                    if s in self.sources and s in members.previous})
        return out

    def save(self, members: Membership, summaries: dict[str, Any]) -> None:
        members.save(summaries)
        self._saved.append(members)


def record_key(fmt: str, key: str) -> str:
    return f"{fmt}:{key}"


def saved_summaries(ctx: Context, fmt: str, skip: Collection[str] = ()) -> dict[str, Any]:
    """Every object summary earlier runs saved for ``fmt``, except from files ``skip``
    (record keys of files this run re-reads)."""
    out: dict[str, Any] = {}
    prefix = f"{fmt}:"
    for rec in ctx.store.list_records(MEMBERS):
        if rec.key.startswith(prefix) and rec.key not in skip:
            out.update(rec.doc.get("sources", {}))
    return out
