"""Turning a ranked hypothesis into a chain: its path to a symptom, with evidence.

For one hypothesis the two propagation passes are run again (failure to
dependants, then traffic drop to callees) to see which symptoms it explains;
the chain ends at the first user-visible symptom it explains (the explained
entrypoint that alerted first), else at the explained symptom most hops from the
cause, and follows the most probable path there given what every node showed:
each link weighs with the probability that its node failed through it given its
own alert or silence, so the path runs through the dependants that alerted rather
than around them. Each link says which edge carries the failure, its attributes
and probability (the edge's), and the times involved.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ccm.engine.kernels import (
    ALERT_TD,
    ALERT_UP,
    MONITORED,
    NO_TIME,
    _max_product,
    _noisy_or_sparse,
)
from ccm.engine.params import Params
from ccm.engine.snapshot import Snapshot
from ccm.engine.types import Chain, Link, Symptom
from graph_schema import format_time

_KIND_NAMES = ("DEPENDS_ON", "HAS_CONFIG")
#: a hypothesis's ``change`` for a spontaneous failure and for an expired value
SPONTANEOUS, EXPIRY = -1, -2


def impact_of(snapshot: Snapshot, seeds: np.ndarray, params: Params
              ) -> tuple[np.ndarray, np.ndarray]:
    """(failure probability, traffic-drop probability) of every node under a hypothesis
    whose seeds fail, with the same floor as the scoring kernel."""
    s, m = snapshot, snapshot.model(params)
    up = np.zeros(s.n)
    td = np.zeros(s.n)
    nodes, val, _ = _noisy_or_sparse(s.n, s.in_ptr, s.in_idx, m.in_p, s.out_ptr, s.out_idx,
                                     m.out_p, s.comp, s.cyclic, 1, seeds, np.ones(len(seeds)),
                                     params.floor, params.tol, params.max_sweeps)
    up[nodes] = val
    nodes2, _, starve = _noisy_or_sparse(s.n, s.out_ptr, s.out_idx, m.out_ptd, s.in_ptr,
                                         s.in_idx, m.in_ptd, s.comp, s.cyclic, -1, nodes, val,
                                         params.floor, params.tol, params.max_sweeps)
    td[nodes2] = starve
    return up, td


def _given_observation(p: np.ndarray, node: np.ndarray, flags: np.ndarray, bit: int,
                       miss: float, miss_quiet: float, fa: float) -> np.ndarray:
    """Per edge, the probability that its dependant ``node`` failed through it given that
    node's own observation (the belief the scoring kernel passes on): near 1 for a node
    that alerted, low for a quiet monitored one, ``p`` for an unmonitored one."""
    f = flags[node]
    monitored, alerted = (f & MONITORED) != 0, (f & bit) != 0
    with np.errstate(invalid="ignore", divide="ignore"):
        fired = p * (1 - miss) / (p * (1 - miss) + (1 - p) * fa)
        quiet = p * miss_quiet / (p * miss_quiet + (1 - p) * (1 - fa))
    out = np.where(monitored, np.where(alerted, fired, quiet), p)
    return np.where(p > 0, out, 0.0)


@dataclass(frozen=True, eq=False)
class PathWeights:
    """``-log`` link weights for chains, both directions (failure along ``in`` edges,
    traffic drop along ``out`` edges), given every node's observation; computed once per
    question. ``alerts`` lists, per alerting node and direction, its onset and the
    positions of its incoming links, which count as unobserved (the edge's own ``p``) for
    a hypothesis younger than that alert (see :meth:`at`)."""

    observed: tuple[np.ndarray, np.ndarray]
    plain: tuple[np.ndarray, np.ndarray]
    alerts: list[tuple[int, int, np.ndarray]]
    skew: int

    @classmethod
    def build(cls, snapshot: Snapshot, obs: Any, params: Params) -> PathWeights:
        from ccm.engine.rca import missed_rates

        s, m = snapshot, snapshot.model(params)
        miss, miss_quiet, miss_td, miss_td_quiet = missed_rates(s, obs, params)
        fa = params.false_alert
        pa = _given_observation(m.in_p, s.in_idx, obs.flags, ALERT_UP, miss, miss_quiet, fa)
        pb = _given_observation(m.out_ptd, s.out_idx, obs.flags, ALERT_TD, miss_td,
                                miss_td_quiet, fa)
        alerts = []
        for side, (idx, t_obs, bit) in enumerate(((s.in_idx, obs.t_up, ALERT_UP),
                                                  (s.out_idx, obs.t_td, ALERT_TD))):
            nodes = np.flatnonzero(obs.flags & bit)
            mark = np.zeros(s.n, np.bool_)
            mark[nodes] = True
            into = np.flatnonzero(mark[idx])   # links into alerting nodes: one scan
            into = into[np.argsort(idx[into], kind="stable")]  # grouped by node, in order
            bounds = np.searchsorted(idx[into], nodes, side="left").tolist() + [len(into)]
            for k, v in enumerate(nodes.tolist()):
                alerts.append((side, int(t_obs[v]), into[bounds[k]:bounds[k + 1]]))
        with np.errstate(divide="ignore"):
            return cls((-np.log(pa), -np.log(pb)), (-np.log(m.in_p), -np.log(m.out_ptd)),
                       alerts, int(params.clock_skew_s * 1e6))

    def at(self, h_time: int) -> tuple[np.ndarray, np.ndarray]:
        """The weights for a hypothesis at ``h_time``: an alert that began before it is
        unobserved (as in the scoring)."""
        early = [a for a in self.alerts if h_time != NO_TIME and a[1] < h_time - self.skew]
        if not early:
            return self.observed
        w = (self.observed[0].copy(), self.observed[1].copy())
        for side, _, pos in early:
            w[side][pos] = self.plain[side][pos]
        return w


def _paths(snapshot: Snapshot, seeds: np.ndarray, weights: tuple[np.ndarray, np.ndarray]
           ) -> tuple[np.ndarray, np.ndarray]:
    """The most probable path to every node, each link weighted by the probability that
    its node failed through it given what that node showed (an alerting node is on the
    failure's path far more likely than a quiet one)."""
    wa, wb = weights
    return _max_product(snapshot.n, snapshot.in_ptr, snapshot.in_idx, wa, snapshot.out_ptr,
                        snapshot.out_idx, wb, True, seeds, np.zeros(len(seeds)))


def _walk(pred: np.ndarray, state: int) -> list[int]:
    states = [state]
    while pred[states[-1]] >= 0:
        states.append(int(pred[states[-1]]))
    return states[::-1]


def _edge(snapshot: Snapshot, src: int, dst: int) -> int:
    """The propagation-graph edge ``src`` -> ``dst`` (src depends on dst)."""
    lo, hi = snapshot.out_ptr[src], snapshot.out_ptr[src + 1]
    j = lo + int(np.flatnonzero(snapshot.out_idx[lo:hi] == dst)[0])
    return int(snapshot.out_eid[j])


def _edge_attrs(snapshot: Snapshot, eid: int) -> dict[str, Any]:
    if snapshot.graph is None or snapshot.edge_refs is None:
        return {}
    return dict(snapshot.graph.edges[snapshot.edge_refs[eid]].attrs)


def _link(snapshot: Snapshot, a: int, b: int, phase: int, params: Params,
          onset: dict[int, int]) -> Link:
    s, m = snapshot, snapshot.model(params)
    ra, rb = s.refs[a], s.refs[b]
    if phase == 0:  # a fails, so b (which needs a) fails
        eid = _edge(s, b, a)
        kind, p = _KIND_NAMES[s.edges.kind[eid]], float(m.p[eid])
        attrs = _edge_attrs(s, eid)
        if kind == "HAS_CONFIG":
            why = f"{rb} reads {ra}: a bad value breaks it (p={p:.2f})"
        else:
            how = ", ".join(x for x in (
                "hard" if s.edges.hard[eid] else "soft", attrs.get("protocol"),
                "async" if s.edges.is_async[eid] else None,
                "fallback" if s.edges.fallback[eid] else None) if x)
            why = (f"{rb} depends on {ra} ({how}; {m.share[eid]:.0%} of its calls): "
                   f"its failure propagates with p={p:.2f}")
        edge = f"{rb} -[{kind}]-> {ra}"
    else:  # a fails, so b (which a calls) loses a's traffic
        eid = _edge(s, a, b)
        kind, p = "DEPENDS_ON", float(m.p_td[eid])
        attrs = _edge_attrs(s, eid)
        why = (f"{ra} sends {m.in_share[eid]:.0%} of {rb}'s calls: when it fails {rb} "
               f"sees its traffic drop (p={p:.2f})")
        edge = f"{ra} -[{kind}]-> {rb}"
    times = {"symptom_onset": format_time(onset[b])} if b in onset else {}
    return Link(ra, rb, edge, p, why, {**attrs, "p": p}, times)


def _change_link(snapshot: Snapshot, c: int, seed: int, q: float, onsets: np.ndarray,
                 params: Params) -> Link:
    ch = snapshot.changes
    meta, t = ch.meta[c], int(ch.time[c])
    later = onsets[onsets >= t - int(params.clock_skew_s * 1e6)]
    first = int(later.min()) if len(later) else None
    keys = ", ".join(meta.get("keys") or ()) or "-"
    age_h = round((first - t) / 3.6e9, 1) if first is not None else None
    age = f", {age_h} h before the first symptom" if age_h is not None else ""
    why = (f"{ch.refs[c]} ({ch.kinds[c]}, keys: {keys}) changed {snapshot.refs[seed]} at "
           f"{format_time(t)}{age}; prior that it fails q={q:.3f}")
    return Link(ch.refs[c], snapshot.refs[seed], f"{ch.refs[c]} -[CHANGED]-> "
                f"{snapshot.refs[seed]}", q, why,
                {"change_kind": ch.kinds[c], "keys": list(meta.get("keys") or ()), "q": q,
                 "age_hours": age_h}, {"change": format_time(t)})


def _explained(snapshot: Snapshot, symptoms: list[Symptom], up: np.ndarray, td: np.ndarray,
               h_time: int, params: Params) -> list[tuple[Symptom, float]]:
    skew = int(params.clock_skew_s * 1e6)
    out = []
    for sym in symptoms:
        v = snapshot.index[sym.ref]
        r = up[v] if sym.upstream else td[v]
        if (h_time == NO_TIME or sym.time >= h_time - skew) and r >= params.explain_min:
            out.append((sym, float(r)))
    return out


def build_chain(snapshot: Snapshot, obs: Any, hyp: Any, h: int, rank: int, posterior: float,
                log_score: float, symptoms: list[Symptom], params: Params,
                weights: PathWeights | None = None) -> Chain:
    """The chain of hypothesis ``h`` (see the module docstring)."""
    s = snapshot
    seeds = hyp.seeds[hyp.ptr[h]:hyp.ptr[h + 1]]
    up, td = impact_of(s, seeds, params)
    explained = _explained(s, symptoms, up, td, int(hyp.time[h]), params)
    weights = weights or PathWeights.build(s, obs, params)
    dist, pred = _paths(s, seeds, weights.at(int(hyp.time[h])))
    ends = []
    for sym, r in explained:
        state = s.index[sym.ref] + (0 if sym.upstream else s.n)
        if np.isfinite(dist[state]):
            hops = len(_walk(pred, state))
            entry = bool(s.traffic[s.index[sym.ref]] > 0)
            ends.append((-int(entry), sym.time if entry else 0, -hops, -r, sym.ref, state))
    states = _walk(pred, min(ends)[5]) if ends else [int(seeds[0])]
    onset: dict[int, int] = {}
    for sym in symptoms:
        v = s.index[sym.ref]
        onset[v] = min(onset.get(v, sym.time), sym.time)
    links = [_link(s, a % s.n, b % s.n, b // s.n, params, onset)
             for a, b in zip(states, states[1:], strict=False)]
    nodes = [s.refs[x % s.n] for x in states]
    c = int(hyp.change[h])
    if c >= 0:
        links.insert(0, _change_link(s, c, states[0] % s.n, float(hyp.q[h]), obs.sym_time,
                                     params))
        nodes.insert(0, s.changes.refs[c])
    elif c == EXPIRY and hyp.setter[h] >= 0:
        setter = int(hyp.setter[h])
        links.insert(0, _change_link(s, setter, states[0] % s.n, float(hyp.q[h]),
                                     obs.sym_time, params))
        nodes.insert(0, s.changes.refs[setter])
    names = sorted({sym.ref for sym, _ in explained})
    cause = "change" if c >= 0 else "expiry" if c == EXPIRY else "spontaneous"
    return Chain(rank=rank, root=hyp.root[h], cause=cause,
                 nodes=nodes, symptom=nodes[-1], score=posterior, log_score=log_score,
                 prior=float(hyp.prior[h]), explained=names,
                 unexplained=sorted({x.ref for x in symptoms} - set(names)), links=links)
