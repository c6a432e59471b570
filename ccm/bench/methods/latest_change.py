"""Baseline ``latest_change``: blame the most recent change before the first alert.

What an on-call engineer does first ("what changed?"), and the baseline of change
correlation studies: the changes made before the first alert's onset (within the
case's window) ranked newest first. Changes made after the first alert are ignored
(they are usually reactions: rollbacks, scale-ups). The chain is the change, its
target and the shortest dependency path to the user-visible alert
(:func:`~ccm.bench.methods.base.chain_to_symptom`).
"""

from __future__ import annotations

from ccm.bench.methods.base import Baseline, Ranked, chain_to_symptom
from ccm.bench.question import Question


class LatestChange(Baseline):
    name = "latest_change"
    description = "the latest change before the first alert"

    def rank(self, question: Question, k: int) -> list[Ranked]:
        first = question.first_alert_time
        if first is None:
            return []
        before = [c for c in question.changes if c.time <= first]
        before.sort(key=lambda c: (-c.time, c.ref))
        return [Ranked(c.ref, chain_to_symptom(question, c.ref), float(-i))
                for i, c in enumerate(before[:k])]
