"""What else happens around a synthetic incident: other changes and unrelated alerts.

Changes (none of them faulty), each drawn like the faulty one
(:func:`~ccm.bench.synth.faults.draw_change`: the same mix of kinds, targets and
content, so only time, place and the alerts tell the faulty change apart):

- background work: changes arrive at a rate drawn once per case between 0.1 and 0.5
  a day per component (between one change every ten days and one every two days:
  weekly-to-daily delivery), during working hours (08-19 UTC), over the window
  before the question and the day after it;
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

from ccm.bench.synth.faults import HOUR, MINUTE, draw_change
from ccm.bench.synth.incident import AlertSpec, Ids, Scenario

__all__ = ["DAY", "add_changes", "add_noise_alerts", "poisson"]

DAY = 24 * HOUR
_REACTION_MIX = {"capacity": 0.6, "feature_flag": 0.4}


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


def add_changes(rng: random.Random, s: Scenario, ids: Ids, first_alert: int,
                window_days: int) -> None:
    """Append the background, deploy-train and reaction changes to ``s.changes``."""
    w = s.world
    rate = rng.uniform(0.1, 0.5)
    start, end = s.question_time - window_days * DAY, s.question_time + DAY
    for _ in range(poisson(rng, rate * len(w.components()) * (end - start) / DAY)):
        t = _working_hours(rng, start, end)
        s.changes.append(draw_change(rng, w, ids.new("chg"), t))
    failed = s.failed
    for _ in range(poisson(rng, 1.0)):
        t = first_alert - int(HOUR * rng.random())
        among = failed if failed and rng.random() < 0.25 else None
        s.changes.append(draw_change(rng, w, ids.new("chg"), t, among=among))
    if failed and s.question_time > first_alert and rng.random() < 0.3:
        t = first_alert + int((s.question_time - first_alert) * rng.random())
        s.changes.append(draw_change(rng, w, ids.new("chg"), t, mix=_REACTION_MIX,
                                     among=failed))


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
