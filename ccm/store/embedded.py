"""EmbeddedStore: the time-versioned graph in one SQLite file (WAL mode).

Zero setup, the default everywhere. Each batch is one ``BEGIN IMMEDIATE``
transaction with ``synchronous=FULL``: an acknowledged batch is on disk, a
half-written one is never visible. Safe to share across threads (one
connection per thread).
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from ccm.errors import Conflict, StoreSchemaTooNew, StoreUnavailable
from ccm.store.base import Clock, Record, VersionedStore, chunks
from ccm.store.timeline import Piece
from ccm.store.types import EdgeVersion, Mark, NodeVersion
from graph_schema.derive import sqlite_ddl
from graph_schema.kinds import SCHEMA_VERSION
from graph_schema.timeutil import OPEN

_IN = 900  # parameters per IN (...) list, under SQLite's limit

#: what :meth:`EmbeddedStore.touched_since` looks versions up by (the superseded ones
#: by the as-of index, which begins with ``superseded_at``)
_DELTA_INDEXES = [f"CREATE INDEX IF NOT EXISTS {t}_recorded ON {t}(recorded_at)"
                  for t in ("node_versions", "edge_versions")]

#: migrations from a stored schema version to the next: {from_version: [sql, ...]}, run
#: in order when a store of an older version is opened. Schema version 1 is the only one
#: released so far: changes since (new attributes, views) are derived anew at every open.
#: A change that is not backward compatible bumps ``SCHEMA_VERSION``, adds its step here
#: and a store written by the release before it to tests/fixtures/stores/
#: (tests/test_store_upgrade.py opens each one).
MIGRATIONS: dict[int, list[str]] = {}


def default_store_path() -> Path:
    """``$CCM_STORE`` if it names a file, else ``$XDG_DATA_HOME/ccm/ccm.sqlite``
    (``~/.local/share/ccm/ccm.sqlite``)."""
    env = os.environ.get("CCM_STORE")
    if env and "://" not in env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "ccm" / "ccm.sqlite"


def from_range(ref: str) -> tuple[str, str]:
    """Bounds of the fact ids of the edges from node ``ref``: ``"<ref>|" <= id < "<ref>}"``
    (a reference holds no ``|``, and ``}`` is the character after it)."""
    return f"{ref}|", f"{ref}}}"


class _SqliteTxn:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.c = conn

    def last_recorded_at(self) -> int:
        row = self.c.execute("SELECT value FROM ccm_meta WHERE key='last_recorded_at'").fetchone()
        return int(row[0]) if row else 0

    def known_entities(self, refs: Sequence[str]) -> set[str]:
        out: set[str] = set()
        for part in chunks(refs, _IN):
            q = f"SELECT ref FROM entities WHERE ref IN ({','.join('?' * len(part))})"
            out.update(r[0] for r in self.c.execute(q, list(part)))
        return out

    def live_rows(self, node_refs: Sequence[str],
                  edge_ids: Sequence[str]) -> dict[str, list[Piece]]:
        out: dict[str, list[Piece]] = {}
        cols = "seq, valid_from, valid_to, hash, attrs, source, origin, recorded_at"
        for table, key, ids in (("node_versions", "ref", node_refs),
                                ("edge_versions", "fact_id", edge_ids)):
            for part in chunks(ids, _IN):
                q = (f"SELECT {key}, {cols} FROM {table} WHERE superseded_at = {OPEN} "
                     f"AND {key} IN ({','.join('?' * len(part))})")
                for fid, seq, vf, vt, h, attrs, src, origin, rec in self.c.execute(q, list(part)):
                    out.setdefault(fid, []).append(Piece(vf, vt, h, attrs, src, origin, rec, seq))
        return out

    def incident_edge_ids(self, refs: Sequence[str]) -> set[str]:
        out: set[str] = set()
        # by source: the range of fact ids "<ref>|..." (one indexed range per node)
        q = (f"SELECT fact_id FROM edge_versions INDEXED BY edge_versions_fact "
             f"WHERE fact_id >= ? AND fact_id < ? AND superseded_at = {OPEN}")
        for ref in refs:
            out.update(r[0] for r in self.c.execute(q, from_range(ref)))
        for part in chunks(refs, _IN):
            q = (f"SELECT fact_id FROM edge_versions WHERE dst IN ({','.join('?' * len(part))})"
                 f" AND superseded_at = {OPEN}")
            out.update(r[0] for r in self.c.execute(q, list(part)))
        return out

    def apply(self, entities: list[tuple[str, str, str]], node_rows: list[tuple[str, Piece]],
              edge_rows: list[tuple[str, str, str, Piece]], superseded_nodes: list[int],
              superseded_edges: list[tuple[str, int]], recorded_at: int) -> None:
        c = self.c
        c.executemany("INSERT INTO entities(ref, kind, name) VALUES (?,?,?)", entities)
        c.executemany(
            "UPDATE node_versions SET superseded_at=? WHERE seq=?",
            [(recorded_at, s) for s in superseded_nodes])
        c.executemany(
            "UPDATE edge_versions SET superseded_at=? WHERE seq=?",
            [(recorded_at, s) for _, s in superseded_edges])
        c.executemany(
            "INSERT INTO node_versions(ref, kind, attrs, hash, valid_from, valid_to, recorded_at,"
            " superseded_at, source, origin) VALUES (?,?,?,?,?,?,?,?,?,?)",
            [(ref, ref[:ref.index(":")], p.attrs_json, p.hash, p.valid_from, p.valid_to,
              recorded_at, OPEN, p.source, p.origin) for ref, p in node_rows])
        c.executemany(
            "INSERT INTO edge_versions(fact_id, kind, src, dst, attrs, hash, valid_from, valid_to,"
            " recorded_at, superseded_at, source, origin) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            [(f"{src}|{kind}|{dst}", kind, src, dst, p.attrs_json, p.hash, p.valid_from,
              p.valid_to, recorded_at, OPEN, p.source, p.origin)
             for kind, src, dst, p in edge_rows])
        c.execute("UPDATE ccm_meta SET value = CAST(value AS INTEGER) + 1 WHERE key='revision'")
        c.execute("UPDATE ccm_meta SET value = ? WHERE key='last_recorded_at'", (str(recorded_at),))


class EmbeddedStore(VersionedStore):
    """The time-versioned graph in one SQLite file. ``path`` defaults to
    :func:`default_store_path`."""

    def __init__(self, path: str | Path | None = None, *, clock: Clock | None = None) -> None:
        super().__init__(clock)
        self.path = Path(path).expanduser() if path is not None else default_store_path()
        self.uri = f"sqlite:///{self.path}"
        self._local = threading.local()
        self._conns: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreUnavailable(f"cannot create the store's folder {self.path.parent}: "
                                   f"{exc.strerror}") from None
        self._init_schema()

    # -- connections -------------------------------------------------------------------
    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = sqlite3.connect(self.path, isolation_level=None,
                                       check_same_thread=False, timeout=30)
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=FULL")
                conn.execute("PRAGMA foreign_keys=ON")
                conn.execute("PRAGMA busy_timeout=30000")
            except sqlite3.DatabaseError as exc:
                raise StoreUnavailable(f"cannot open {self.path} as a CCM store: {exc}") from None
            self._local.conn = conn
            with self._lock:
                self._conns.append(conn)
        return conn

    @contextmanager
    def _transaction(self) -> Iterator[_SqliteTxn]:
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield _SqliteTxn(conn)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def _init_schema(self) -> None:
        try:
            with self._transaction() as tx:
                c = tx.c
                has_meta = c.execute(
                    "SELECT 1 FROM sqlite_master WHERE type='table' AND name='ccm_meta'"
                ).fetchone()
                stored = None
                if has_meta:
                    row = c.execute(
                        "SELECT value FROM ccm_meta WHERE key='schema_version'").fetchone()
                    stored = int(row[0]) if row else None
                if stored is not None and stored > SCHEMA_VERSION:
                    raise StoreSchemaTooNew(
                        f"the store {self.path} was written by CCM schema version {stored}, "
                        f"newer than this CCM's version {SCHEMA_VERSION}: upgrade CCM "
                        "(pip install -U context-control-model) or use another store")
                if stored is not None:
                    for version in range(stored, SCHEMA_VERSION):
                        for stmt in MIGRATIONS.get(version, []):
                            c.execute(stmt)
                for stmt in sqlite_ddl() + _DELTA_INDEXES:
                    c.execute(stmt)
                c.execute("INSERT OR REPLACE INTO ccm_meta VALUES ('schema_version', ?)",
                          (str(SCHEMA_VERSION),))
                c.execute("INSERT OR IGNORE INTO ccm_meta VALUES ('revision', '0')")
                c.execute("INSERT OR IGNORE INTO ccm_meta VALUES ('last_recorded_at', '0')")
        except sqlite3.DatabaseError as exc:
            self.close()
            raise StoreUnavailable(f"cannot open {self.path} as a CCM store: {exc}") from None

    def _query(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[Any]:
        return self._conn().execute(sql, params).fetchall()

    # -- reads ---------------------------------------------------------------------------
    _NODE_COLS = "ref, attrs, hash, valid_from, valid_to, recorded_at, superseded_at, source, origin, seq"
    _EDGE_COLS = ("kind, src, dst, attrs, hash, valid_from, valid_to, recorded_at, superseded_at,"
                  " source, origin, seq")

    def _graph_rows(self, valid_at: int, known_at: int
                    ) -> tuple[list[NodeVersion], list[EdgeVersion]]:
        where = ("WHERE superseded_at > :k AND recorded_at <= :k "
                 "AND valid_to > :t AND valid_from <= :t")
        p = {"k": known_at, "t": valid_at}
        nodes = [NodeVersion(*r) for r in self._query(
            f"SELECT {self._NODE_COLS} FROM node_versions {where}", p)]
        edges = [EdgeVersion(*r) for r in self._query(
            f"SELECT {self._EDGE_COLS} FROM edge_versions {where}", p)]
        return nodes, edges

    def _history_rows(self, ref: str, known_at: int
                      ) -> tuple[list[NodeVersion], list[EdgeVersion]] | None:
        if not self._query("SELECT 1 FROM entities WHERE ref=?", (ref,)):
            return None
        p = {"r": ref, "k": known_at}
        live = "superseded_at > :k AND recorded_at <= :k"
        nodes = [NodeVersion(*r) for r in self._query(
            f"SELECT {self._NODE_COLS} FROM node_versions WHERE ref = :r AND {live}", p)]
        p["lo"], p["hi"] = from_range(ref)
        edges = [EdgeVersion(*r) for r in self._query(
            f"SELECT {self._EDGE_COLS} FROM edge_versions INDEXED BY edge_versions_fact "
            "WHERE fact_id >= :lo "
            f"AND fact_id < :hi AND {live} UNION ALL SELECT {self._EDGE_COLS} "
            f"FROM edge_versions WHERE {live} AND dst = :r AND src != :r", p)]
        return nodes, edges

    def open_fact_ids(self, source: str, valid_at: int) -> set[str]:
        """Facts from ``source`` true at ``valid_at`` (as known now): for stale cleanup."""
        return self.open_fact_ids_by_source({source: valid_at}).get(source, set())

    def open_fact_ids_by_source(self, times: Mapping[str, int]) -> dict[str, set[str]]:
        """For each source, the facts it asserts true at its time (as known now)."""
        out: dict[str, set[str]] = {}
        for part in chunks(sorted(times), _IN):
            marks = ",".join("?" * len(part))
            for table, key in (("node_versions", "ref"), ("edge_versions", "fact_id")):
                # the index holds the facts that have a source; "" (none) is a scan
                where = (f"INDEXED BY {table}_sourced WHERE source IN ({marks}) "
                         "AND source != ''" if "" not in part
                         else f"WHERE source IN ({marks})")
                q = (f"SELECT source, {key}, valid_from, valid_to FROM {table} {where} "
                     f"AND superseded_at = {OPEN}")
                for src, fid, vf, vt in self._query(q, list(part)):
                    if vf <= times[src] < vt:
                        out.setdefault(src, set()).add(fid)
        return out

    def _live_versions(self, fact_ids: Sequence[str]
                       ) -> dict[str, list[NodeVersion | EdgeVersion]]:
        out: dict[str, list[NodeVersion | EdgeVersion]] = {}
        nodes = [i for i in fact_ids if "|" not in i]
        edges = [i for i in fact_ids if "|" in i]
        live = f"superseded_at = {OPEN}"
        for part in chunks(nodes, _IN):
            q = (f"SELECT {self._NODE_COLS} FROM node_versions WHERE {live} "
                 f"AND ref IN ({','.join('?' * len(part))})")
            for r in self._query(q, list(part)):
                out.setdefault(r[0], []).append(NodeVersion(*r))
        for part in chunks(edges, _IN):
            q = (f"SELECT {self._EDGE_COLS} FROM edge_versions WHERE {live} "
                 f"AND fact_id IN ({','.join('?' * len(part))})")
            for r in self._query(q, list(part)):
                v = EdgeVersion(*r)
                out.setdefault(v.fact_id, []).append(v)
        return out

    def find_refs(self, names: Iterable[str]) -> dict[str, list[str]]:
        """For each bare name, the references of existing nodes with that name."""
        out: dict[str, list[str]] = {}
        for part in chunks(sorted(set(names)), _IN):
            q = (f"SELECT name, ref FROM entities WHERE name IN ({','.join('?' * len(part))}) "
                 "ORDER BY ref")
            for name, r in self._query(q, list(part)):
                out.setdefault(name, []).append(r)
        return out

    def refs(self, kind: str | None = None) -> list[str]:
        if kind is None:
            return [r[0] for r in self._query("SELECT ref FROM entities ORDER BY ref")]
        return [r[0] for r in self._query(
            "SELECT ref FROM entities WHERE kind=? ORDER BY ref", (kind,))]

    def revision(self) -> int:
        return int(self._query("SELECT value FROM ccm_meta WHERE key='revision'")[0][0])

    def mark(self) -> Mark:
        rows = dict(self._query("SELECT key, value FROM ccm_meta "
                                "WHERE key IN ('revision', 'last_recorded_at')"))
        return Mark(int(rows["revision"]), int(rows["last_recorded_at"]))

    def touched_since(self, recorded_at: int) -> set[str]:
        parts = [f"SELECT {key} FROM {table} WHERE {cond}"
                 for table, key in (("node_versions", "ref"), ("edge_versions", "fact_id"))
                 for cond in ("recorded_at >= :t", f"superseded_at >= :t AND superseded_at < {OPEN}")]
        return {r[0] for r in self._query(" UNION ".join(parts), {"t": recorded_at})}

    def stats(self) -> dict[str, int]:
        q = self._query
        return {
            "entities": q("SELECT count(*) FROM entities")[0][0],
            "node_versions": q("SELECT count(*) FROM node_versions")[0][0],
            "edge_versions": q("SELECT count(*) FROM edge_versions")[0][0],
            "revision": self.revision(),
        }

    # -- control-plane records and logs ------------------------------------------------
    def put_record(self, collection: str, key: str, doc: dict[str, Any], *,
                   expected_rev: int | None = None) -> int:
        """Create or replace a record; with ``expected_rev`` (0: must not exist) the write
        only happens if the stored revision matches, else :class:`Conflict`."""
        text = json.dumps(doc, sort_keys=True)
        with self._transaction() as tx:
            row = tx.c.execute("SELECT rev FROM records WHERE collection=? AND key=?",
                               (collection, key)).fetchone()
            current = row[0] if row else 0
            if expected_rev is not None and expected_rev != current:
                raise Conflict(f"{collection}/{key} is at revision {current}, "
                               f"not {expected_rev}: reload it and retry")
            tx.c.execute("INSERT OR REPLACE INTO records VALUES (?,?,?,?,?)",
                         (collection, key, text, current + 1, self._clock()))
        return current + 1

    def get_record(self, collection: str, key: str) -> Record | None:
        rows = self._query("SELECT key, doc, rev, updated_at FROM records "
                           "WHERE collection=? AND key=?", (collection, key))
        return Record(rows[0][0], json.loads(rows[0][1]), rows[0][2], rows[0][3]) if rows else None

    def list_records(self, collection: str) -> list[Record]:
        return [Record(k, json.loads(d), r, u) for k, d, r, u in self._query(
            "SELECT key, doc, rev, updated_at FROM records WHERE collection=? ORDER BY key",
            (collection,))]

    def append_log(self, stream: str,
                   build: Callable[[dict[str, Any] | None, int], dict[str, Any]]
                   ) -> tuple[int, dict[str, Any]]:
        """Append one entry to ``stream`` atomically: ``build(previous, seq)`` makes it."""
        with self._transaction() as tx:
            row = tx.c.execute("SELECT seq, doc FROM log_entries WHERE stream=? "
                               "ORDER BY seq DESC LIMIT 1", (stream,)).fetchone()
            prev = json.loads(row[1]) if row else None
            seq = (row[0] if row else 0) + 1
            doc = build(prev, seq)
            tx.c.execute("INSERT INTO log_entries VALUES (?,?,?)",
                         (stream, seq, json.dumps(doc, sort_keys=True)))
        return seq, doc

    def read_log(self, stream: str, after: int = 0,
                 limit: int | None = None) -> list[tuple[int, dict[str, Any]]]:
        q = "SELECT seq, doc FROM log_entries WHERE stream=? AND seq > ? ORDER BY seq"
        params: list[Any] = [stream, after]
        if limit is not None:
            q += " LIMIT ?"
            params.append(limit)
        return [(s, json.loads(d)) for s, d in self._query(q, params)]

    def ping(self) -> None:
        self._query("SELECT 1")

    def close(self) -> None:
        with self._lock:
            for conn in self._conns:
                with suppress(sqlite3.Error):
                    conn.close()
            self._conns.clear()
        self._local = threading.local()
