"""Response models of the graph endpoints (the wire shape of ``ccm.store.types``)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["CoverageOut", "DiffOut", "EdgeOut", "GraphOut", "HistoryOut", "NodeOut", "PlaceholderOut",
           "UnresolvedOut", "VersionChange"]


class NodeOut(BaseModel):
    """One version of a node over ``[valid_from, valid_to)``."""

    type: Literal["node"] = "node"
    ref: str = Field(examples=["service:cartservice"])
    kind: str
    name: str
    attrs: dict[str, Any]
    valid_from: str | None
    valid_to: str | None = Field(description="null while still true")
    recorded_at: str | None


class EdgeOut(BaseModel):
    """One version of an edge ``from -[kind]-> to``."""

    model_config = ConfigDict(populate_by_name=True)

    type: Literal["edge"] = "edge"
    kind: str = Field(examples=["DEPENDS_ON"])
    src: str = Field(alias="from")
    dst: str = Field(alias="to")
    attrs: dict[str, Any]
    valid_from: str | None
    valid_to: str | None
    recorded_at: str | None


class GraphOut(BaseModel):
    """The graph true at ``valid_at`` as known at ``known_at`` (or a neighbourhood of it)."""

    valid_at: str | None
    known_at: str | None = Field(description="null: everything recorded so far")
    nodes: list[NodeOut]
    edges: list[EdgeOut]
    center: str | None = Field(default=None, description="the node of a neighbourhood")
    depth: int | None = None
    truncated: bool = Field(default=False, description="true when limit cut nodes off")
    revision: int | None = Field(default=None, description=(
        "the store revision read before the graph: it includes every write up to it"))


Version = Annotated[NodeOut | EdgeOut, Field(discriminator="type")]


class VersionChange(BaseModel):
    before: Version
    after: Version


class DiffOut(BaseModel):
    """Facts added, removed and changed between the graph at t1 and at t2."""

    t1: str | None
    t2: str | None
    known_at: str | None
    added: list[Version]
    removed: list[Version]
    changed: list[VersionChange]


class HistoryOut(BaseModel):
    """Every version of one node and of the edges to and from it."""

    ref: str
    known_at: str | None
    node: list[NodeOut]
    edges: list[EdgeOut]


class PlaceholderOut(BaseModel):
    """A node a source named but no manifest, catalog or native node defines."""

    ref: str = Field(examples=["config:argocd-cmd-params-cm/dexserver.log.level"])
    source: str = Field(description="'placeholder', or the adapter that alone wrote it "
                                    "(jaeger, otlp)")
    origin: str = Field(description="the file and record that named it")


class UnresolvedOut(BaseModel):
    """A component with ``unresolved: true`` and the alerts attached to it then."""

    ref: str
    origin: str
    alerts: list[str]


class CoverageOut(BaseModel):
    """What the graph true at ``valid_at`` lacks (see docs/ingest.md, Coverage)."""

    valid_at: str | None
    known_at: str | None = Field(description="null: everything recorded so far")
    components: int = Field(description="component nodes (unresolved placeholders apart)")
    dependencies: int = Field(description="DEPENDS_ON edges")
    without_dependencies: list[str] = Field(description="components no DEPENDS_ON edge "
                                                        "starts or ends at")
    placeholders: list[PlaceholderOut]
    unresolved: list[UnresolvedOut]
    unresolved_alerts: int = Field(description="alerts attached to unresolved placeholders")
    lacking: bool = Field(description="true when any list above is not empty")
