"""Requests and responses of ``POST /v1/rca``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ccm.ops.rca import RcaQuery, SymptomSpec
from ccm.ops.times import parse_duration_field, parse_when
from graph_schema import SIGNALS

Signal = Literal[SIGNALS]  # type: ignore[valid-type]


class SymptomIn(BaseModel):
    """A symptom: a node, the signal seen on it, and when it began (default: ``at``)."""

    model_config = ConfigDict(extra="forbid")

    ref: str = Field(min_length=1, max_length=1000, examples=["service:cartservice"],
                     description="a node reference, or a name or alias of a component "
                                 "(cartservice, reviews-v2, ratings.default)")
    signal: Signal = "errors"
    time: str | None = Field(default=None, max_length=64, examples=["2026-03-05T09:41:00Z"])


class RcaRequest(BaseModel):
    """What to explain: symptoms, alerts, or (neither) the alerts firing at ``at``."""

    model_config = ConfigDict(extra="forbid")

    at: str = Field(default="now", max_length=64, examples=["2026-03-05T09:45:00Z"],
                    description="the time of the question (ISO 8601, 'now', 'now-2h')")
    known_at: str | None = Field(default=None, max_length=64)
    symptoms: list[SymptomIn] = Field(default_factory=list, max_length=1000)
    alerts: list[str] = Field(default_factory=list, max_length=1000, examples=[["alert:alrt-1"]],
                              description="alert references (or ids) whose symptoms to explain")
    window: str | None = Field(default=None, max_length=64, examples=["P7D"], description=(
        "only changes this recent (default: all; older ones weigh less, never cut off)"))
    k: int = Field(default=5, ge=1, le=100, description="chains to return, one per root")


    def resolve(self, clock: Callable[[], int]) -> RcaQuery:
        """The question with its times read (a bad one raises TimeParseError naming it)."""
        at = parse_when(self.at, "body.at", clock)
        assert at is not None
        return RcaQuery(
            at, parse_when(self.known_at, "body.known_at", clock),
            tuple(SymptomSpec(s.ref, s.signal, parse_when(s.time, f"body.symptoms[{i}].time",
                                                          clock))
                  for i, s in enumerate(self.symptoms)),
            tuple(self.alerts), parse_duration_field(self.window, "body.window"), self.k)


class LinkOut(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    src: str = Field(alias="from")
    dst: str = Field(alias="to")
    edge: str
    p: float
    why: str
    attrs: dict[str, Any] = {}


class ChainOut(BaseModel):
    """A ranked root-cause hypothesis and its most probable chain to a symptom."""

    model_config = ConfigDict(extra="allow")

    rank: int
    root: str
    cause: str
    chain: list[str]
    symptom: str
    score: float
    prior: float
    explained: list[str]
    unexplained: list[str]
    links: list[LinkOut]


class ObservationOut(BaseModel):
    """The node state the top two hypotheses predict most differently: ``signal``
    ``failure`` or ``traffic_drop``, its probability under each, and since when."""

    node: str
    signal: str
    first: float
    second: float
    since: str | None


class CloseCallOut(BaseModel):
    """The top two roots are close (``ratio`` of their posteriors below the engine's
    ``close_ratio``), and what would separate them."""

    first: str
    second: str
    ratio: float
    observation: ObservationOut | None
    note: str


class RcaOut(BaseModel):
    valid_at: str | None
    revision: int | None = Field(default=None, description=(
        "the store revision the answer was computed on: it includes every write "
        "acknowledged at or before it"))
    symptoms: list[dict[str, Any]]
    hypotheses: int
    chains: list[ChainOut]
    close_call: CloseCallOut | None = None
    timings: dict[str, float]
