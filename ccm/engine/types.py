"""The engine's public values: actions, symptoms, impacts and root-cause chains.

These are small, typed and stable: the policy layer, the API and the MCP tools
build on them. Every result has ``to_dict()`` for JSON.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ccm.errors import InvalidRequest
from graph_schema import SIGNALS, format_time

#: what an agent or a person can ask the engine to evaluate
ACTION_KINDS = ("deploy", "rollback", "config_change", "restart", "scale", "schema_migration",
                "feature_flag", "dependency_upgrade", "infra_change")

#: signals whose effect travels from a failing callee to its callers
UPSTREAM_SIGNALS = frozenset(s for s in SIGNALS if s != "traffic_drop")


@dataclass(frozen=True, slots=True)
class Action:
    """A proposed change to production: what kind, on which node, with which content.

    ``keys`` are the configuration keys a ``config_change`` sets; ``destructive`` marks a
    schema migration that destroys data; ``reversible`` False marks a one-way change.
    ``attributes`` carries anything else (version, image, flag name); it is data, never
    interpreted beyond the named fields.
    """

    kind: str
    target: str
    keys: tuple[str, ...] = ()
    destructive: bool = False
    reversible: bool = True
    attributes: Mapping[str, Any] = field(default_factory=dict, hash=False, compare=False)

    def __post_init__(self) -> None:
        if self.kind not in ACTION_KINDS:
            raise InvalidRequest(f"action kind {self.kind!r} is not one of "
                                 + ", ".join(ACTION_KINDS))
        if not isinstance(self.target, str) or not self.target:
            raise InvalidRequest(f"action target must be a node reference, got {self.target!r}")
        object.__setattr__(self, "keys", tuple(str(k) for k in self.keys))

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "target": self.target, "keys": list(self.keys),
                "destructive": self.destructive, "reversible": self.reversible,
                "attributes": dict(self.attributes)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Action:
        return cls(kind=data.get("kind", ""), target=data.get("target", ""),
                   keys=tuple(data.get("keys") or ()),
                   destructive=bool(data.get("destructive", False)),
                   reversible=bool(data.get("reversible", True)),
                   attributes=dict(data.get("attributes") or {}))


@dataclass(frozen=True, slots=True)
class Symptom:
    """An observed symptom: a node, the signal seen on it, and its onset time (µs UTC)."""

    ref: str
    signal: str
    time: int

    def __post_init__(self) -> None:
        if self.signal not in SIGNALS:
            raise InvalidRequest(f"symptom signal {self.signal!r} is not one of "
                                 + ", ".join(SIGNALS))

    @property
    def upstream(self) -> bool:
        """True when the signal travels from a failing callee to its callers."""
        return self.signal in UPSTREAM_SIGNALS

    @classmethod
    def parse(cls, text: str, time: int) -> Symptom:
        """``service:cart`` or ``service:cart:latency`` (the signal defaults to errors)."""
        head, _, tail = text.rpartition(":")
        if head and ":" in head and tail in SIGNALS:
            return cls(head, tail, time)
        if ":" not in text:
            raise InvalidRequest(f"symptom {text!r} must be a node reference like "
                                 "service:cart, optionally with :signal")
        return cls(text, "errors", time)

    def to_dict(self) -> dict[str, Any]:
        return {"ref": self.ref, "signal": self.signal, "time": format_time(self.time)}


@dataclass(frozen=True, slots=True)
class Distribution:
    """Summary of a sampled quantity."""

    mean: float
    p50: float
    p95: float

    def to_dict(self) -> dict[str, float]:
        return {"mean": self.mean, "p50": self.p50, "p95": self.p95}


@dataclass(frozen=True, slots=True)
class Timings:
    """Seconds spent compiling (or loading compiled) kernels, and running them."""

    compile_s: float
    run_s: float

    def to_dict(self) -> dict[str, float]:
        return {"compile_s": round(self.compile_s, 6), "run_s": round(self.run_s, 6)}


@dataclass(frozen=True, slots=True)
class Impact:
    """The predicted blast radius of an action.

    Everything except ``p_fail`` is *conditional on the action failing*: ``nodes`` maps
    each node that can be impacted to its probability (noisy-OR fixpoint), ``services``
    and ``traffic`` summarise Monte Carlo cascades (impacted components; impacted share
    of total entrypoint requests per second, 0..1), and ``paths`` gives, for each
    impacted entrypoint, the most probable path from the failing node to it.
    Multiply by ``p_fail`` for unconditional figures (``expected_traffic``).
    """

    action: Action
    p_fail: float
    nodes: dict[str, float]
    services: Distribution
    traffic: Distribution
    paths: dict[str, list[str]]
    samples: int
    seed: int
    timings: Timings
    valid_at: int
    #: impacted entrypoints (``paths`` may hold the likeliest only, see ``max_paths``)
    paths_total: int | None = None
    #: the sum of the impacted entrypoints' probabilities, capped at 1: a bound on the
    #: probability that the failure reaches some entrypoint
    reach: float | None = None
    #: the store revision of the snapshot it was computed on (None: not from a store)
    revision: int | None = None

    @property
    def expected_traffic(self) -> float:
        """Unconditional expected share of entrypoint traffic impacted."""
        return self.p_fail * self.traffic.mean

    def to_dict(self) -> dict[str, Any]:
        return {
            "action": self.action.to_dict(), "p_fail": self.p_fail,
            "valid_at": format_time(self.valid_at),
            "nodes": dict(self.nodes), "services": self.services.to_dict(),
            "traffic": self.traffic.to_dict(), "expected_traffic": self.expected_traffic,
            "paths": {k: list(v) for k, v in self.paths.items()},
            "paths_total": len(self.paths) if self.paths_total is None else self.paths_total,
            "samples": self.samples, "seed": self.seed, "timings": self.timings.to_dict(),
            "revision": self.revision,
        }


@dataclass(frozen=True, slots=True)
class Link:
    """One link of a chain, cause side first: why ``src`` failing makes ``dst`` fail."""

    src: str
    dst: str
    edge: str
    p: float
    why: str
    attrs: dict[str, Any] = field(default_factory=dict)
    times: dict[str, str | None] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"from": self.src, "to": self.dst, "edge": self.edge, "p": self.p,
                "why": self.why, "attrs": dict(self.attrs), "times": dict(self.times)}


@dataclass(frozen=True, slots=True)
class Chain:
    """A ranked root-cause hypothesis and its most probable path to a symptom.

    ``nodes`` runs from the cause (a ``change:`` node, the failing node for a
    spontaneous failure, the expired ``config:`` node for an expiry) to ``symptom``;
    ``score`` is the posterior probability among the hypotheses considered (exact, or
    slightly conservative when hypotheses that could not reach the top k were only
    bounded) and ``log_score`` its unnormalised log. ``cause`` is ``"change"``,
    ``"expiry"`` or ``"spontaneous"``. ``prior`` is per hour: q times the density of
    the onset delay for a change or an expiry, the failure rate for a spontaneous one.
    """

    rank: int
    root: str
    cause: str
    nodes: list[str]
    symptom: str
    score: float
    log_score: float
    prior: float
    explained: list[str]
    unexplained: list[str]
    links: list[Link]

    def to_dict(self) -> dict[str, Any]:
        return {"rank": self.rank, "root": self.root, "cause": self.cause,
                "chain": list(self.nodes), "symptom": self.symptom, "score": self.score,
                "log_score": self.log_score, "prior": self.prior,
                "explained": list(self.explained), "unexplained": list(self.unexplained),
                "links": [link.to_dict() for link in self.links]}


@dataclass(frozen=True, slots=True)
class Observation:
    """What to check next: the state of ``node`` (``signal``: ``failure`` for errors,
    latency or down; ``traffic_drop``) that the top two hypotheses predict most
    differently. ``first``/``second``: the probability that it is failing (or losing
    traffic) under each; ``since``: from when the hypothesis that predicts it failing
    says it would (µs)."""

    node: str
    signal: str
    first: float
    second: float
    since: int | None

    def to_dict(self) -> dict[str, Any]:
        return {"node": self.node, "signal": self.signal, "first": self.first,
                "second": self.second,
                "since": format_time(self.since) if self.since is not None else None}


@dataclass(frozen=True, slots=True)
class CloseCall:
    """The top two roots are close: the first is less than ``Params.close_ratio`` times
    as probable as the second. ``observation`` would separate them (None when they
    predict the same state everywhere, e.g. a change and a spontaneous failure of the
    same component); ``note`` says what to check in words."""

    first: str
    second: str
    ratio: float
    observation: Observation | None
    note: str

    def to_dict(self) -> dict[str, Any]:
        return {"first": self.first, "second": self.second, "ratio": self.ratio,
                "observation": self.observation.to_dict() if self.observation else None,
                "note": self.note}


@dataclass(frozen=True, slots=True)
class RootCauses:
    """The ranked chains for a set of symptoms (iterate it for the chains), and whether
    the top two are a close call."""

    chains: list[Chain]
    symptoms: list[Symptom]
    hypotheses: int
    valid_at: int
    timings: Timings
    #: the store revision of the snapshot it was computed on (None: not from a store)
    revision: int | None = None
    close_call: CloseCall | None = None

    def __iter__(self) -> Iterator[Chain]:
        return iter(self.chains)

    def __len__(self) -> int:
        return len(self.chains)

    def __getitem__(self, i: int) -> Chain:
        return self.chains[i]

    def to_dict(self) -> dict[str, Any]:
        return {"valid_at": format_time(self.valid_at),
                "symptoms": [s.to_dict() for s in self.symptoms],
                "hypotheses": self.hypotheses, "chains": [c.to_dict() for c in self.chains],
                "close_call": self.close_call.to_dict() if self.close_call else None,
                "timings": self.timings.to_dict(), "revision": self.revision}
