"""Neo4jStore: the time-versioned graph in a real Neo4j server (official driver).

Layout: one ``(:Entity:<Kind> {ref, kind, name})`` node per reference (unique
``ref``); node versions are ``(:NodeVersion)`` nodes; edge versions are
relationships of the edge kind's type between entities, each carrying its
validity and knowledge times. Writes are batched ``UNWIND`` statements in one
explicit transaction per batch; the ``(:CCMMeta)`` node is locked first, so
concurrent writers serialise. Settings: ``NEO4J_URI`` (``bolt://`` for one
server, ``neo4j://`` for a cluster), ``NEO4J_USER``, ``NEO4J_PASSWORD``,
``NEO4J_DATABASE``.
"""

from __future__ import annotations

import json
import os
import random
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from ccm.errors import ConfigError, Conflict, StoreSchemaTooNew, StoreUnavailable
from ccm.store.base import Clock, Record, VersionedStore, chunks, split_edge_id
from ccm.store.timeline import Piece
from ccm.store.types import EdgeVersion, Mark, NodeVersion, WriteResult
from graph_schema.derive import neo4j_schema
from graph_schema.kinds import EDGE_KIND_MAP, NODE_KIND_MAP, SCHEMA_VERSION
from graph_schema.timeutil import OPEN

T = TypeVar("T")
#: attempts for a transaction that Neo4j aborts as transient (a deadlock, a leader switch)
RETRIES = 6

_VERSION_FIELDS = ("attrs", "hash", "valid_from", "valid_to", "recorded_at", "superseded_at",
                   "source", "origin", "seq")


def _rel_type(kind: str) -> str:
    if kind not in EDGE_KIND_MAP:  # never interpolate anything not declared
        raise ValueError(f"unknown edge kind {kind!r}")
    return kind


def _label(kind: str) -> str:
    return NODE_KIND_MAP[kind].label


class _Neo4jTxn:
    def __init__(self, tx: Any, batch: int) -> None:
        self.tx = tx
        self.batch = batch
        rec = tx.run("MATCH (m:CCMMeta {id: 'meta'}) SET m.lock = coalesce(m.lock, 0) + 1 "
                     "RETURN m.last_recorded_at AS last, m.seq AS seq").single()
        self._last = int(rec["last"])
        self._seq = int(rec["seq"])

    def last_recorded_at(self) -> int:
        return self._last

    def known_entities(self, refs: Sequence[str]) -> set[str]:
        out: set[str] = set()
        for part in chunks(refs, self.batch):
            res = self.tx.run("UNWIND $refs AS r MATCH (e:Entity {ref: r}) RETURN e.ref AS ref",
                              refs=list(part))
            out.update(rec["ref"] for rec in res)
        return out

    def live_rows(self, node_refs: Sequence[str],
                  edge_ids: Sequence[str]) -> dict[str, list[Piece]]:
        out: dict[str, list[Piece]] = {}
        ret = ("RETURN v.fact_id AS fid, v.seq AS seq, v.valid_from AS vf, v.valid_to AS vt, "
               "v.hash AS h, v.attrs AS a, v.source AS s, v.origin AS o, v.recorded_at AS rec")
        for part in chunks(node_refs, self.batch):
            res = self.tx.run("UNWIND $ids AS id MATCH (v:NodeVersion {fact_id: id}) "
                              f"WHERE v.superseded_at = $open {ret}", ids=list(part), open=OPEN)
            self._collect(res, out)
        by_kind: dict[str, list[str]] = defaultdict(list)
        for fid in edge_ids:
            by_kind[split_edge_id(fid)[1]].append(fid)
        for kind, ids in by_kind.items():
            for part in chunks(ids, self.batch):
                res = self.tx.run(
                    f"UNWIND $ids AS id MATCH ()-[v:{_rel_type(kind)} {{fact_id: id}}]->() "
                    f"WHERE v.superseded_at = $open {ret}", ids=list(part), open=OPEN)
                self._collect(res, out)
        return out

    @staticmethod
    def _collect(res: Any, out: dict[str, list[Piece]]) -> None:
        for r in res:
            out.setdefault(r["fid"], []).append(
                Piece(r["vf"], r["vt"], r["h"], r["a"], r["s"], r["o"], r["rec"], r["seq"]))

    def incident_edge_ids(self, refs: Sequence[str]) -> set[str]:
        out: set[str] = set()
        for part in chunks(refs, self.batch):
            res = self.tx.run("UNWIND $refs AS r MATCH (:Entity {ref: r})-[x]-() "
                              "WHERE x.superseded_at = $open RETURN DISTINCT x.fact_id AS fid",
                              refs=list(part), open=OPEN)
            out.update(rec["fid"] for rec in res)
        return out

    def apply(self, entities: list[tuple[str, str, str]], node_rows: list[tuple[str, Piece]],
              edge_rows: list[tuple[str, str, str, Piece]], superseded_nodes: list[int],
              superseded_edges: list[tuple[str, int]], recorded_at: int) -> None:
        tx, n = self.tx, self.batch
        by_kind: dict[str, list[dict[str, str]]] = defaultdict(list)
        for ref, kind, name in entities:
            by_kind[kind].append({"ref": ref, "kind": kind, "name": name})
        for kind, rows in by_kind.items():
            for part in chunks(rows, n):
                tx.run(f"UNWIND $rows AS r CREATE (e:Entity:{_label(kind)}) SET e = r",
                       rows=list(part))
        for part in chunks(superseded_nodes, n):
            tx.run("UNWIND $seqs AS s MATCH (v:NodeVersion {seq: s}) SET v.superseded_at = $now",
                   seqs=list(part), now=recorded_at)
        sup_by_kind: dict[str, list[int]] = defaultdict(list)
        for kind, seq in superseded_edges:
            sup_by_kind[kind].append(seq)
        for kind, seqs in sup_by_kind.items():
            for part in chunks(seqs, n):
                tx.run(f"UNWIND $seqs AS s MATCH ()-[v:{_rel_type(kind)} {{seq: s}}]->() "
                       "SET v.superseded_at = $now", seqs=list(part), now=recorded_at)
        seq = self._seq
        version_rows: list[dict[str, Any]] = []
        for ref, p in node_rows:
            seq += 1
            version_rows.append(self._props(ref, p, seq, recorded_at))
        for part in chunks(version_rows, n):
            tx.run("UNWIND $rows AS r CREATE (v:NodeVersion) SET v = r", rows=list(part))
        edges_by_kind: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for kind, src, dst, p in edge_rows:
            seq += 1
            edges_by_kind[kind].append({"src": src, "dst": dst, "props": self._props(
                f"{src}|{kind}|{dst}", p, seq, recorded_at)})
        for kind, erows in edges_by_kind.items():
            for part in chunks(erows, n):
                tx.run("UNWIND $rows AS r MATCH (a:Entity {ref: r.src}) "
                       "MATCH (b:Entity {ref: r.dst}) "
                       f"CREATE (a)-[x:{_rel_type(kind)}]->(b) SET x = r.props", rows=list(part))
        tx.run("MATCH (m:CCMMeta {id: 'meta'}) SET m.revision = m.revision + 1, "
               "m.last_recorded_at = $now, m.seq = $seq", now=recorded_at, seq=seq)
        self._seq = seq

    @staticmethod
    def _props(fact_id: str, p: Piece, seq: int, recorded_at: int) -> dict[str, Any]:
        return {"fact_id": fact_id, "kind": fact_id.split("|")[1] if "|" in fact_id
                else fact_id.split(":", 1)[0], "attrs": p.attrs_json, "hash": p.hash,
                "valid_from": p.valid_from, "valid_to": p.valid_to, "recorded_at": recorded_at,
                "superseded_at": OPEN, "source": p.source, "origin": p.origin, "seq": seq}


class Neo4jStore(VersionedStore):
    """The time-versioned graph in Neo4j. Arguments default to the ``NEO4J_*`` settings."""

    def __init__(self, uri: str | None = None, user: str | None = None,
                 password: str | None = None, database: str | None = None, *,
                 clock: Clock | None = None, batch_size: int = 5000) -> None:
        super().__init__(clock)
        import neo4j

        self._neo4j = neo4j
        uri = uri or os.environ.get("NEO4J_URI")
        if not uri:
            raise ConfigError("no Neo4j server configured: set NEO4J_URI "
                              "(e.g. bolt://127.0.0.1:7687), NEO4J_USER and NEO4J_PASSWORD")
        if not uri.startswith(("bolt://", "bolt+s://", "bolt+ssc://", "neo4j://", "neo4j+s://",
                               "neo4j+ssc://")):
            raise ConfigError(f"NEO4J_URI must start with bolt:// or neo4j:// (got {uri!r})")
        self.uri = uri
        user = user or os.environ.get("NEO4J_USER", "neo4j")
        password = password if password is not None else os.environ.get("NEO4J_PASSWORD")
        self.database = database or os.environ.get("NEO4J_DATABASE") or None
        self.batch_size = batch_size
        auth = (user, password) if password else None
        try:
            self._driver = neo4j.GraphDatabase.driver(uri, auth=auth,
                                                       notifications_min_severity="OFF")
            self._driver.verify_connectivity()
        except (neo4j.exceptions.Neo4jError, neo4j.exceptions.DriverError, OSError) as exc:
            raise StoreUnavailable(f"cannot reach Neo4j at {uri}: {type(exc).__name__}: "
                                   f"{_first_line(exc)}") from None
        self._init_schema()

    def _session(self) -> Any:
        return self._driver.session(database=self.database)

    def _init_schema(self) -> None:
        with self._session() as s:
            rec = s.run("MATCH (m:CCMMeta {id: 'meta'}) RETURN m.schema_version AS v").single()
            if rec is not None and rec["v"] is not None and rec["v"] > SCHEMA_VERSION:
                raise StoreSchemaTooNew(
                    f"the Neo4j store at {self.uri} was written by CCM schema version "
                    f"{rec['v']}, newer than this CCM's version {SCHEMA_VERSION}: upgrade CCM")
            for stmt in neo4j_schema():
                s.run(stmt).consume()
            s.run("MERGE (m:CCMMeta {id: 'meta'}) ON CREATE SET m.revision = 0, "
                  "m.last_recorded_at = 0, m.seq = 0 SET m.schema_version = $v",
                  v=SCHEMA_VERSION).consume()

    @contextmanager
    def _transaction(self) -> Iterator[_Neo4jTxn]:
        with self._session() as s:
            tx = s.begin_transaction()
            try:
                yield _Neo4jTxn(tx, self.batch_size)
            except BaseException:
                tx.rollback()
                raise
            tx.commit()

    def _read(self, query: str, **params: Any) -> list[Any]:
        records, _, _ = self._driver.execute_query(
            query, params, database_=self.database, routing_="r")
        return [r.values() for r in records]

    # -- reads ---------------------------------------------------------------------------
    _NV = ", ".join(f"v.{f}" for f in _VERSION_FIELDS)

    def _graph_rows(self, valid_at: int, known_at: int
                    ) -> tuple[list[NodeVersion], list[EdgeVersion]]:
        cond = ("v.superseded_at > $k AND v.recorded_at <= $k AND v.valid_to > $t "
                "AND v.valid_from <= $t")
        nodes = [NodeVersion(*r) for r in self._read(
            f"MATCH (v:NodeVersion) WHERE {cond} RETURN v.fact_id, {self._NV}",
            k=known_at, t=valid_at)]
        edges = [EdgeVersion(*r) for r in self._read(
            f"MATCH (a:Entity)-[v]->(b:Entity) WHERE {cond} "
            f"RETURN type(v), a.ref, b.ref, {self._NV}", k=known_at, t=valid_at)]
        return nodes, edges

    def _history_rows(self, ref: str, known_at: int
                      ) -> tuple[list[NodeVersion], list[EdgeVersion]] | None:
        if not self._read("MATCH (e:Entity {ref: $r}) RETURN e.ref", r=ref):
            return None
        cond = "v.superseded_at > $k AND v.recorded_at <= $k"
        nodes = [NodeVersion(*r) for r in self._read(
            f"MATCH (v:NodeVersion {{fact_id: $r}}) WHERE {cond} RETURN v.fact_id, {self._NV}",
            r=ref, k=known_at)]
        edges = [EdgeVersion(*r) for r in self._read(
            f"MATCH (:Entity {{ref: $r}})-[v]-() WHERE {cond} WITH DISTINCT v "
            f"RETURN type(v), startNode(v).ref, endNode(v).ref, {self._NV}", r=ref, k=known_at)]
        return nodes, edges

    def open_fact_ids(self, source: str, valid_at: int) -> set[str]:
        return self.open_fact_ids_by_source({source: valid_at}).get(source, set())

    def open_fact_ids_by_source(self, times: Mapping[str, int]) -> dict[str, set[str]]:
        """For each source, the facts it asserts true at its time (one query, a part per
        kind of fact, each using the ``source`` index of its label or type)."""
        cond = "v.source IN $s AND v.superseded_at = $open"
        ret = "RETURN v.source AS s, v.fact_id AS f, v.valid_from AS vf, v.valid_to AS vt"
        parts = [f"MATCH (v:NodeVersion) WHERE {cond} {ret}"]
        parts += [f"MATCH ()-[v:{_rel_type(k)}]->() WHERE {cond} {ret}" for k in EDGE_KIND_MAP]
        out: dict[str, set[str]] = {}
        for part in chunks(sorted(times), self.batch_size):
            for src, fid, vf, vt in self._read(" UNION ALL ".join(parts), s=list(part),
                                               open=OPEN):
                if vf <= times[src] < vt:
                    out.setdefault(src, set()).add(fid)
        return out

    def _live_versions(self, fact_ids: Sequence[str]
                       ) -> dict[str, list[NodeVersion | EdgeVersion]]:
        live = "v.superseded_at = $open"
        out: dict[str, list[NodeVersion | EdgeVersion]] = {}
        nodes = [i for i in fact_ids if "|" not in i]
        for part in chunks(nodes, self.batch_size):
            for r in self._read(f"UNWIND $ids AS id MATCH (v:NodeVersion {{fact_id: id}}) "
                                f"WHERE {live} RETURN v.fact_id, {self._NV}", ids=part,
                                open=OPEN):
                out.setdefault(r[0], []).append(NodeVersion(*r))
        by_kind: dict[str, list[str]] = defaultdict(list)
        for fid in fact_ids:
            if "|" in fid and fid.count("|") >= 2 and split_edge_id(fid)[1] in EDGE_KIND_MAP:
                by_kind[split_edge_id(fid)[1]].append(fid)
        for kind, kids in by_kind.items():
            for part in chunks(kids, self.batch_size):
                for r in self._read(
                        f"UNWIND $ids AS id MATCH (a:Entity)-[v:{_rel_type(kind)} "
                        f"{{fact_id: id}}]->(b:Entity) WHERE {live} "
                        f"RETURN type(v), a.ref, b.ref, {self._NV}", ids=part, open=OPEN):
                    e = EdgeVersion(*r)
                    out.setdefault(e.fact_id, []).append(e)
        return out

    def find_refs(self, names: Iterable[str]) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for name, r in self._read("UNWIND $names AS n MATCH (e:Entity {name: n}) "
                                  "RETURN e.name, e.ref ORDER BY e.ref", names=sorted(set(names))):
            out.setdefault(name, []).append(r)
        return out

    def refs(self, kind: str | None = None) -> list[str]:
        if kind is None:
            return [r[0] for r in self._read("MATCH (e:Entity) RETURN e.ref ORDER BY e.ref")]
        return [r[0] for r in self._read(
            "MATCH (e:Entity {kind: $k}) RETURN e.ref ORDER BY e.ref", k=kind)]

    def revision(self) -> int:
        return int(self._read("MATCH (m:CCMMeta {id: 'meta'}) RETURN m.revision")[0][0])

    def mark(self) -> Mark:
        rev, rec = self._read("MATCH (m:CCMMeta {id: 'meta'}) "
                              "RETURN m.revision, m.last_recorded_at")[0]
        return Mark(int(rev), int(rec))

    def touched_since(self, recorded_at: int) -> set[str]:
        """One query, two parts per label or relationship type (recorded, superseded),
        each on the range index of its time property."""
        conds = ("v.recorded_at >= $t", "v.superseded_at >= $t AND v.superseded_at < $open")
        parts = [f"MATCH (v:NodeVersion) WHERE {c} RETURN v.fact_id AS f" for c in conds]
        parts += [f"MATCH ()-[v:{_rel_type(k)}]->() WHERE {c} RETURN v.fact_id AS f"
                  for k in EDGE_KIND_MAP for c in conds]
        return {r[0] for r in self._read(" UNION ".join(parts), t=recorded_at, open=OPEN)}

    def stats(self) -> dict[str, int]:
        return {
            "entities": self._read("MATCH (e:Entity) RETURN count(e)")[0][0],
            "node_versions": self._read("MATCH (v:NodeVersion) RETURN count(v)")[0][0],
            "edge_versions": self._read(
                "MATCH (:Entity)-[v]->(:Entity) RETURN count(v)")[0][0],
            "revision": self.revision(),
        }

    # -- control-plane records and logs --------------------------------------------------
    def _retrying(self, attempt: Callable[[], T]) -> T:
        """Run ``attempt`` (one whole transaction) again when Neo4j aborts it as transient
        (deadlock detected, leader switch): the aborted try was rolled back, so nothing of
        it is visible, as the driver's managed transactions do."""
        transient = (self._neo4j.exceptions.TransientError,
                     self._neo4j.exceptions.SessionExpired,
                     self._neo4j.exceptions.ServiceUnavailable)
        for n in range(RETRIES):
            try:
                return attempt()
            except transient:
                if n == RETRIES - 1:
                    raise
                time.sleep(min(1.0, 0.02 * 2**n) * (0.5 + random.random()))
        raise AssertionError("unreachable")

    def write(self, facts: Iterable[Any], *, recorded_at: int | None = None,
              validated: bool = False, parts: Sequence[int] | None = None,
              canon: Sequence[tuple[str, str] | None] | None = None) -> WriteResult:
        batch = list(facts)
        return self._retrying(lambda: super(Neo4jStore, self).write(
            batch, recorded_at=recorded_at, validated=validated, parts=parts, canon=canon))

    def put_record(self, collection: str, key: str, doc: dict[str, Any], *,
                   expected_rev: int | None = None) -> int:
        return self._retrying(lambda: self._put_record_once(collection, key, doc,
                                                            expected_rev))

    def _put_record_once(self, collection: str, key: str, doc: dict[str, Any],
                         expected_rev: int | None) -> int:
        rid = f"{collection}\x00{key}"
        with self._session() as s:
            tx = s.begin_transaction()
            try:
                current = tx.run(
                    "MERGE (r:Record {id: $id}) ON CREATE SET r.collection = $c, r.key = $k, "
                    "r.rev = 0 SET r.lock = coalesce(r.lock, 0) + 1 RETURN r.rev AS rev",
                    id=rid, c=collection, k=key).single()["rev"]
                if expected_rev is not None and expected_rev != current:
                    raise Conflict(f"{collection}/{key} is at revision {current}, "
                                   f"not {expected_rev}: reload it and retry")
                tx.run("MATCH (r:Record {id: $id}) SET r.doc = $doc, r.rev = r.rev + 1, "
                       "r.updated_at = $now", id=rid, doc=json.dumps(doc, sort_keys=True),
                       now=self._clock()).consume()
            except BaseException:
                tx.rollback()
                raise
            tx.commit()
        return int(current) + 1

    def get_record(self, collection: str, key: str) -> Record | None:
        rows = self._read("MATCH (r:Record {id: $id}) RETURN r.key, r.doc, r.rev, r.updated_at",
                          id=f"{collection}\x00{key}")
        return Record(rows[0][0], json.loads(rows[0][1]), rows[0][2], rows[0][3]) if rows else None

    def list_records(self, collection: str) -> list[Record]:
        return [Record(k, json.loads(d), r, u) for k, d, r, u in self._read(
            "MATCH (r:Record {collection: $c}) RETURN r.key, r.doc, r.rev, r.updated_at "
            "ORDER BY r.key", c=collection)]

    def append_log(self, stream: str,
                   build: Callable[[dict[str, Any] | None, int], dict[str, Any]]
                   ) -> tuple[int, dict[str, Any]]:
        return self._retrying(lambda: self._append_log_once(stream, build))

    def _append_log_once(self, stream: str,
                         build: Callable[[dict[str, Any] | None, int], dict[str, Any]]
                         ) -> tuple[int, dict[str, Any]]:
        with self._session() as s:
            tx = s.begin_transaction()
            try:
                last = tx.run("MERGE (s:LogStream {id: $s}) ON CREATE SET s.last_seq = 0 "
                              "SET s.lock = coalesce(s.lock, 0) + 1 RETURN s.last_seq AS q",
                              s=stream).single()["q"]
                prev = None
                if last:
                    rec = tx.run("MATCH (l:LogEntry {id: $id}) RETURN l.doc AS d",
                                 id=f"{stream}#{last}").single()
                    prev = json.loads(rec["d"]) if rec else None
                seq = int(last) + 1
                doc = build(prev, seq)
                tx.run("CREATE (l:LogEntry {id: $id, stream: $s, seq: $q, doc: $d}) "
                       "WITH l MATCH (s:LogStream {id: $s}) SET s.last_seq = $q",
                       id=f"{stream}#{seq}", s=stream, q=seq,
                       d=json.dumps(doc, sort_keys=True)).consume()
            except BaseException:
                tx.rollback()
                raise
            tx.commit()
        return seq, doc

    def read_log(self, stream: str, after: int = 0,
                 limit: int | None = None) -> list[tuple[int, dict[str, Any]]]:
        q = ("MATCH (l:LogEntry) WHERE l.stream = $s AND l.seq > $a "
             "RETURN l.seq, l.doc ORDER BY l.seq")
        if limit is not None:
            q += " LIMIT $n"
        return [(s, json.loads(d)) for s, d in self._read(q, s=stream, a=after, n=limit)]

    # -- housekeeping ----------------------------------------------------------------------
    def ping(self) -> None:
        try:
            self._read("RETURN 1")
        except (self._neo4j.exceptions.Neo4jError, self._neo4j.exceptions.DriverError) as exc:
            raise StoreUnavailable(f"Neo4j at {self.uri} is not answering: "
                                   f"{_first_line(exc)}") from None

    def wipe(self) -> None:
        """Delete every node and relationship in the database (tests and benchmarks only)."""
        with self._session() as s:
            s.run("MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS").consume()
        self._init_schema()

    def close(self) -> None:
        self._driver.close()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
