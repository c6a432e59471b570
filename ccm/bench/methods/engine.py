"""Method ``ccm``: the causal engine (:func:`ccm.engine.root_causes`).

The engine compiles the store's graph at the question time into a snapshot
(``store.snapshot(valid_at=question time, window=case window)``) and ranks
hypotheses by posterior probability (DESIGN.md section 4). The symptoms are the
alerts firing at the question time: one per alerting node and signal, at its
earliest onset. One model configuration (the engine's defaults, no memory) serves
every case.
"""

from __future__ import annotations

from typing import Any

from ccm.bench.methods.base import Ranked, distinct_roots
from ccm.bench.question import Question


def symptoms_of(question: Question) -> list[Any]:
    from ccm.engine import Symptom

    first: dict[tuple[str, str], int] = {}
    for a in question.alerts:
        first.setdefault((a.node, a.signal), a.time)
    return [Symptom(node, signal, t) for (node, signal), t in sorted(first.items())]


class CausalEngine:
    """``threads``: Numba threads for the engine's parallel kernels during the run. Cases
    are small graphs, where starting a thread pool per call costs more than it saves
    (on 2 busy cores, 50 ms against 3 ms per case); the answers do not depend on it."""

    name = "ccm"
    #: its scores are posterior probabilities (their calibration is reported)
    probabilities = True
    description = "the causal engine: posterior-ranked chains over the graph at question time"

    def __init__(self, threads: int | None = 1) -> None:
        self.threads = threads

    def prepare(self) -> None:
        from ccm.engine import warm_up

        if self.threads is not None:
            import numba

            most = getattr(numba.config, "NUMBA_NUM_THREADS", 1)  # set at import, not typed
            numba.set_num_threads(min(self.threads, most))
        warm_up()

    def rank(self, question: Question, k: int) -> list[Ranked]:
        from ccm.engine import root_causes

        symptoms = symptoms_of(question)
        if not symptoms:
            return []
        store: Any = question.store  # a Store with the engine's snapshot()
        snapshot = store.snapshot(valid_at=question.at, window=question.window)
        result = root_causes(snapshot, symptoms, window=question.window, k=k)
        return distinct_roots((Ranked(c.root, tuple(c.nodes), float(c.score))
                               for c in result), k)
