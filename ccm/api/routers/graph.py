"""``GET /v1/graph`` (at a time, around a node), ``/v1/graph/diff``, ``/v1/nodes/{ref}/history``,
``/v1/coverage``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from ccm.api.deps import GraphReader, StateDep, parse_when
from ccm.api.jsonbody import StrictJsonRoute
from ccm.api.models.graph import CoverageOut, DiffOut, GraphOut, HistoryOut
from ccm.ops.graph import diff_view, graph_view, history_view
from graph_schema import NODE_KIND_MAP
from ingest.coverage import coverage

router = APIRouter(prefix="/v1", tags=["graph"], route_class=StrictJsonRoute)

AtQuery = Annotated[str, Query(description="valid time: ISO 8601, 'now' or 'now-2d'",
                               examples=["2026-03-05T09:45:00Z"], max_length=64)]
KnownQuery = Annotated[str | None, Query(
    description="answer with what CCM knew at this time (default: everything recorded)",
    max_length=64)]


@router.get("/graph", response_model=GraphOut, summary="The graph at a time",
            description="The graph true at `at` as known at `known_at`; with `node`, only "
                        "the nodes within `depth` hops of it (edges followed both ways).")
def get_graph(state: StateDep, who: GraphReader, at: AtQuery = "now",
              known_at: KnownQuery = None,
              node: Annotated[str | None, Query(description="a node reference",
                                                examples=["service:cartservice"],
                                                max_length=1000)] = None,
              depth: Annotated[int, Query(ge=0, le=10)] = 1,
              kind: Annotated[list[str] | None, Query(
                  description=f"only nodes of these kinds: {', '.join(NODE_KIND_MAP)}")] = None,
              limit: Annotated[int | None, Query(ge=1)] = None) -> Any:
    t = parse_when(at, "query.at", state.clock)
    k = parse_when(known_at, "query.known_at", state.clock)
    cap = min(limit or state.settings.graph_limit, state.settings.graph_limit)
    return graph_view(state.store, t, k, node=node, depth=depth, kinds=kind or (), limit=cap,
                      sees=who.sees_tenant)


@router.get("/graph/diff", response_model=DiffOut, summary="What changed between two times")
def get_diff(state: StateDep, who: GraphReader,
             t1: Annotated[str, Query(description="the earlier valid time", max_length=64,
                                      examples=["2026-03-01T00:00:00Z"])],
             t2: Annotated[str, Query(description="the later valid time", max_length=64,
                                      examples=["2026-03-05T12:00:00Z"])],
             known_at: KnownQuery = None) -> Any:
    a = parse_when(t1, "query.t1", state.clock)
    b = parse_when(t2, "query.t2", state.clock)
    k = parse_when(known_at, "query.known_at", state.clock)
    assert a is not None and b is not None
    return diff_view(state.store, a, b, k, sees=who.sees_tenant)


@router.get("/nodes/{ref:path}/history", response_model=HistoryOut,
            summary="Every version of a node and of its edges")
def get_history(state: StateDep, who: GraphReader,
                ref: Annotated[str, Path(description="a node reference",
                                         examples=["config:cartservice/REDIS_ADDR"])],
                known_at: KnownQuery = None) -> Any:
    k = parse_when(known_at, "query.known_at", state.clock)
    return history_view(state.store, ref, k, sees=who.sees_tenant)


@router.get("/coverage", response_model=CoverageOut, summary="What the graph lacks",
            description="Components without any dependency, placeholders (nodes a source "
                        "named but no manifest, catalog or native node defines) with the "
                        "record that named them, and alerts attached to unresolved "
                        "placeholders, in the graph true at `at` as known at `known_at`: "
                        "what `ccm doctor` prints.")
def get_coverage(state: StateDep, who: GraphReader, at: AtQuery = "now",
                 known_at: KnownQuery = None) -> Any:
    t = parse_when(at, "query.at", state.clock)
    k = parse_when(known_at, "query.known_at", state.clock)
    return coverage(state.store, t, k).to_dict()
