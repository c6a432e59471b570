"""Upstream reachability in Neo4j Cypher on the benchmark's graphs.

Each graph is loaded by direct ``UNWIND`` batches as ``(:CCMBench{N} {id})`` nodes
and ``[:DEP]`` relationships (caller -> callee), with an index on ``id``; the
query counts the distinct transitive callers of the target with a variable-length
pattern. Queries run with a server-side transaction timeout (the budget), loading
stops at its own budget, and the benchmark's labels are deleted afterwards.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from ccm.bench.workloads import Workload

QUERY = ("MATCH (t:{label} {{id: $id}}) MATCH (u:{label})-[:DEP*1..]->(t) "
         "RETURN count(DISTINCT u) AS n")
BATCH = 20_000


@contextmanager
def neo4j_session() -> Iterator[Any]:
    """A driver on ``NEO4J_URI``, else on a local server started for the benchmark."""
    import neo4j

    from ccm.devserver.neo4j import neo4j_uri

    with neo4j_uri() as uri:
        import os

        password = os.environ.get("NEO4J_PASSWORD")
        auth = (os.environ.get("NEO4J_USER", "neo4j"), password) if password else None
        driver = neo4j.GraphDatabase.driver(uri, auth=auth, notifications_min_severity="OFF")
        try:
            yield driver
        finally:
            driver.close()


def _label(w: Workload) -> str:
    return f"CCMBench{len(w.snapshot.edges)}"


def load(driver: Any, w: Workload, budget: float) -> dict[str, Any]:
    """Load the graph; returns seconds taken, or a timeout status past ``budget``."""
    label = _label(w)
    start = time.perf_counter()
    with driver.session() as s:
        s.run(f"CREATE INDEX ccm_bench_{label.lower()} IF NOT EXISTS "
              f"FOR (n:{label}) ON (n.id)").consume()
        s.run("CALL db.awaitIndexes(300)").consume()
        ids = list(range(w.snapshot.n))
        for i in range(0, len(ids), BATCH):
            s.run(f"UNWIND $ids AS i CREATE (:{label} {{id: i}})", ids=ids[i:i + BATCH]).consume()
        pairs = np.column_stack([w.snapshot.edges.src, w.snapshot.edges.dst]).tolist()
        for i in range(0, len(pairs), BATCH):
            if time.perf_counter() - start > budget:
                return {"status": "timeout", "bound_s": budget, "loaded_edges": i}
            s.run(f"UNWIND $rows AS r MATCH (a:{label} {{id: r[0]}}) "
                  f"MATCH (b:{label} {{id: r[1]}}) CREATE (a)-[:DEP]->(b)",
                  rows=pairs[i:i + BATCH]).consume()
    return {"status": "ok", "seconds": time.perf_counter() - start}


def plan(driver: Any, w: Workload) -> str:
    """The operators of the query plan (to show whether Neo4j prunes the expansion)."""
    with driver.session() as s:
        summary = s.run("EXPLAIN " + QUERY.format(label=_label(w)), id=w.target).consume()
    ops: list[str] = []

    def walk(p: Any) -> None:
        ops.append(p.get("operatorType", "?") if isinstance(p, dict) else p.operator_type)
        for child in (p.get("children", []) if isinstance(p, dict) else p.children):
            walk(child)

    walk(summary.plan)
    return " <- ".join(ops)


def reachability(driver: Any, w: Workload, budget: float, repeats: int,
                 clock: Callable[[], float] = time.perf_counter) -> dict[str, Any]:
    import neo4j

    query = neo4j.Query(QUERY.format(label=_label(w)), timeout=budget)
    times: list[float] = []
    reached = None
    for _ in range(repeats):
        start = clock()
        try:
            with driver.session() as s:
                reached = s.run(query, id=w.target).single()["n"] + 1
        except neo4j.exceptions.ClientError as exc:
            if "Timeout" in type(exc).__name__ or "timeout" in str(exc).lower():
                return {"status": "timeout", "bound_s": budget, "seconds": times}
            raise
        times.append(clock() - start)
        if sum(times) > budget / 2:
            break
    return {"status": "ok", "seconds": times, "reached": reached}


def drop(driver: Any, w: Workload) -> None:
    label = _label(w)
    with driver.session() as s:
        s.run(f"MATCH (n:{label}) CALL (n) {{ DETACH DELETE n }} IN TRANSACTIONS OF 10000 ROWS"
              ).consume()
        s.run(f"DROP INDEX ccm_bench_{label.lower()} IF EXISTS").consume()
