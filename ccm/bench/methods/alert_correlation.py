"""Baseline ``alert_correlation``: rank changes by temporal correlation with alert onsets.

The temporal half of deployment-failure correlation as in Gandalf (Z. Li, Q. Cheng,
K. Hsieh, et al., "Gandalf: An Intelligent, End-To-End Analytics Service for Safe
Deployment in Cloud-Scale Infrastructure", NSDI 2020) and of change-impact
correlators in AIOps tools: a change scores ``sum over firing alerts with onset
after it of exp(-(onset - change time) / TAU)``, so changes followed closely by
many alert onsets rank first; alerts that began before a change do not count for
it. No topology is used. Ties go to the later change. Chains as in
:func:`~ccm.bench.methods.base.chain_to_symptom`.
"""

from __future__ import annotations

import math

from ccm.bench.methods.base import Baseline, Ranked, chain_to_symptom
from ccm.bench.question import Question

TAU_S = 3600.0  # one hour: onsets within the hour after a change weigh most


def correlation(question: Question) -> list[tuple[str, float]]:
    """Every change in the window with its score, best first."""
    out = []
    for c in question.changes:
        score = sum(math.exp(-(a.time - c.time) / 1e6 / TAU_S)
                    for a in question.alerts if a.time >= c.time)
        out.append((c.ref, score, c.time))
    out.sort(key=lambda t: (-t[1], -t[2], t[0]))
    return [(ref, score) for ref, score, _ in out]


class AlertCorrelation(Baseline):
    name = "alert_correlation"
    description = "changes ranked by temporal correlation with alert onsets (Gandalf-style)"

    def rank(self, question: Question, k: int) -> list[Ranked]:
        return [Ranked(ref, chain_to_symptom(question, ref), score)
                for ref, score in correlation(question)[:k] if score > 0]
