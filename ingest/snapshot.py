"""Sources that state the *current* shape of something: manifests and catalogs.

A Kubernetes object or a Backstage entity is a **snapshot source**, with a stable
id (``k8s:<namespace>/<Kind>/<name>``, ``backstage:<kind>:<namespace>/<name>``).
Each ingest states everything the object says now, valid from the ingest's time:

- facts it states that were not true yet get a new version (a ConfigMap value);
- facts it stated before and no longer does are closed at that time
  (:func:`replace_facts`, using ``Context.stale_closes``);
- an object that vanished from a file it was in (same file path, or same payload
  name) has all its facts closed (:class:`Membership`).

Several sources may describe one node or edge (a Deployment and a Backstage
Component both describe ``service:cart``; a manifest and a trace both describe a
dependency). :func:`merge_current` keeps the attributes other sources set: an
adapter replaces only the attributes it owns.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import replace
from typing import Any

from graph_schema import Close, EdgeFact, NodeFact
from graph_schema.facts import Fact
from ingest.core import Context

MEMBERS = "ingest.members"


def fact_id(f: Fact) -> str:
    return f.fact_id


def replace_facts(ctx: Context, source: str, facts: list[Fact], at: int, where: str,
                  keep: Collection[str] = ()) -> list[Fact]:
    """``facts`` plus closes for what ``source`` asserted before (true at ``at``) and
    no longer asserts. ``keep`` names facts the source still stands by without
    restating them (a config node it created that another source now versions)."""
    current = {f.fact_id for f in facts if not isinstance(f, Close)} | set(keep)
    return facts + ctx.stale_closes(source, current, at, where)


def merge_current(ctx: Context, facts: list[Fact], at: int,
                  owned: Callable[[str], Collection[str]],
                  weak: Collection[str] = ()) -> list[Fact]:
    """Merge each node or edge fact with the version of it true at ``at``.

    The new attributes win, except ``weak`` ones, which only fill a gap (a trace's
    ``evidence`` does not replace a manifest's); of the current ones, those
    ``owned(kind)`` names (the adapter is their only authority) are dropped, the
    others (set by other sources) are kept. Facts that do not exist yet are
    unchanged.
    """
    ids = [f.fact_id for f in facts if isinstance(f, (NodeFact, EdgeFact))]
    current = ctx.current_attrs(ids, at)
    if not current:
        return facts
    out: list[Fact] = []
    for f in facts:
        now = current.get(f.fact_id) if isinstance(f, (NodeFact, EdgeFact)) else None
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

    def vanished_closes(self, current: Iterable[str], still_elsewhere: Collection[str],
                        at: int, where: str) -> list[Close]:
        """Closes for the facts of objects the file held and holds no more (unless
        another file of this run holds them now)."""
        gone = set(self.previous) - set(current) - set(still_elsewhere)
        out: list[Close] = []
        for source in sorted(gone):
            out.extend(self.ctx.stale_closes(source, set(), at, f"{where} ({source} removed)"))
        return out

    def save(self, summaries: dict[str, Any]) -> None:
        self.ctx.store.put_record(MEMBERS, self.record_key, {"sources": summaries})


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
