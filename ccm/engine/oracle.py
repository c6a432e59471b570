"""networkx implementations of the engine's computations: the kernels' test oracles.

They are written for clarity, not speed: each follows the definition (a fixpoint
iterated until nothing moves, breadth-first cascades, Dijkstra on a layered
graph) so that the Numba kernels can be checked against them, and the
performance benchmark runs them as "the same algorithm in networkx".

Graphs here are ``nx.DiGraph`` over node indices with an edge ``u -> v`` when u
needs v, carrying ``p`` (a failure of v reaches u) and ``p_td`` (a failing u
starves v); see :func:`to_networkx`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import networkx as nx
import numpy as np

from ccm.engine.params import DEFAULT_PARAMS, Params
from ccm.engine.snapshot import Snapshot

NO_TIME = np.iinfo(np.int64).min


def to_networkx(snapshot: Snapshot, params: Params = DEFAULT_PARAMS) -> nx.DiGraph:
    """The snapshot's propagation graph with ``p`` and ``p_td`` on every edge."""
    m = snapshot.model(params)
    g = nx.DiGraph()
    g.add_nodes_from(range(snapshot.n))
    e = snapshot.edges
    g.add_edges_from((int(u), int(v), {"p": float(p), "p_td": float(t)})
                     for u, v, p, t in zip(e.src, e.dst, m.p, m.p_td, strict=True))
    return g


def _flow(g: nx.DiGraph, v: int, reverse: bool) -> Iterable[tuple[int, float]]:
    """Where a change at v flows: to dependants (``p``) or, reversed, to dependencies."""
    if reverse:
        return ((w, d["p_td"]) for w, d in g.adj[v].items())
    return ((u, d["p"]) for u, d in g.pred[v].items())


def _inputs(g: nx.DiGraph, u: int, reverse: bool) -> Iterable[tuple[int, float]]:
    """What flows into u: from its dependencies (``p``) or, reversed, its dependants."""
    if reverse:
        return ((w, d["p_td"]) for w, d in g.pred[u].items())
    return ((v, d["p"]) for v, d in g.adj[u].items())


def reachable(g: nx.DiGraph, seeds: Iterable[int], reverse: bool = False) -> set[int]:
    """Nodes a failure of ``seeds`` can reach over edges of positive probability
    (breadth-first over networkx's adjacency)."""
    found = set(seeds)
    frontier = list(found)
    while frontier:
        nxt = []
        for v in frontier:
            for w, p in _flow(g, v, reverse):
                if p > 0 and w not in found:
                    found.add(w)
                    nxt.append(w)
        frontier = nxt
    return found


def belief(r: float, v: int, obs: tuple) -> float:
    """P(v affected | prior probability r, v's own observation); ``obs`` is
    ``(flags, t_obs, alert_bit, h_time, skew, miss, miss_quiet, fa)`` (flags: 1
    monitored)."""
    flags, t_obs, bit, h_time, skew, miss, miss_quiet, fa = obs
    if not flags[v] & 1 or r <= 0.0 or r >= 1.0:
        return r
    if flags[v] & bit:
        if h_time != NO_TIME and t_obs[v] < h_time - skew:
            return r
        return r * (1 - miss) / (r * (1 - miss) + (1 - r) * fa)
    return r * miss_quiet / (r * miss_quiet + (1 - r) * (1 - fa))


def noisy_or(g: nx.DiGraph, seeds: Mapping[int, float], *, reverse: bool = False,
             floor: float = 0.0, tol: float = 1e-14, max_iter: int = 1_000_000,
             obs: tuple | None = None, whole: bool = True
             ) -> tuple[dict[int, float], dict[int, float]]:
    """The least fixpoint of ``r(u) = 1 - (1 - s(u)) * prod (1 - p * b(v))`` over the inputs
    v of u whose ``b(v)`` is at least ``floor``, by Jacobi iteration from ``r = s``.

    ``b(v)`` is what v passes on: ``r(v)`` without observations; with ``obs`` (see
    :func:`belief`), v's belief given its own observation, of its whole value (``whole``)
    or of the part from other nodes, combined with its own seed.
    Returns ``(r, others)``: ``others[u] = 1 - prod(...)``, the part not from u's own seed.
    """
    nodes = reachable(g, seeds, reverse)
    r = {u: float(seeds.get(u, 0.0)) for u in nodes}
    others = dict.fromkeys(nodes, 0.0)

    def passed(u: int) -> float:
        if obs is None:
            return r[u]
        if whole:
            return belief(r[u], u, obs)
        s = seeds.get(u, 0.0)
        return 1.0 - (1.0 - s) * (1.0 - belief(others[u], u, obs))

    for _ in range(max_iter):
        b = {u: passed(u) for u in nodes}
        new, new_others = {}, {}
        for u in nodes:
            prod = 1.0
            for v, p in _inputs(g, u, reverse):
                bv = b.get(v, 0.0)
                if bv >= floor and bv > 0:
                    prod *= 1.0 - p * bv
            new_others[u] = 1.0 - prod
            new[u] = 1.0 - (1.0 - seeds.get(u, 0.0)) * prod
        moved = max((abs(new[u] - r[u]) for u in nodes), default=0.0)
        r, others = new, new_others
        if moved <= tol:
            break
    return r, others


def noisy_or_condensed(g: nx.DiGraph, seeds: Mapping[int, float], tol: float = 1e-12,
                       max_sweeps: int = 10_000) -> dict[int, float]:
    """The same fixpoint by the kernel's algorithm: reachable part, condensation,
    topological order, one pull per node, sweeps inside cycles."""
    nodes = reachable(g, seeds)
    sub = g.subgraph(nodes)
    cond = nx.condensation(sub)
    r = dict.fromkeys(nodes, 0.0)

    def pull(u: int) -> float:
        prod = 1.0 - seeds.get(u, 0.0)
        for v, d in sub.adj[u].items():
            prod *= 1.0 - d["p"] * r[v]
        return 1.0 - prod

    for c in reversed(list(nx.topological_sort(cond))):
        members = sorted(cond.nodes[c]["members"])
        for _ in range(max_sweeps if len(members) > 1 else 1):
            moved = 0.0
            for u in members:
                new = pull(u)
                moved = max(moved, new - r[u])
                r[u] = new
            if moved <= tol:
                break
    return r


def is_topological(g: nx.DiGraph, order: Iterable[int], comp: np.ndarray) -> bool:
    """Every node comes after its dependencies, except within a strongly connected
    component, whose members are contiguous."""
    pos = {v: i for i, v in enumerate(order)}
    sccs = list(nx.strongly_connected_components(g))
    same = {v: i for i, c in enumerate(sccs) for v in c}
    for c in sccs:
        idx = sorted(pos[v] for v in c)
        if idx[-1] - idx[0] != len(idx) - 1 or len({int(comp[v]) for v in c}) != 1:
            return False
    return all(pos[u] > pos[v] for u, v in g.edges if same[u] != same[v])


def cascades(g: nx.DiGraph, seeds: Mapping[int, float], samples: int, seed: int,
             counted: np.ndarray, weight: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Independent cascades by breadth-first search: per-sample counts and weights,
    per-node failure counts (numpy's generator, so statistically, not bitwise, equal)."""
    rng = np.random.default_rng(seed)
    counts = np.zeros(samples, np.int64)
    sums = np.zeros(samples)
    hits = np.zeros(g.number_of_nodes(), np.int64)
    for k in range(samples):
        failed = [v for v, s in seeds.items() if rng.random() < s]
        seen = set(failed)
        for v in failed:  # the list grows while we walk it: breadth-first
            for u, p in _flow(g, v, False):
                if u not in seen and rng.random() < p:
                    seen.add(u)
                    failed.append(u)
        idx = np.fromiter(seen, np.int64, len(seen))
        hits[idx] += 1
        counts[k] = int(counted[idx].sum())
        sums[k] = float(weight[idx].sum())
    return counts, sums, hits


def max_product(g: nx.DiGraph, seeds: Mapping[int, float], two_phase: bool = False
                ) -> dict[tuple[int, int], tuple[float, list[int]]]:
    """Most probable paths from ``seeds`` (start probability s) to every reachable
    ``(node, phase)``: ``{state: (probability, [nodes])}``; phase 1 is reached by
    switching once to the traffic-drop direction."""
    layered = nx.DiGraph()
    source = ("source", 0)
    for v, s in seeds.items():
        if s > 0:
            layered.add_edge(source, (v, 0), w=-math.log(s))
    for u, v, d in g.edges(data=True):
        if d["p"] > 0:
            layered.add_edge((v, 0), (u, 0), w=-math.log(d["p"]))
        if two_phase and d["p_td"] > 0:
            layered.add_edge((u, 0), (v, 1), w=-math.log(d["p_td"]))
            layered.add_edge((u, 1), (v, 1), w=-math.log(d["p_td"]))
    if source not in layered:
        return {}
    dist, paths = nx.single_source_dijkstra(layered, source, weight="w")
    return {state: (math.exp(-d), [x[0] for x in paths[state][1:]])
            for state, d in dist.items() if state != source}


def latest_cause_time(g: nx.DiGraph, symptoms: Iterable[tuple[int, int, bool]]) -> np.ndarray:
    """Per node, the latest onset of a symptom ``(node, time, upstream)`` it can cause."""
    latest = np.full(g.number_of_nodes(), NO_TIME, np.int64)
    for node, t, up in symptoms:
        starts = {node} if up else nx.ancestors(g, node) - {node}
        causes = set(starts)
        for s in starts:
            causes |= nx.descendants(g, s)
        for v in causes:
            latest[v] = max(latest[v], t)
    return latest


def _term(r: float, alerted: bool, in_time: bool, miss: float, miss_quiet: float,
          fa: float) -> float:
    if alerted:
        return math.log((r * (1 - miss) + (1 - r) * fa) / fa) if in_time else 0.0
    return math.log((r * miss_quiet + (1 - r) * (1 - fa)) / (1 - fa))


def hypothesis_evidence(g: nx.DiGraph, seeds: Iterable[int], h_time: int, flags: np.ndarray,
                        t_up: np.ndarray, t_td: np.ndarray, params: Params,
                        quiet: tuple[float, float] | None = None) -> tuple[float, int]:
    """``(ll, onset)``: log P(observations | H) - log P(observations | nothing failed) for
    one hypothesis (flags: 1 monitored, 2 upstream alert, 4 traffic-drop alert), and the
    earliest alert it explains (failure alerts first, else traffic drops; NO_TIME if
    none). Failure spreads with every node passing on its belief given its own
    observation; then every affected node starves its dependencies with its belief.
    ``quiet``: P(no alert yet | affected) of a quiet node in the two directions (default
    the missed-alert rates)."""
    P, skew = params, int(params.clock_skew_s * 1e6)
    miss, miss_td = P.missed_alert, P.missed_traffic_drop
    quiet = (miss, miss_td) if quiet is None else quiet
    up_obs = (flags, t_up, 2, h_time, skew, miss, quiet[0], P.false_alert)
    up, _ = noisy_or(g, dict.fromkeys(seeds, 1.0), floor=P.floor, obs=up_obs)
    starting = {v: belief(r, v, up_obs) for v, r in up.items() if r > 0}
    td_obs = (flags, t_td, 4, h_time, skew, miss_td, quiet[1], P.false_alert)
    _, starve = noisy_or(g, starting, reverse=True, floor=P.floor, obs=td_obs, whole=False)
    total, onsets = 0.0, []
    for values, bit, t_obs, m, mq in ((up, 2, t_up, miss, quiet[0]),
                                      (starve, 4, t_td, miss_td, quiet[1])):
        first = NO_TIME
        for v, r in values.items():
            if flags[v] & 1 and r > 0:
                in_time = h_time == NO_TIME or t_obs[v] >= h_time - skew
                alerted = bool(flags[v] & bit)
                total += _term(min(r, 1.0), alerted, in_time, m, mq, P.false_alert)
                if alerted and in_time and r >= P.explain_min and (
                        first == NO_TIME or t_obs[v] < first):
                    first = int(t_obs[v])
        onsets.append(first)
    return total, onsets[0] if onsets[0] != NO_TIME else onsets[1]


def root_cause_scores(snapshot: Snapshot, symptoms: list[Any],
                      params: Params = DEFAULT_PARAMS, priors: Any = None,
                      window: int | None = None) -> dict[str, float]:
    """Every hypothesis's log score (prior + onset density + evidence), enumerated
    independently of the kernels: changes whose seeds can cause a symptom that began
    after them, configuration values that expired in the window likewise, and
    spontaneous failures of components that can cause any symptom."""
    from ccm.engine.model import (
        change_prior,
        latent_share,
        onset_log_density,
        spontaneous_rate,
    )
    from ccm.engine.priors import NO_PRIORS
    from ccm.engine.snapshot import KINDS

    priors = priors or NO_PRIORS
    P = params
    g = to_networkx(snapshot, params)
    skew = int(P.clock_skew_s * 1e6)
    never = np.iinfo(np.int64).max
    flags = np.where(snapshot.nodes.monitored & snapshot.component, 1, 0).astype(np.int64)
    t_up = np.full(snapshot.n, never, np.int64)
    t_td = np.full(snapshot.n, never, np.int64)
    found = []
    given = {snapshot.index[s.ref] for s in symptoms}
    for v in snapshot.alerts.target.tolist():
        if v not in given:
            flags[v] = 0
    for s in symptoms:
        v = snapshot.index[s.ref]
        flags[v] |= 1 | (2 if s.upstream else 4)
        arr = t_up if s.upstream else t_td
        arr[v] = min(arr[v], s.time)
        found.append((v, s.time, s.upstream))
    latest = latest_cause_time(g, found)
    late = math.exp(-max(0.0, (snapshot.valid_at - min(s.time for s in symptoms)) / 60e6)
                    / P.alert_delay_min) if symptoms else 0.0
    quiet = (P.missed_alert + (1 - P.missed_alert) * late,
             P.missed_traffic_drop + (1 - P.missed_traffic_drop) * late)

    def timed(seeds: list[int], t: int, q: float, latent: float) -> float:
        ll, onset = hypothesis_evidence(g, seeds, t, flags, t_up, t_td, P, quiet)
        at = snapshot.valid_at if onset == NO_TIME else onset
        return math.log(q) + float(onset_log_density(at - t, latent, P)) + ll

    out: dict[str, float] = {}
    ch = snapshot.changes
    early = snapshot.valid_at - window if window is not None else np.iinfo(np.int64).min
    for i, ref in enumerate(ch.refs):
        seeds = ch.seeds(i).tolist()
        t = int(ch.time[i])
        if not seeds or t < early or max(latest[v] for v in seeds) < t - skew:
            continue
        meta = ch.meta[i]
        keys, diff = meta.get("keys", ()), meta.get("diff", ())
        q = change_prior(ch.kinds[i], meta.get("target", ""), keys=keys, diff=diff,
                         destructive=bool(meta.get("destructive")),
                         reversible=meta.get("reversible"), params=P, priors=priors)
        out[ref] = timed(seeds, t, q, latent_share(ch.kinds[i], keys=keys, diff=diff,
                                                   params=P))
    for v in range(snapshot.n):
        e = int(snapshot.nodes.expires[v])
        if early <= e <= snapshot.valid_at and not snapshot.component[v] \
                and latest[v] != NO_TIME and latest[v] >= e - skew:
            # a value a change in the window wrote is that change's failure: its root
            setters = [i for i in range(len(ch)) if early <= int(ch.time[i]) <= e
                       and v in ch.seeds(i).tolist()]
            root = (ch.refs[max(setters, key=lambda i: (int(ch.time[i]), i))] if setters
                    else snapshot.refs[v])
            score = timed([v], e, P.expiry_prior, P.expiry_latent_share)
            out[root] = max(score, out.get(root, -math.inf))
    suspects = snapshot.suspects
    for v in range(snapshot.n):
        if suspects[v] and latest[v] != NO_TIME:
            rate = spontaneous_rate(KINDS[snapshot.nodes.kind[v]], P, priors)
            ll, _ = hypothesis_evidence(g, [v], NO_TIME, flags, t_up, t_td, P, quiet)
            out[snapshot.refs[v]] = math.log(rate) + ll
    return out
