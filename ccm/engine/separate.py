"""What would settle a close call: the observation the top two hypotheses disagree on.

When the best root is less than :attr:`Params.close_ratio` times as probable as the
second, the answer says so and names the node whose state the two predict most
differently: failing (errors, latency, down) or losing traffic, with the probability
under each and since when the one that predicts it says it would be. Nodes already
alerting in that direction are settled and skipped; a quiet monitored node counts (its
alert may not have fired yet, and a dashboard settles it at once), and so does an
unmonitored one. Each hypothesis's per-node probabilities come from the same
propagation as its chain (:func:`ccm.engine.chains.impact_of`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ccm.engine.chains import impact_of
from ccm.engine.kernels import ALERT_TD, ALERT_UP, NO_TIME
from ccm.engine.params import Params
from ccm.engine.snapshot import Snapshot
from ccm.engine.types import Chain, CloseCall, Observation, Symptom

#: a difference in predicted probability below this separates nothing worth checking
MIN_SEPARATION = 0.1


def _since(hyp: Any, h: int, chain: Chain, onsets: dict[str, int]) -> int | None:
    """When H says its failure began: the change's (or expiry's) time, else the onset
    of the earliest symptom it explains."""
    t = int(hyp.time[h])
    if t != NO_TIME:
        return t
    times = [onsets[r] for r in chain.explained if r in onsets]
    return min(times) if times else None


def separating_observation(snapshot: Snapshot, obs: Any, hyp: Any, h1: int, h2: int,
                           params: Params) -> Observation | None:
    """The node state hypotheses ``h1`` and ``h2`` predict most differently (its
    ``since`` left None); None when no component differs by :data:`MIN_SEPARATION`."""
    s = snapshot
    maps = []
    for h in (h1, h2):
        seeds = hyp.seeds[hyp.ptr[h]:hyp.ptr[h + 1]]
        maps.append(impact_of(s, seeds, params))
    best: tuple[float, int, str] | None = None
    for j, (signal, bit) in enumerate((("failure", ALERT_UP), ("traffic_drop", ALERT_TD))):
        a, b = maps[0][j], maps[1][j]
        open_ = s.component & ((obs.flags & bit) == 0)
        diff = np.where(open_, np.abs(a - b), 0.0)
        v = int(np.argmax(diff)) if len(diff) else 0
        if len(diff) and (best is None or diff[v] > best[0]):
            best = (float(diff[v]), v, signal)
    if best is None or best[0] < MIN_SEPARATION:
        return None
    _, v, signal = best
    j = 0 if signal == "failure" else 1
    return Observation(s.refs[v], signal, float(maps[0][j][v]), float(maps[1][j][v]), None)


def close_call(snapshot: Snapshot, obs: Any, hyp: Any, ranked: np.ndarray,
               chains: list[Chain], symptoms: list[Symptom], params: Params
               ) -> CloseCall | None:
    """A :class:`CloseCall` when the top two chains' posteriors are within
    ``params.close_ratio`` of each other, else None."""
    if len(chains) < 2 or chains[1].score <= 0:
        return None
    ratio = chains[0].score / chains[1].score
    if ratio >= params.close_ratio:
        return None
    h1, h2 = int(ranked[0]), int(ranked[1])
    found = separating_observation(snapshot, obs, hyp, h1, h2, params)
    first, second = chains[0], chains[1]
    if found is None:
        note = (f"{first.root} and {second.root} predict the same state of every "
                "component: only their own records separate them (the change's rollout "
                "or rollback against the onset, the component's own logs)")
        return CloseCall(first.root, second.root, float(ratio), None, note)
    onsets: dict[str, int] = {}
    for sym in symptoms:
        onsets[sym.ref] = min(onsets.get(sym.ref, sym.time), sym.time)
    failing = (h1, first) if found.first >= found.second else (h2, second)
    since = _since(hyp, failing[0], failing[1], onsets)
    found = Observation(found.node, found.signal, found.first, found.second, since)
    what = "failing" if found.signal == "failure" else "losing traffic"
    note = (f"check whether {found.node} is {what}: {first.root} says so with probability "
            f"{found.first:.2f}, {second.root} with {found.second:.2f}")
    return CloseCall(first.root, second.root, float(ratio), found, note)
