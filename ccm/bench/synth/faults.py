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
from dataclasses import dataclass, field

from ccm.bench.synth.world import RISKY_KEY_WORDS, World

__all__ = ["Cascade", "Change", "FAULT_KINDS", "Fault", "choose_fault", "spread"]

MINUTE = 60 * 1_000_000
HOUR = 60 * MINUTE

#: fault kind -> weight among injected faults
FAULT_KINDS: dict[str, float] = {
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
    """The culprit change, the node it breaks, how, and when the failure starts."""

    change: Change
    node: str                   # name of the fault node
    signal: str
    onset: int
    delayed: bool


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


def _target(rng: random.Random, world: World, kind: str) -> tuple[str, str] | None:
    """(change target name, fault node name) for a fault of ``kind``."""
    topo = world.topo
    services = [s for s in world.components("service", "gateway") if topo.callers(s)
                or world.node_attrs[s].get("entrypoint")]
    if kind == "infra_change":
        pool = [n for n in world.components("datastore", "cache", "queue") if topo.callers(n)]
        return (n := rng.choice(pool), n) if pool else None
    if kind == "schema_migration":
        stores = [n for n in world.components("datastore") if topo.callers(n)]
        if not stores:
            return None
        owner = sorted(topo.callers(rng.choice(stores)))[0]
        return owner, owner
    if kind == "capacity":
        pool = services + [n for n in world.components("datastore") if topo.callers(n)]
        return (n := rng.choice(pool), n)
    if kind == "config_change":
        pool = [s for s in services if world.configs.get(s)]
        return (n := rng.choice(pool), n) if pool else None
    return (n := rng.choice(services), n)


def _config_diff(rng: random.Random, world: World, service: str) -> list[tuple[str, str, str]]:
    keys = world.configs[service]
    weights = [2.0 if any(w in k for w in RISKY_KEY_WORDS) else 1.0 for k, _ in keys]
    key, old = rng.choices(keys, weights=weights)[0]
    if old.isdigit():
        new = str(max(1, int(old) // rng.choice((2, 5, 10)))) if rng.random() < 0.7 \
            else str(int(old) * rng.choice((3, 10)))
    elif ":" in old:
        new = old + rng.choice((",syncTimeout=50", ",ssl=true", "?connect_timeout=1"))
    else:
        new = rng.choice(("debug", "true", "off")) if old != "true" else "false"
    return [(key, old, new)]


def choose_fault(rng: random.Random, world: World, change_id: str, at: int) -> Fault:
    """Draw the faulty change (made at ``at``) and the failure it causes."""
    while True:
        kind = _weighted(rng, list(FAULT_KINDS.items()))
        picked = _target(rng, world, kind)
        if picked is not None:
            break
    target, node = picked
    change = Change(change_id, at, kind, world.topo.ref(target), version=version(rng))
    if kind == "config_change":
        change.keys = _config_diff(rng, world, target)
        change.version = ""
    elif kind == "feature_flag":
        change.flag = f"{rng.choice(('new', 'fast', 'async', 'v2'))}_{rng.choice(('checkout', 'search', 'render', 'pricing', 'auth'))}"
        change.version = ""
    delayed = rng.random() < _P_DELAYED[kind]
    delay = (int(HOUR * 2 * (36 ** rng.random())) if delayed
             else int(MINUTE * rng.uniform(1, 20)))
    signal = _weighted(rng, _MODES[kind])
    return Fault(change, node, signal, at + delay, delayed)


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
