"""Small helpers the ingest tests share: fixture paths, graph tuples."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from graph_schema import parse_time

FIXTURES = Path(__file__).parent / "fixtures"
#: --at of a first and a second ingest in the time-versioning tests
AT1 = parse_time("2026-02-01T00:00:00Z")
AT2 = parse_time("2026-02-10T00:00:00Z")
LATER = parse_time("2026-06-01T00:00:00Z")


def edges(g: Any, *kinds: str) -> set[tuple[str, str, str]]:
    """``{(src, KIND, dst)}`` of a graph's edges (of ``kinds`` when given)."""
    return {(e.src, e.kind, e.dst) for e in g.edges_of(*kinds)}


def deps(g: Any) -> set[tuple[str, str]]:
    return {(e.src, e.dst) for e in g.edges_of("DEPENDS_ON")}


def attrs_of(g: Any, fact_id: str) -> dict[str, Any]:
    if "|" in fact_id:
        return dict(g.edges[fact_id].attrs)
    return dict(g.nodes[fact_id].attrs)


def errors_of(report: Any) -> list[str]:
    files = report.files if hasattr(report, "files") else [report]
    return [e for f in files for e in f.errors]
