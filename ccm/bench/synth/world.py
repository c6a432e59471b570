"""The production world of one synthetic case: a real topology with sampled attributes.

The graph (components and calls) is the application's, unchanged. What varies per
case is what real operators know about it and that the files record: each call's
hard/soft nature, fallback, async, caching, timeout, retries and rate; the
entrypoints' request rates; which components have alerts (``monitored``); and a
few configuration keys per service. All draws come from the case's own
``random.Random``; every collection is iterated in sorted order, so a seed gives
the same world byte for byte.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from ccm.bench.synth.topology import CLIENTS, Topology

__all__ = ["RISKY_KEY_WORDS", "World", "sample_world"]

_TIMEOUTS = (100, 250, 500, 1000, 2000, 5000)
_RETRIES = (0, 0, 1, 1, 2, 3)
#: generic configuration keys a service may read, with a plausible value
_GENERIC_KEYS = (("LOG_LEVEL", "info"), ("WORKER_THREADS", "16"), ("MAX_CONNECTIONS", "200"),
                 ("CACHE_TTL_S", "300"), ("RETRY_ATTEMPTS", "2"), ("REQUEST_TIMEOUT_MS", "1000"),
                 ("FEATURE_NEW_UI", "false"), ("RATE_LIMIT_RPS", "500"))
#: words of key names that the generator's own fault model treats as riskier to change
RISKY_KEY_WORDS = ("TIMEOUT", "MAX", "POOL", "LIMIT", "ADDR", "THREADS", "RETRY", "TTL")


@dataclass
class World:
    """A topology plus the attributes sampled for one case."""

    topo: Topology
    node_attrs: dict[str, dict[str, Any]] = field(default_factory=dict)
    edge_attrs: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    #: service name -> [(key, value)]
    configs: dict[str, list[tuple[str, str]]] = field(default_factory=dict)

    def monitored(self, name: str) -> bool:
        return bool(self.node_attrs[name].get("monitored", True))

    def is_client(self, name: str) -> bool:
        return name in CLIENTS

    def components(self, *kinds: str) -> list[str]:
        return sorted(n for n, k in self.topo.kinds.items()
                      if (not kinds or k in kinds) and n not in CLIENTS)


def _edge_attrs(rng: random.Random, callee_kind: str, protocol: str) -> dict[str, Any]:
    store_like = callee_kind in ("datastore", "cache", "queue")
    is_async = callee_kind == "queue" or protocol == "amqp"
    hard_p = {"datastore": 0.9, "cache": 0.6, "queue": 0.7}.get(callee_kind, 0.7)
    attrs: dict[str, Any] = {"protocol": protocol, "hard": rng.random() < hard_p}
    if is_async:
        attrs["async"] = True
    if rng.random() < (0.3 if callee_kind == "cache" else 0.12):
        attrs["fallback"] = True
    if not store_like and rng.random() < 0.1:
        attrs["cached"] = True
    attrs["calls_per_s"] = round(rng.lognormvariate(3.5, 1.0), 1)
    if rng.random() < 0.75:
        attrs["timeout_ms"] = float(rng.choice(_TIMEOUTS))
        attrs["retries"] = rng.choice(_RETRIES)
    return attrs


def _config_keys(rng: random.Random, topo: Topology, name: str) -> list[tuple[str, str]]:
    pool: list[tuple[str, str]] = []
    for callee in sorted(set(topo.callees(name))):
        env = callee.upper().replace("-", "_")
        pool.append((f"{env}_ADDR", f"{callee}:{rng.choice((6379, 8080, 27017, 5000, 80))}"))
        pool.append((f"{env}_TIMEOUT_MS", str(rng.choice(_TIMEOUTS))))
        if topo.kinds[callee] == "datastore":
            pool.append(("DB_POOL_SIZE", str(rng.choice((10, 20, 50)))))
    pool.extend(_GENERIC_KEYS)
    unique = sorted(dict(pool).items())
    return sorted(rng.sample(unique, k=min(len(unique), rng.randint(2, 4))))


def sample_world(rng: random.Random, topo: Topology) -> World:
    """Sample the attributes of ``topo`` for one case."""
    world = World(topo)
    for name in sorted(topo.kinds):
        attrs = dict(topo.attrs[name])
        if attrs.get("entrypoint"):
            attrs["rps"] = round(rng.lognormvariate(5.5, 0.8), 1)
        elif name not in CLIENTS and rng.random() < 0.1:
            attrs["monitored"] = False
        world.node_attrs[name] = attrs
    for caller, callee, attrs in topo.calls:
        sampled = _edge_attrs(rng, topo.kinds[callee], attrs.get("protocol", "http"))
        sampled["evidence"] = f"{topo.app} topology (benchmarks/topologies/{topo.app}.jsonl)"
        world.edge_attrs[(caller, callee)] = sampled
    for name in world.components("service"):
        world.configs[name] = _config_keys(rng, topo, name)
    return world
