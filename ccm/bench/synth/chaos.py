"""The chaos fault mix: faults with no change record, prompt changes, and changes that
bite late (``ccm bench generate --mix chaos``).

Real incidents are not all caused by a change. Chaos engineering injects faults that no
change record explains (a pod killed, a crash loop, network delay, loss or a partition,
CPU or memory stress, a full disk, DNS failures), and postmortems find infrastructure
faults as often as bad deploys; meanwhile routine deploys and config or flag changes
keep landing on the same and neighbouring components. The opposite trap is a change
whose failure begins hours or days later: a timeout or limit that bites at the next
traffic peak, a certificate or key that expires, a migration that locks under load.

Each case draws its cause from :data:`CAUSE_MIX`:

- ``no_change_fault`` (45 %): a fault of :data:`CHAOS_FAULTS` on a component of a kind
  it can hit, with Poisson(1.5) routine changes (:data:`ROUTINE_MIX`) in the six hours
  before its onset on the faulty component or its neighbours (callers and callees);
- ``prompt_change`` (40 %): a faulty change drawn as in the default mix, failing 1 to 20
  minutes after it;
- ``late_change`` (15 %): a change of :data:`LATE_CHANGES` failing 2 hours to 3 days
  after it (log-uniform), with what a real one leaves: a timeout or limit key it set, a
  certificate whose ``notAfter`` is the onset, a migration; and Poisson(1) routine
  changes on neighbours in the hours before the onset, nearer to it than the culprit.

The cascade, the alert model and the background noise are the default mix's
(:mod:`ccm.bench.synth.scenario`), except that traffic drops travel downstream twice as
often (a failing caller's quiet callees alert with probability 0.3), so onsets are seen
in both directions. Everything off the cascade's path stays quiet but for that noise.
"""

from __future__ import annotations

import math
import random

from ccm.bench.synth.faults import HOUR, MINUTE, Change, Fault, draw_change, version
from ccm.bench.synth.incident import Ids
from ccm.bench.synth.noise import poisson
from ccm.bench.synth.world import World
from graph_schema import format_time

__all__ = ["CAUSE_MIX", "CHAOS_FAULTS", "LATE_CHANGES", "ROUTINE_MIX", "choose_chaos_fault",
           "routine_changes"]

#: cause -> share of the cases
CAUSE_MIX: dict[str, float] = {"no_change_fault": 0.45, "prompt_change": 0.40,
                               "late_change": 0.15}
#: fault -> (component kinds it can hit, [(signal at the faulty node, weight)])
CHAOS_FAULTS: dict[str, tuple[tuple[str, ...], tuple[tuple[str, float], ...]]] = {
    "pod_kill": (("service", "gateway"), (("down", 0.5), ("errors", 0.5))),
    "crash_loop": (("service",), (("crash", 0.6), ("down", 0.4))),
    "network_delay": (("service", "datastore", "cache", "queue"), (("latency", 1.0),)),
    "network_loss": (("service", "datastore", "cache", "queue"),
                     (("errors", 0.6), ("latency", 0.4))),
    "network_partition": (("service", "datastore", "cache", "queue"),
                          (("down", 0.6), ("errors", 0.4))),
    "cpu_stress": (("service", "datastore"), (("saturation", 0.5), ("latency", 0.5))),
    "memory_stress": (("service", "cache", "datastore"),
                      (("saturation", 0.4), ("crash", 0.3), ("latency", 0.3))),
    "disk_full": (("datastore", "queue"), (("errors", 0.5), ("down", 0.3),
                                           ("saturation", 0.2))),
    "dns_failure": (("service", "gateway"), (("errors", 1.0),)),
}
#: what routine work looks like: deploys, config and flag changes
ROUTINE_MIX: dict[str, float] = {"deploy": 0.5, "config_change": 0.25, "feature_flag": 0.25}
#: change kinds that bite late, and their weights
LATE_CHANGES: dict[str, float] = {"config_change": 0.45, "cert_or_dns": 0.25,
                                  "schema_migration": 0.3}
#: the limit and timeout keys a late-biting config change sets
_LIMIT_KEYS = (("DB_POOL_MAX", "50", "10"), ("UPSTREAM_TIMEOUT_MS", "2000", "200"),
               ("MAX_CONNECTIONS", "500", "64"), ("RATE_LIMIT_RPS", "1000", "150"),
               ("CACHE_TTL_S", "300", "3"))
_LATE_SIGNALS = {"config_change": (("latency", 0.5), ("errors", 0.5)),
                 "cert_or_dns": (("errors", 0.7), ("down", 0.3)),
                 "schema_migration": (("latency", 0.6), ("errors", 0.4))}


def _weighted(rng: random.Random, items: dict[str, float] | tuple[tuple[str, float], ...]
              ) -> str:
    pairs = list(items.items()) if isinstance(items, dict) else list(items)
    return rng.choices([n for n, _ in pairs], weights=[w for _, w in pairs])[0]


def neighbours(world: World, name: str) -> list[str]:
    """The components that call ``name`` or that it calls, sorted."""
    return sorted(set(world.topo.callers(name)) | set(world.topo.callees(name)))


def _spontaneous(rng: random.Random, world: World, at: int) -> Fault | None:
    fault = _weighted(rng, {k: 1.0 for k in CHAOS_FAULTS})
    kinds, signals = CHAOS_FAULTS[fault]
    pool = [n for n in world.components(*kinds) if world.topo.callers(n)
            or world.node_attrs[n].get("entrypoint")]
    if not pool:
        return None
    node = rng.choice(pool)
    return Fault(None, node, _weighted(rng, signals), at, False, cause="no_change_fault",
                 fault=fault)


def _late_change(rng: random.Random, world: World, change_id: str, at: int) -> Fault:
    kind = _weighted(rng, LATE_CHANGES)
    change = draw_change(rng, world, change_id, at, mix={kind: 1.0})
    delay = int(2 * HOUR * math.exp(rng.random() * math.log(36)))  # 2 h .. 3 days
    onset = at + delay
    target = change.target.split(":", 1)[1]
    if change.kind == "config_change":
        key, old, new = rng.choice(_LIMIT_KEYS)
        change.keys = [(key, old, new)]
    elif change.kind == "cert_or_dns":
        change.keys = [("TLS_CERT", f"CN={target},notAfter=2027-06-01T00:00:00Z",
                        f"CN={target},notAfter={format_time(onset - onset % 1_000_000)}")]
        change.version = ""
    signals = _LATE_SIGNALS.get(change.kind, _LATE_SIGNALS["config_change"])
    return Fault(change, target, _weighted(rng, signals), onset, True,
                 cause="late_change", fault=change.kind)


def choose_chaos_fault(rng: random.Random, world: World, ids: Ids, at: int) -> Fault:
    """The cause of one case of the chaos mix (see the module docstring), at ``at``."""
    cause = _weighted(rng, CAUSE_MIX)
    if cause == "no_change_fault":
        fault = _spontaneous(rng, world, at)
        if fault is not None:
            return fault
        cause = "prompt_change"
    change_id = ids.new("chg")
    if cause == "late_change":
        return _late_change(rng, world, change_id, at)
    change = draw_change(rng, world, change_id, at)
    onset = at + int(MINUTE * rng.uniform(1, 20))
    signal = _weighted(rng, (("errors", 0.5), ("latency", 0.3), ("crash", 0.2)))
    return Fault(change, change.target.split(":", 1)[1], signal, onset, False,
                 cause="prompt_change", fault=change.kind)


def routine_changes(rng: random.Random, world: World, ids: Ids, fault: Fault) -> list[Change]:
    """Innocent changes near the fault in place and time: on the faulty component and its
    neighbours in the six hours before a fault with no change record; on neighbours
    between a late-biting change and its onset. None for a prompt change (the default
    deploy train already lands around it)."""
    if fault.cause == "prompt_change":
        return []
    near = [fault.node] + neighbours(world, fault.node)
    if fault.cause == "late_change":
        near = near[1:] or near
        start = max(fault.onset - 6 * HOUR, (fault.change.time if fault.change else 0) + MINUTE)
        n = poisson(rng, 1.0)
    else:
        start = fault.onset - 6 * HOUR
        n = poisson(rng, 1.5)
    out = []
    for _ in range(n):
        t = start + int((fault.onset - 5 * MINUTE - start) * rng.random())
        c = draw_change(rng, world, ids.new("chg"), t, mix=ROUTINE_MIX, among=near)
        if c.kind == "deploy" and not c.version:
            c.version = version(rng)
        out.append(c)
    return out
