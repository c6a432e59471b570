"""What else happens around a synthetic incident: other changes and unrelated alerts.

Changes (none of them faulty):

- background work: each component changes at a rate drawn once per case between
  0.1 and 0.5 changes a day for services and gateways (between one change every
  ten days and one every two days: weekly-to-daily delivery) and a third of that
  for datastores, caches and queues, during working hours (08-19 UTC), over the
  window before the question and the day after it;
- a deploy train: Poisson(1) changes in the hour before the first alert (some of
  them after the faulty change); a quarter of them on components that fail in
  the incident;
- a reaction: with probability 0.3, an operator changes a failing component between
  the first alert and the question (a scale-up, or a flag switched).

Alerts: spurious alerts on components that did not fail (Poisson, mean 0.4, within
45 minutes of the onset), an alert that fired and resolved hours earlier
(probability 0.25) and an unrelated alert after the question time (probability 0.3).
"""

from __future__ import annotations

import math
import random

from ccm.bench.synth.faults import HOUR, MINUTE, Change, version
from ccm.bench.synth.incident import AlertSpec, Ids, Scenario

__all__ = ["DAY", "add_changes", "add_noise_alerts", "poisson"]

DAY = 24 * HOUR
_SERVICE_KINDS = (("deploy", 0.6), ("config_change", 0.2), ("feature_flag", 0.15),
                  ("dependency_upgrade", 0.05))
_STORE_KINDS = (("infra_change", 0.6), ("capacity", 0.4))
_REACTION_KINDS = (("capacity", 0.6), ("feature_flag", 0.4))


def poisson(rng: random.Random, mean: float) -> int:
    k, p, limit = 0, 1.0, math.exp(-mean)
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _working_hours(rng: random.Random, start: int, end: int) -> int:
    """A random instant of a random day in [start, end), between 08:00 and 19:00 UTC."""
    t = start + int((end - start) * rng.random())
    return t - t % DAY + 8 * HOUR + int(11 * HOUR * rng.random())


def _kinds_of(s: Scenario, name: str) -> tuple[tuple[str, float], ...]:
    store_like = s.world.topo.kinds[name] in ("datastore", "cache", "queue")
    return _STORE_KINDS if store_like else _SERVICE_KINDS


def _change(rng: random.Random, s: Scenario, ids: Ids, t: int, name: str,
            kinds: tuple[tuple[str, float], ...]) -> Change:
    w = s.world
    kind = rng.choices([k for k, _ in kinds], [p for _, p in kinds])[0]
    if kind == "config_change" and not w.configs.get(name):
        kind = "deploy"
    ch = Change(ids.new("chg"), t, kind, w.topo.ref(name), version=version(rng))
    if kind == "config_change":
        key, old = rng.choice(w.configs[name])
        new = str(int(old) + rng.choice((1, 2, 4))) if old.isdigit() else old + "-b"
        ch.keys, ch.version = [(key, old, new)], ""
    elif kind == "feature_flag":
        ch.flag, ch.version = f"exp_{rng.randrange(100, 999)}", ""
    return ch


def add_changes(rng: random.Random, s: Scenario, ids: Ids, first_alert: int,
                window_days: int) -> None:
    """Append the background, deploy-train and reaction changes to ``s.changes``."""
    components = s.world.components()
    rate = rng.uniform(0.1, 0.5)
    start, end = s.question_time - window_days * DAY, s.question_time + DAY
    for name in components:
        kinds = _kinds_of(s, name)
        mean = rate * (end - start) / DAY * (1 / 3 if kinds is _STORE_KINDS else 1.0)
        for _ in range(poisson(rng, mean)):
            s.changes.append(_change(rng, s, ids, _working_hours(rng, start, end), name, kinds))
    failed = s.failed
    for _ in range(poisson(rng, 1.0)):
        name = rng.choice(failed if failed and rng.random() < 0.25 else components)
        t = first_alert - int(HOUR * rng.random())
        s.changes.append(_change(rng, s, ids, t, name, _kinds_of(s, name)))
    if failed and s.question_time > first_alert and rng.random() < 0.3:
        t = first_alert + int((s.question_time - first_alert) * rng.random())
        s.changes.append(_change(rng, s, ids, t, rng.choice(failed), _REACTION_KINDS))


def add_noise_alerts(rng: random.Random, s: Scenario, ids: Ids) -> None:
    """Append spurious, earlier-resolved and after-the-question alerts to ``s.alerts``."""
    w = s.world
    quiet = [n for n in w.components() if n not in s.cascade.time and w.monitored(n)]
    if not quiet:
        return
    ref = w.topo.ref
    for _ in range(poisson(rng, 0.4)):
        t = s.fault.onset + int(MINUTE * rng.uniform(-45, 45))
        s.alerts.append(AlertSpec(ids.new("al"), t, ref(rng.choice(quiet)),
                                  rng.choice(("errors", "latency", "saturation")), "warning"))
    if rng.random() < 0.25:
        t = s.question_time - int(HOUR * rng.uniform(1, 30))
        s.alerts.append(AlertSpec(ids.new("al"), t, ref(rng.choice(quiet)), "latency",
                                  "warning", ends_at=t + int(MINUTE * rng.uniform(10, 60))))
    if rng.random() < 0.3:
        t = s.question_time + int(MINUTE * rng.uniform(1, 60))
        s.alerts.append(AlertSpec(ids.new("al"), t, ref(rng.choice(quiet)),
                                  rng.choice(("errors", "latency")), "warning"))
