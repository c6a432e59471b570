"""Baseline ``random_walk``: personalised PageRank on the alerting subgraph.

The family of graph random-walk localisers:

- MonitorRank: M. Kim, R. Sumbaly, S. Shah, "Root cause detection in a
  service-oriented architecture", SIGMETRICS 2013 (random walk on the call graph
  from the front end, with backward edges and self-loops);
- MicroRCA: L. Wu, J. Tordsson, E. Elmroth, O. Kao, "MicroRCA: Root Cause
  Localization of Performance Issues in Microservices", IEEE/IFIP NOMS 2020
  (personalised PageRank on the anomalous subgraph: the anomalous nodes and their
  neighbours, anomalous edges weighted ``alpha = 0.55``, personalisation = a node's
  anomaly score divided by its degree, damping 0.85);
- MicroRank: G. Yu, P. Chen, et al., "MicroRank: End-to-End Latency Issue
  Localization with Extended Spectrum Analysis in Microservice Environments",
  WWW 2021 (personalised PageRank over traces, then spectrum analysis).

What is kept here, since benchmark cases carry alerts rather than metric series:
the anomalous nodes are the alerting nodes and a node's anomaly score is its
number of firing alerts; the subgraph is those nodes and their one-hop
``DEPENDS_ON`` neighbours; the walker follows a dependency from a caller to its
callee (where a fault would come from) with weight ``alpha`` when the callee is
anomalous and ``beta`` otherwise (MicroRCA uses a metric correlation for normal
edges; there is none here), goes back to a caller with ``rho`` times that (as
MonitorRank's backward edges), stays on an anomalous node none of whose callees is
anomalous with weight ``alpha`` (MonitorRank's self-edge, ``max(0, own anomaly -
largest callee anomaly)``) and restarts on the personalisation vector with
probability ``1 - damping``. The ranked nodes map to roots as the task asks: the
node's most recent change before the question time, or the node itself (a
spontaneous failure) when it has none. Chains as in
:func:`~ccm.bench.methods.base.chain_to_symptom`.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from ccm.bench.methods.base import Baseline, Ranked, chain_to_symptom, distinct_roots
from ccm.bench.question import Question

ALPHA = 0.55     # MicroRCA's weight of an anomalous edge
BETA = 0.1       # weight of an edge to a non-anomalous callee
RHO = 0.3        # backward-edge factor (MonitorRank)
DAMPING = 0.85   # PageRank damping (MicroRCA)
ITERATIONS = 200
TOL = 1e-10


def _subgraph(q: Question, anomalous: set[str]) -> list[str]:
    nodes = set(anomalous)
    for n in anomalous:
        nodes.update(q.callees.get(n, ()))
        nodes.update(q.callers.get(n, ()))
    return sorted(nodes)


def _transition(q: Question, nodes: list[str], anomalous: set[str]) -> np.ndarray:
    """Row-stochastic matrix of the walk over ``nodes`` (row = from, column = to)."""
    index = {n: i for i, n in enumerate(nodes)}
    w = np.zeros((len(nodes), len(nodes)))
    for u in nodes:
        for v in q.callees.get(u, ()):
            if v not in index:
                continue
            weight = ALPHA if v in anomalous else BETA
            w[index[u], index[v]] += weight
            w[index[v], index[u]] += RHO * weight
    for v in nodes:  # MonitorRank's self-edge: stay where the dependencies look healthy
        if v in anomalous and not any(c in anomalous for c in q.callees.get(v, ())):
            w[index[v], index[v]] += ALPHA
    rows = w.sum(axis=1)
    dangling = rows == 0
    w[dangling, :] = 0.0
    w[dangling, np.arange(len(nodes))[dangling]] = 1.0  # a dead end keeps the walker
    return w / w.sum(axis=1, keepdims=True)


def pagerank(q: Question) -> list[tuple[str, float]]:
    """Components of the alerting subgraph and their scores, highest first."""
    by_node = q.alerts_by_node()
    anomalous = {n for n in by_node if n in q.graph.nodes}
    if not anomalous:
        return []
    nodes = _subgraph(q, anomalous)
    p = _transition(q, nodes, anomalous)
    degree = {n: max(1, len(q.callees.get(n, ())) + len(q.callers.get(n, ())))
              for n in nodes}
    pers = np.array([len(by_node.get(n, ())) / degree[n] for n in nodes], dtype=float)
    pers /= pers.sum()
    x = pers.copy()
    for _ in range(ITERATIONS):
        nxt = DAMPING * (x @ p) + (1.0 - DAMPING) * pers
        if np.abs(nxt - x).sum() < TOL:
            x = nxt
            break
        x = nxt
    return sorted(zip(nodes, x.tolist(), strict=True), key=lambda t: (-t[1], t[0]))


class RandomWalk(Baseline):
    name = "random_walk"
    description = "personalised PageRank on the alerting subgraph (MicroRCA/MonitorRank style)"

    def rank(self, question: Question, k: int) -> list[Ranked]:
        def hypotheses() -> Iterator[Ranked]:
            for node, score in pagerank(question):
                changes = question.changes_on(node)
                root = changes[0].ref if changes else node
                yield Ranked(root, chain_to_symptom(question, root), score)

        return distinct_roots(hypotheses(), k)
