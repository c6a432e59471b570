"""The injected fault and how it spreads: the generator's own stochastic model.

This is deliberately separate code from the causal engine (it imports nothing of
``ccm.engine``) and uses its own numbers. A faulty change breaks one component
(its *fault node*) after an onset delay: minutes, or for a quarter of some kinds
hours to days. The failure then spreads as a continuous-time independent cascade:
over each call ``caller -> callee`` whose callee failed, the caller fails with a
probability set by the call (hard/soft, fallback, async, cached) after an
exponential hop delay; the first arrival wins, which fixes the propagation path.
Signals change on the way (errors become errors or latency; latency becomes
errors behind a short timeout). The user-visible symptom is the first entrypoint
to fail; a fault that reaches no entrypoint is drawn again.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Iterable
from dataclasses import dataclass, field

from ccm.bench.synth.world import RISKY_KEY_WORDS, World

__all__ = ["CHANGE_MIX", "Cascade", "Change", "Fault", "choose_fault", "draw_change",
           "new_value", "spread"]

MINUTE = 60 * 1_000_000
HOUR = 60 * MINUTE

#: change kind -> share of changes of that kind; faulty changes are drawn from the same
#: mix as the others, so a change's kind says nothing about whether it is the faulty one
CHANGE_MIX: dict[str, float] = {
    "deploy": 0.25, "config_change": 0.18, "feature_flag": 0.1, "schema_migration": 0.1,
    "infra_change": 0.15, "dependency_upgrade": 0.1, "capacity": 0.12}
#: fault kind -> [(signal at the fault node, weight)]
_MODES: dict[str, tuple[tuple[str, float], ...]] = {
    "deploy": (("errors", 0.6), ("crash", 0.2), ("latency", 0.2)),
    "config_change": (("errors", 0.5), ("latency", 0.3), ("down", 0.2)),
    "feature_flag": (("errors", 0.7), ("latency", 0.3)),
    "schema_migration": (("errors", 0.6), ("latency", 0.4)),
    "infra_change": (("down", 0.4), ("latency", 0.4), ("errors", 0.2)),
    "dependency_upgrade": (("errors", 0.5), ("crash", 0.3), ("latency", 0.2)),
    "capacity": (("saturation", 0.5), ("latency", 0.5)),
}
#: fault kind -> probability that the onset is delayed by hours to days
_FLAG_WORDS = ("new", "fast", "async", "v2", "exp", "beta")
_P_DELAYED = {"deploy": 0.15, "config_change": 0.2, "feature_flag": 0.1,
              "schema_migration": 0.3, "infra_change": 0.25, "dependency_upgrade": 0.3,
              "capacity": 0.4}


@dataclass
class Change:
    """A change as the case files record it."""

    id: str
    time: int
    kind: str
    target: str                 # reference
    keys: list[tuple[str, str, str]] = field(default_factory=list)  # (key, old, new)
    version: str = ""
    flag: str = ""
    description: str = ""


@dataclass
class Fault:
    """The culprit change (None: a fault no change explains), the node it breaks, how,
    and when the failure starts."""

    change: Change | None
    node: str                   # name of the fault node
    signal: str
    onset: int
    delayed: bool
    #: the cause's category in the chaos mix (``no_change_fault``, ``prompt_change``,
    #: ``late_change``); empty in the default mix
    cause: str = ""
    #: what failed: the chaos fault (``pod_kill``...) or the change's kind
    fault: str = ""


@dataclass
class Cascade:
    """Who failed, when, with which signal, and from whom (``parent``)."""

    time: dict[str, int] = field(default_factory=dict)
    signal: dict[str, str] = field(default_factory=dict)
    parent: dict[str, str | None] = field(default_factory=dict)

    def path_to(self, name: str) -> list[str]:
        out = [name]
        while (p := self.parent[out[-1]]) is not None:
            out.append(p)
        return out[::-1]


def _weighted(rng: random.Random, items: tuple[tuple[str, float], ...] | list[tuple[str, float]]
              ) -> str:
    names = [n for n, _ in items]
    return rng.choices(names, weights=[w for _, w in items])[0]


def version(rng: random.Random) -> str:
    return f"{rng.randint(1, 4)}.{rng.randint(0, 30)}.{rng.randint(0, 20)}"


def _pool(world: World, kind: str) -> list[str]:
    """Components a change of ``kind`` can be made to (its target)."""
    topo = world.topo
    services = [s for s in world.components("service", "gateway") if topo.callers(s)
                or world.node_attrs[s].get("entrypoint")]
    stores = [n for n in world.components("datastore") if topo.callers(n)]
    if kind == "infra_change":
        return [n for n in world.components("datastore", "cache", "queue") if topo.callers(n)]
    if kind == "schema_migration":  # run by the owner (first caller) of a datastore
        return sorted({sorted(topo.callers(n))[0] for n in stores})
    if kind == "capacity":
        return services + stores
    if kind == "config_change":
        return [s for s in services if world.configs.get(s)]
    return services


def new_value(rng: random.Random, old: str) -> str:
    """A new value for a configuration key (the same draw for every config change)."""
    if old.isdigit():
        if rng.random() < 0.6:
            return str(max(1, int(old) // rng.choice((2, 5, 10))))
        return str(int(old) * rng.choice((2, 3, 10)))
    if ":" in old:
        return old + rng.choice((",syncTimeout=50", ",ssl=true", "?connect_timeout=1",
                                 ",pool=4", "-v2"))
    return rng.choice(("debug", "true", "off", "warn")) if old != "true" else "false"


def _config_diff(rng: random.Random, world: World, service: str) -> list[tuple[str, str, str]]:
    keys = world.configs[service]
    weights = [2.0 if any(w in k for w in RISKY_KEY_WORDS) else 1.0 for k, _ in keys]
    key, old = rng.choices(keys, weights=weights)[0]
    return [(key, old, new_value(rng, old))]


def draw_change(rng: random.Random, world: World, change_id: str, at: int, *,
                mix: dict[str, float] | None = None, among: Iterable[str] | None = None
                ) -> Change:
    """A change made at ``at``: its kind from ``mix`` (default :data:`CHANGE_MIX`), a target
    that kind can have (restricted to ``among`` when possible), and its content. Faulty
    changes and the others are drawn alike, so nothing in a change says it is faulty."""
    weights = list((mix or CHANGE_MIX).items())
    allowed = None if among is None else set(among)
    for _ in range(50):
        kind = _weighted(rng, weights)
        pool = _pool(world, kind)
        if allowed is not None and set(pool) & allowed:
            pool = sorted(set(pool) & allowed)
        if pool:
            break
    else:
        kind, pool = "deploy", _pool(world, "deploy")
    target = rng.choice(pool)
    change = Change(change_id, at, kind, world.topo.ref(target), version=version(rng))
    if kind == "config_change":
        change.keys, change.version = _config_diff(rng, world, target), ""
    elif kind == "feature_flag":
        change.flag, change.version = f"{rng.choice(_FLAG_WORDS)}_{rng.randrange(100, 999)}", ""
    return change


def choose_fault(rng: random.Random, world: World, change_id: str, at: int) -> Fault:
    """Draw the faulty change (made at ``at``) and the failure it causes at its target."""
    change = draw_change(rng, world, change_id, at)
    delayed = rng.random() < _P_DELAYED[change.kind]
    delay = (int(HOUR * 2 * (36 ** rng.random())) if delayed
             else int(MINUTE * rng.uniform(1, 20)))
    signal = _weighted(rng, _MODES[change.kind])
    return Fault(change, change.target.split(":", 1)[1], signal, at + delay, delayed)


def _p_spread(attrs: dict[str, object]) -> float:
    p = 0.8 if attrs.get("hard", True) else 0.3
    if attrs.get("fallback"):
        p *= 0.3
    if attrs.get("async"):
        p *= 0.15
    if attrs.get("cached"):
        p *= 0.5
    return p


def _next_signal(rng: random.Random, signal: str, attrs: dict[str, object]) -> str:
    timeout = attrs.get("timeout_ms")
    short = isinstance(timeout, float) and timeout <= 250
    if signal in ("errors", "down", "crash"):
        return "errors" if rng.random() < 0.85 else "latency"
    if signal in ("latency", "saturation"):
        return "errors" if short or rng.random() < 0.3 else "latency"
    return "errors"


def spread(rng: random.Random, world: World, fault: Fault) -> Cascade:
    """Run the cascade from the fault node (see the module docstring)."""
    c = Cascade()
    heap: list[tuple[int, str, str, str | None]] = [(fault.onset, fault.node, fault.signal, None)]
    while heap:
        t, node, signal, parent = heapq.heappop(heap)
        if node in c.time:
            continue
        c.time[node], c.signal[node], c.parent[node] = t, signal, parent
        for caller in sorted(set(world.topo.callers(node))):
            if caller in c.time:
                continue
            attrs = world.edge_attrs[(caller, node)]
            if rng.random() < _p_spread(attrs):
                hop = int(max(10e6, rng.expovariate(1 / (2 * MINUTE))))
                heapq.heappush(heap, (t + hop, caller, _next_signal(rng, signal, attrs), node))
    return c
