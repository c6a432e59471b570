"""The versioning algebra both stores share: how a write changes one fact's timeline.

A fact's *timeline* is its live (not superseded) version rows: disjoint
validity intervals ``[valid_from, valid_to)`` each with a content hash. A write
never edits a row: it computes the new timeline, then *supersedes* (as of the
batch's ``recorded_at``) the rows that no longer belong and inserts the new
ones. Keeping the superseded rows is what answers "as known at t'".

Rules (pure functions, so the SQLite and Neo4j stores cannot disagree):

- An **assert** of content ``h`` from ``vf`` lasts until the timeline's next
  boundary after ``vf`` (the next version's start or a recorded close), or
  until its explicit ``valid_to``. Whatever it overlaps is cut around it.
- A **close** at ``at`` ends the version covering ``at`` there.
- Contiguous pieces with equal content merge, so asserting what is already
  true (at any time inside its interval) changes nothing: writes are idempotent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from graph_schema.timeutil import OPEN


@dataclass(slots=True)
class Piece:
    """One interval of a fact's timeline; ``seq`` is set when it is a stored row.

    Treated as immutable (operations build new pieces); not declared frozen because
    frozen dataclasses are several times slower to construct, and the write path
    builds one per fact.
    """

    valid_from: int
    valid_to: int
    hash: str
    attrs_json: str
    source: str = ""
    origin: str = ""
    recorded_at: int = 0
    seq: int | None = None

    def cut(self, valid_from: int, valid_to: int) -> Piece:
        if valid_from == self.valid_from and valid_to == self.valid_to:
            return self
        return Piece(valid_from, valid_to, self.hash, self.attrs_json, self.source,
                     self.origin, 0, None)


@dataclass(slots=True)
class Outcome:
    """What one operation did to a timeline."""

    pieces: list[Piece]
    changed: bool
    ended_version: bool


def _next_boundary(pieces: Sequence[Piece], after: int) -> int:
    best = OPEN
    for p in pieces:
        if after < p.valid_from < best:
            best = p.valid_from
        if after < p.valid_to < best:
            best = p.valid_to
    return best


def _merge(pieces: list[Piece]) -> list[Piece]:
    pieces.sort(key=lambda p: p.valid_from)
    out: list[Piece] = []
    for p in pieces:
        if out and out[-1].valid_to == p.valid_from and out[-1].hash == p.hash:
            prev = out.pop()
            merged = Piece(prev.valid_from, p.valid_to, prev.hash, prev.attrs_json,
                           prev.source, prev.origin, 0, None)
            out.append(merged)
        else:
            out.append(p)
    return out


def _same(a: Sequence[Piece], b: Sequence[Piece]) -> bool:
    if len(a) != len(b):
        return False
    return all(
        x.valid_from == y.valid_from and x.valid_to == y.valid_to and x.hash == y.hash
        for x, y in zip(a, b, strict=True)
    )


def assert_content(pieces: list[Piece], new: Piece, explicit_end: bool) -> Outcome:
    """Make ``new`` true from ``new.valid_from`` (see the module rules)."""
    vf = new.valid_from
    end = new.valid_to if explicit_end else _next_boundary(pieces, vf)
    ended = any(p.valid_from <= vf < p.valid_to and p.hash != new.hash for p in pieces)
    out: list[Piece] = []
    for p in pieces:
        if p.valid_to <= vf or p.valid_from >= end:
            out.append(p)
            continue
        if p.valid_from < vf:
            out.append(p.cut(p.valid_from, vf))
        if p.valid_to > end:
            out.append(p.cut(end, p.valid_to))
    out.append(Piece(vf, end, new.hash, new.attrs_json, new.source, new.origin))
    merged = _merge(out)
    changed = not _same(merged, sorted(pieces, key=lambda p: p.valid_from))
    return Outcome(merged if changed else pieces, changed, ended and changed)


def close_at(pieces: list[Piece], at: int) -> Outcome:
    """End the version covering ``at`` at ``at`` (a version starting at ``at`` vanishes)."""
    out: list[Piece] = []
    changed = False
    for p in pieces:
        if p.valid_from <= at < p.valid_to:
            changed = True
            if p.valid_from < at:
                out.append(p.cut(p.valid_from, at))
        else:
            out.append(p)
    return Outcome(out if changed else pieces, changed, changed)


def reconcile(old: Sequence[Piece], new: Sequence[Piece]) -> tuple[list[int], list[Piece]]:
    """Rows to supersede (their seqs) and pieces to insert to turn ``old`` into ``new``."""
    keep = {(p.valid_from, p.valid_to, p.hash): p.seq for p in old}
    kept: set[int] = set()
    inserts: list[Piece] = []
    for p in new:
        seq = keep.get((p.valid_from, p.valid_to, p.hash))
        if seq is not None and seq not in kept:
            kept.add(seq)
        else:
            inserts.append(p)
    supersede = [p.seq for p in old if p.seq is not None and p.seq not in kept]
    return supersede, inserts
