"""Storage schemas derived from the declaration in :mod:`graph_schema.kinds`.

- :func:`sqlite_ddl`: the tables (kind CHECKs from the declared kinds), indexes
  for time travel, and one typed view per kind (``node_service``,
  ``edge_depends_on``...) whose columns are the kind's declared attributes.
- :func:`neo4j_schema`: uniqueness on node references, lookup indexes per kind
  label, and range indexes on every time property of versions and relationships.
"""

from __future__ import annotations

from graph_schema.kinds import EDGE_KINDS, NODE_KINDS
from graph_schema.model import Attr

TIME_PROPS = ("valid_from", "valid_to", "recorded_at", "superseded_at")

_SQL_TYPES = {"str": "TEXT", "int": "INTEGER", "float": "REAL", "bool": "INTEGER",
              "time": "INTEGER", "str_list": "TEXT", "json": "TEXT"}


def _in_list(names: list[str]) -> str:
    return ", ".join(f"'{n}'" for n in names)


def _view_column(attr: Attr) -> str:
    expr = f"json_extract(attrs, '$.\"{attr.name}\"')"
    if attr.type in ("str_list", "json"):
        return f'{expr} AS "{attr.name}"'
    return f'CAST({expr} AS {_SQL_TYPES[attr.type]}) AS "{attr.name}"'


def sqlite_ddl() -> list[str]:
    """Statements that create (idempotently) the embedded store's schema."""
    node_kinds = [k.name for k in NODE_KINDS]
    edge_kinds = [k.name for k in EDGE_KINDS]
    stmts = [
        "CREATE TABLE IF NOT EXISTS ccm_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        f"""CREATE TABLE IF NOT EXISTS entities (
            ref TEXT PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN ({_in_list(node_kinds)})),
            name TEXT NOT NULL
        ) WITHOUT ROWID""",
        "CREATE INDEX IF NOT EXISTS entities_name ON entities(name)",
        f"""CREATE TABLE IF NOT EXISTS node_versions (
            seq INTEGER PRIMARY KEY,
            ref TEXT NOT NULL REFERENCES entities(ref),
            kind TEXT NOT NULL CHECK (kind IN ({_in_list(node_kinds)})),
            attrs TEXT NOT NULL,
            hash TEXT NOT NULL,
            valid_from INTEGER NOT NULL,
            valid_to INTEGER NOT NULL,
            recorded_at INTEGER NOT NULL,
            superseded_at INTEGER NOT NULL,
            source TEXT NOT NULL DEFAULT '',
            origin TEXT NOT NULL DEFAULT '',
            CHECK (valid_to > valid_from)
        )""",
        "CREATE INDEX IF NOT EXISTS node_versions_ref ON node_versions(ref, superseded_at)",
        "CREATE INDEX IF NOT EXISTS node_versions_asof "
        "ON node_versions(superseded_at, valid_to, valid_from, recorded_at)",
        # facts without a source (native JSONL) are never looked up by source: a partial
        # index spares their inserts (replaces the full index of earlier versions)
        "DROP INDEX IF EXISTS node_versions_source",
        "CREATE INDEX IF NOT EXISTS node_versions_sourced "
        "ON node_versions(source, superseded_at) WHERE source != ''",
        f"""CREATE TABLE IF NOT EXISTS edge_versions (
            seq INTEGER PRIMARY KEY,
            fact_id TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ({_in_list(edge_kinds)})),
            src TEXT NOT NULL REFERENCES entities(ref),
            dst TEXT NOT NULL REFERENCES entities(ref),
            attrs TEXT NOT NULL,
            hash TEXT NOT NULL,
            valid_from INTEGER NOT NULL,
            valid_to INTEGER NOT NULL,
            recorded_at INTEGER NOT NULL,
            superseded_at INTEGER NOT NULL,
            source TEXT NOT NULL DEFAULT '',
            origin TEXT NOT NULL DEFAULT '',
            CHECK (valid_to > valid_from)
        )""",
        "CREATE INDEX IF NOT EXISTS edge_versions_fact ON edge_versions(fact_id, superseded_at)",
        "CREATE INDEX IF NOT EXISTS edge_versions_asof "
        "ON edge_versions(superseded_at, valid_to, valid_from, recorded_at)",
        # edges by source node: a range of edge_versions_fact (a fact id starts with
        # "<src>|", and references hold no "|"); earlier versions had an index of their own
        "DROP INDEX IF EXISTS edge_versions_src",
        "CREATE INDEX IF NOT EXISTS edge_versions_dst ON edge_versions(dst, superseded_at)",
        "DROP INDEX IF EXISTS edge_versions_source",
        "CREATE INDEX IF NOT EXISTS edge_versions_sourced "
        "ON edge_versions(source, superseded_at) WHERE source != ''",
        """CREATE TABLE IF NOT EXISTS records (
            collection TEXT NOT NULL,
            key TEXT NOT NULL,
            doc TEXT NOT NULL,
            rev INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            PRIMARY KEY (collection, key)
        ) WITHOUT ROWID""",
        """CREATE TABLE IF NOT EXISTS log_entries (
            stream TEXT NOT NULL,
            seq INTEGER NOT NULL,
            doc TEXT NOT NULL,
            PRIMARY KEY (stream, seq)
        ) WITHOUT ROWID""",
    ]
    for nk in NODE_KINDS:
        cols = ", ".join(_view_column(a) for a in nk.attrs)
        stmts.append(f"DROP VIEW IF EXISTS node_{nk.name}")
        stmts.append(
            f"CREATE VIEW node_{nk.name} AS SELECT seq, ref, "
            f"substr(ref, {len(nk.name) + 2}) AS name, {cols}, "
            "valid_from, valid_to, recorded_at, superseded_at, source, origin "
            f"FROM node_versions WHERE kind = '{nk.name}'"
        )
    for ek in EDGE_KINDS:
        cols = "".join(", " + _view_column(a) for a in ek.attrs)
        view = f"edge_{ek.name.lower()}"
        stmts.append(f"DROP VIEW IF EXISTS {view}")
        stmts.append(
            f"CREATE VIEW {view} AS SELECT seq, src, dst{cols}, "
            "valid_from, valid_to, recorded_at, superseded_at, source, origin "
            f"FROM edge_versions WHERE kind = '{ek.name}'"
        )
    return stmts


def neo4j_schema() -> list[str]:
    """Cypher statements that create (idempotently) constraints and indexes."""
    stmts = [
        "CREATE CONSTRAINT ccm_entity_ref IF NOT EXISTS FOR (e:Entity) REQUIRE e.ref IS UNIQUE",
        "CREATE INDEX ccm_entity_name IF NOT EXISTS FOR (e:Entity) ON (e.name)",
        "CREATE CONSTRAINT ccm_meta_id IF NOT EXISTS FOR (m:CCMMeta) REQUIRE m.id IS UNIQUE",
        "CREATE CONSTRAINT ccm_nv_seq IF NOT EXISTS FOR (v:NodeVersion) REQUIRE v.seq IS UNIQUE",
        "CREATE INDEX ccm_nv_fact IF NOT EXISTS FOR (v:NodeVersion) ON (v.fact_id)",
        "CREATE INDEX ccm_nv_source IF NOT EXISTS FOR (v:NodeVersion) ON (v.source)",
        "CREATE CONSTRAINT ccm_record_id IF NOT EXISTS FOR (r:Record) REQUIRE r.id IS UNIQUE",
        "CREATE INDEX ccm_record_collection IF NOT EXISTS FOR (r:Record) ON (r.collection)",
        "CREATE CONSTRAINT ccm_log_id IF NOT EXISTS FOR (l:LogEntry) REQUIRE l.id IS UNIQUE",
        "CREATE INDEX ccm_log_stream IF NOT EXISTS FOR (l:LogEntry) ON (l.stream, l.seq)",
        "CREATE CONSTRAINT ccm_logstream_id IF NOT EXISTS FOR (s:LogStream) REQUIRE s.id IS UNIQUE",
    ]
    for prop in TIME_PROPS:
        stmts.append(
            f"CREATE RANGE INDEX ccm_nv_{prop} IF NOT EXISTS FOR (v:NodeVersion) ON (v.{prop})"
        )
    for nk in NODE_KINDS:
        stmts.append(
            f"CREATE INDEX ccm_{nk.name}_name IF NOT EXISTS FOR (e:{nk.label}) ON (e.name)"
        )
    for ek in EDGE_KINDS:
        low = ek.name.lower()
        for prop in ("seq", "fact_id", "source") + TIME_PROPS:
            stmts.append(
                f"CREATE RANGE INDEX ccm_{low}_{prop} IF NOT EXISTS "
                f"FOR ()-[r:{ek.name}]-() ON (r.{prop})"
            )
    return stmts
