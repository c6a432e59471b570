"""Planning one batch write: the rows a batch of validated facts inserts and supersedes.

Shared by every backend (through :class:`ccm.store.base.VersionedStore`). The
plan reads what it needs from the transaction in a few set-at-a-time queries
(which referenced nodes exist; the live versions of every fact the batch
touches), applies the versioning algebra of :mod:`ccm.store.timeline` to each
fact in batch order, and hands the difference to :meth:`Txn.apply` in one call.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any, Protocol

import orjson

from ccm.errors import BatchRejected
from ccm.store.timeline import Piece, assert_content, close_at, reconcile
from ccm.store.types import WriteResult
from graph_schema import EDGE_KIND_MAP, NODE_KIND_MAP, Close, EdgeFact, FactError, NodeFact
from graph_schema.timeutil import OPEN


class Txn(Protocol):
    """The primitives a backend provides inside one write transaction."""

    def last_recorded_at(self) -> int: ...
    def known_entities(self, refs: Sequence[str]) -> set[str]: ...
    def live_rows(self, node_refs: Sequence[str],
                  edge_ids: Sequence[str]) -> dict[str, list[Piece]]: ...
    def incident_edge_ids(self, refs: Sequence[str]) -> set[str]: ...
    def apply(self, entities: list[tuple[str, str, str]],
              node_rows: list[tuple[str, Piece]],
              edge_rows: list[tuple[str, str, str, Piece]],
              superseded_nodes: list[int], superseded_edges: list[tuple[str, int]],
              recorded_at: int) -> None: ...



_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                              check_circular=False)  # attrs are validated: no cycles
#: digits all read as "0", to look for a float orjson writes unlike json (1e-7, 0.00001)
_DIGITS_AS_0 = bytes.maketrans(b"123456789", b"000000000")
_EMPTY_ATTRS = ("{}", hashlib.blake2b(b"{}", digest_size=8).hexdigest())


def _with_carried(f: NodeFact | EdgeFact, pieces: list[Piece] | None) -> Any:
    """``f``'s attributes, plus the carried ones (``Attr.carried``: learned by memory)
    it does not set, taken from the version in force where ``f`` begins."""
    kind = (EDGE_KIND_MAP if type(f) is EdgeFact else NODE_KIND_MAP).get(f.kind)
    carried = kind.carried if kind is not None else ()
    if not carried or not pieces:
        return f.attrs
    missing = [a for a in carried if a not in f.attrs]
    at = f.valid_from
    prev = next((p for p in pieces if p.valid_from <= at < p.valid_to), None)
    if not missing or prev is None or prev.attrs_json == "{}":
        return f.attrs
    old = json.loads(prev.attrs_json)
    kept = {a: old[a] for a in missing if a in old}
    return {**f.attrs, **kept} if kept else f.attrs


def canonical_attrs(attrs: Any) -> tuple[str, str]:
    """The canonical JSON of attributes (``json.dumps`` with sorted keys, no spaces, no
    ASCII escaping) and its content hash.

    Encoded by orjson when its text is certainly the same (it is, for validated attrs,
    except for floats with negative exponents, and integers beyond 64 bits, which it
    refuses); else by the standard library's encoder. Hashes of stored versions depend
    on this text, so it must not change.
    """
    if not attrs:
        return _EMPTY_ATTRS
    try:
        data = orjson.dumps(attrs, option=orjson.OPT_SORT_KEYS)
    except TypeError:  # orjson.JSONEncodeError: a type or an integer it does not encode
        data = b""
    tr = data.translate(_DIGITS_AS_0)
    if not data or b"0e-" in tr or b"0.0000" in tr:  # orjson: 1e-7 and 0.00001
        text = _CANONICAL.encode(attrs)
        data = text.encode("utf-8")
    else:
        text = data.decode("utf-8")
    return text, hashlib.blake2b(data, digest_size=8).hexdigest()


def split_edge_id(fact_id: str) -> tuple[str, str, str]:
    src, kind, dst = fact_id.split("|", 2)
    return src, kind, dst


def _where(f: NodeFact | EdgeFact | Close, i: int) -> str:
    return f.origin or f"fact {i} ({f.describe()})"


class Plan:
    """One batch: what it asserts and closes, checked against the store inside ``tx``."""

    def __init__(self, tx: Txn, facts: list[NodeFact | EdgeFact | Close], total: int,
                 canon: Sequence[tuple[str, str] | None] | None = None) -> None:
        self.tx, self.facts, self.total = tx, facts, total
        #: ``canonical_attrs(f.attrs)`` of each fact, when the caller computed them
        self.canon = canon
        #: each fact's id (None for a close), in batch order
        self.fids: list[str | None] = []
        self.nodes: dict[str, NodeFact] = {}
        self.edges: dict[str, EdgeFact] = {}
        self.close_nodes: list[str] = []
        self.close_edges: set[str] = set()
        self._classify()
        self.known = self._check_endpoints()
        self.incident = tx.incident_edge_ids(self.close_nodes) if self.close_nodes else set()
        known = self.known
        # only facts whose nodes existed before this batch can have stored versions
        old_edges = [fid for fid, f in self.edges.items() if f.src in known and f.dst in known]
        self.original = tx.live_rows(
            sorted({r for r in self.nodes if r in known} | set(self.close_nodes)),
            sorted(set(old_edges) | self.close_edges | self.incident))
        self.timelines = {k: list(v) for k, v in self.original.items()}

    def _classify(self) -> None:
        fids, nodes, edges = self.fids, self.nodes, self.edges
        for f in self.facts:
            if type(f) is EdgeFact:
                fid = f"{f.src}|{f.kind}|{f.dst}"
                if fid not in edges:
                    edges[fid] = f
            elif type(f) is NodeFact:
                fid = f"{f.kind}:{f.name}"
                if fid not in nodes:
                    nodes[fid] = f
            else:
                fids.append(None)
                if "|" in f.fact_id:
                    self.close_edges.add(f.fact_id)
                else:
                    self.close_nodes.append(f.fact_id)
                continue
            fids.append(fid)

    def _check_endpoints(self) -> set[str]:
        """The referenced nodes the store has; rejects the batch at its first edge
        that ends at a node neither the store nor the batch has."""
        nodes, edges = self.nodes, self.edges
        ends = {f.src for f in edges.values()}
        ends.update(f.dst for f in edges.values())
        known = self.tx.known_entities(sorted(ends.union(nodes, self.close_nodes)))
        missing = ends - known - nodes.keys()
        if missing:
            for i, f in enumerate(self.facts):
                if type(f) is EdgeFact:
                    for field_name, r in (("from", f.src), ("to", f.dst)):
                        if r in missing:
                            err = FactError(_where(f, i), field_name, r, "unknown node: write "
                                            "the node first, or in the same batch")
                            raise BatchRejected(err, i, self.total)
        return known

    def run(self, sizes: list[int]) -> list[WriteResult]:
        """Apply every fact to its timeline, in order; counts per part of ``sizes``."""
        results = [WriteResult() for _ in sizes]
        edges_of: dict[str, set[str]] | None = None
        start = 0
        for part, size in enumerate(sizes):
            result = results[part]
            for i in range(start, start + size):
                f, fid = self.facts[i], self.fids[i]
                if fid is None:
                    if edges_of is None:
                        edges_of = self._batch_edges_of()
                    self._close(f, i, edges_of, result)  # type: ignore[arg-type]
                    continue
                self._assert(f, fid, result, i)  # type: ignore[arg-type]
            start += size
        return results

    def _assert(self, f: NodeFact | EdgeFact, fid: str, result: WriteResult, i: int) -> None:
        attrs = _with_carried(f, self.timelines.get(fid))
        pre = self.canon[i] if self.canon is not None and attrs is f.attrs else None
        attrs_json, h = pre if pre is not None else canonical_attrs(attrs)
        vt = f.valid_to
        piece = Piece(f.valid_from, OPEN if vt is None else vt, h, attrs_json, f.source,
                      f.origin)
        timelines = self.timelines
        pieces = timelines.get(fid)
        if not pieces:  # a fact with no versions yet: nothing to cut or merge
            timelines[fid] = [piece]
            result.added += 1
            return
        out = assert_content(pieces, piece, vt is not None)
        if out.changed:
            timelines[fid] = out.pieces
            result.added += 1
            result.closed += int(out.ended_version)
        else:
            result.unchanged += 1

    def _batch_edges_of(self) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        for fid, f in self.edges.items():
            out.setdefault(f.src, set()).add(fid)
            out.setdefault(f.dst, set()).add(fid)
        return out

    def _close(self, f: Close, i: int, edges_of: dict[str, set[str]],
               result: WriteResult) -> None:
        is_edge = "|" in f.fact_id
        timelines = self.timelines
        if not is_edge and f.fact_id not in self.known and f.fact_id not in timelines:
            err = FactError(_where(f, i), "fact_id", f.fact_id, "no such node in the store")
            raise BatchRejected(err, i, self.total)
        if is_edge and f.fact_id not in timelines:
            err = FactError(_where(f, i), "fact_id", f.fact_id, "no such edge in the store")
            raise BatchRejected(err, i, self.total)
        targets = [f.fact_id]
        if not is_edge:
            targets += sorted(
                e for e in (self.incident | edges_of.get(f.fact_id, set()))
                if f.fact_id in split_edge_id(e)[::2]
            )
        changed_any = False
        for fid in targets:
            out = close_at(timelines.get(fid, []), f.at)
            if out.changed:
                timelines[fid] = out.pieces
                result.closed += 1
                changed_any = True
        if not changed_any:
            result.unchanged += 1

    def apply(self, now: int) -> None:
        """Hand the new rows and the superseded ones to the backend."""
        nodes, edges, original = self.nodes, self.edges, self.original
        entities = [(r, f.kind, f.name) for r, f in nodes.items() if r not in self.known]
        node_rows: list[tuple[str, Piece]] = []
        edge_rows: list[tuple[str, str, str, Piece]] = []
        sup_nodes: list[int] = []
        sup_edges: list[tuple[str, int]] = []
        for fid, pieces in self.timelines.items():
            old = original.get(fid)
            supersede, inserts = reconcile(old, pieces) if old else (None, pieces)
            e = edges.get(fid)
            if e is not None:
                kind, src, dst = e.kind, e.src, e.dst
            elif "|" in fid:
                src, kind, dst = split_edge_id(fid)
            else:
                if supersede:
                    sup_nodes.extend(supersede)
                for p in inserts:
                    node_rows.append((fid, p))
                continue
            if supersede:
                sup_edges.extend((kind, s) for s in supersede)
            for p in inserts:
                edge_rows.append((kind, src, dst, p))
        if entities or node_rows or edge_rows or sup_nodes or sup_edges:
            self.tx.apply(entities, node_rows, edge_rows, sup_nodes, sup_edges, now)
