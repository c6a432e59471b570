"""One synthetic incident: the fault, its cascade, the alerts it raises, the question.

Observation model (the generator's own, fixed for every case):

- every failed, monitored component alerts with probability 0.8 (0.75 for the fault
  node itself) after a detection delay of 1 to 10 minutes; the user-visible
  symptom (the first entrypoint to fail) always alerts;
- a failing caller's callees that did not fail see their traffic drop: each
  raises a ``traffic_drop`` alert with probability 0.15;
- the question is asked 2 to 12 minutes after the symptom's alert, so some
  alerts of the incident itself come after it.

Other changes and unrelated alerts come from :mod:`ccm.bench.synth.noise`.
"""

from __future__ import annotations

import random

from ccm.bench.synth.chaos import choose_chaos_fault, routine_changes
from ccm.bench.synth.faults import MINUTE, choose_fault, spread
from ccm.bench.synth.incident import AlertSpec, Ids, Scenario
from ccm.bench.synth.noise import add_changes, add_noise_alerts
from ccm.bench.synth.world import World

__all__ = ["WINDOW_DAYS", "make_scenario"]

WINDOW_DAYS = 7


def _detect(rng: random.Random) -> int:
    return int(MINUTE * min(10.0, 1.0 + rng.expovariate(1 / 2.5)))


def _incident_alerts(rng: random.Random, s: Scenario, ids: Ids, p_drop: float = 0.15) -> None:
    w, c = s.world, s.cascade
    for name in sorted(c.time, key=lambda n: (c.time[n], n)):
        if not w.monitored(name) or w.is_client(name):
            continue
        p = 1.0 if name == s.symptom else (0.75 if name == s.fault.node else 0.8)
        if rng.random() < p:
            s.alerts.append(AlertSpec(ids.new("al"), c.time[name] + _detect(rng),
                                      w.topo.ref(name), c.signal[name], "critical"))
        if c.signal[name] in ("errors", "down", "crash"):
            for callee in sorted(set(w.topo.callees(name))):
                if callee not in c.time and w.monitored(callee) and rng.random() < p_drop:
                    t = c.time[name] + int(MINUTE * rng.uniform(5, 15))
                    s.alerts.append(AlertSpec(ids.new("al"), t, w.topo.ref(callee),
                                              "traffic_drop", "warning"))


def make_scenario(rng: random.Random, world: World, base: int, mix: str = "changes"
                  ) -> Scenario | None:
    """One incident in ``world`` whose cause happens at ``base``; None when the fault
    reaches no entrypoint (the caller draws again). ``mix``: ``changes`` (every cause a
    change, the default) or ``chaos`` (:mod:`ccm.bench.synth.chaos`)."""
    ids = Ids(rng)
    if mix == "chaos":
        fault = choose_chaos_fault(rng, world, ids, base)
    else:
        fault = choose_fault(rng, world, ids.new("chg"), base)
    cascade = spread(rng, world, fault)
    entries = [n for n in cascade.time if world.node_attrs[n].get("entrypoint")]
    if not entries:
        return None
    symptom = min(entries, key=lambda n: (cascade.time[n], n))
    changes = [fault.change] if fault.change is not None else []
    if mix == "chaos":
        changes += routine_changes(rng, world, ids, fault)
    s = Scenario(world, fault, cascade, symptom, changes=changes)
    _incident_alerts(rng, s, ids, 0.3 if mix == "chaos" else 0.15)
    symptom_ref = world.topo.ref(symptom)
    s.question_time = (max(a.time for a in s.alerts if a.node == symptom_ref)
                       + int(MINUTE * rng.uniform(2, 12)))
    first_alert = min(a.time for a in s.alerts)
    add_noise_alerts(rng, s, ids)
    add_changes(rng, s, ids, first_alert, WINDOW_DAYS)
    s.changes.sort(key=lambda c: (c.time, c.id))
    s.alerts.sort(key=lambda a: (a.time, a.id))
    return s
