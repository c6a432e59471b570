"""Baseline ``alerting_service_change``: the change on the service that alerted first.

The "look at the service that alerted first" heuristic: alerting nodes are ordered by
their first onset (ties: the node with more firing alerts, then by name); for each,
its changes before the question time (on the node itself or on one of its
configuration keys), newest first, and then the node itself as a spontaneous
failure. Chains as in :func:`~ccm.bench.methods.base.chain_to_symptom`.
"""

from __future__ import annotations

from ccm.bench.methods.base import Baseline, Ranked, chain_to_symptom, distinct_roots
from ccm.bench.question import Question


class AlertingServiceChange(Baseline):
    name = "alerting_service_change"
    description = "the change on the earliest-alerting (tie: most-alerting) service"

    def rank(self, question: Question, k: int) -> list[Ranked]:
        by_node = question.alerts_by_node()
        order = sorted(by_node, key=lambda n: (by_node[n][0].time, -len(by_node[n]), n))
        roots: list[str] = []
        for node in order:
            roots.extend(c.ref for c in question.changes_on(node))
            roots.append(node)
        ranked = (Ranked(r, chain_to_symptom(question, r), float(-i))
                  for i, r in enumerate(roots))
        return distinct_roots(ranked, k)
