"""The metrics of spec/benchmark-cases.md, per case and averaged.

Hypotheses are compared by root. Ranks count *distinct* roots (a method that
returns several chains with the same root is judged by the first), so that
``root@1``, ``root@3`` and ``mrr`` agree: ``root@3`` is 1 exactly when the rank is
at most 3, and ``mrr`` is ``1 / rank`` (0 when the truth root is not among the
first ten distinct roots).

>>> from ccm.bench.methods.base import Ranked
>>> from ccm.bench.truth import Truth
>>> truth = Truth("change:c1", ("change:c1", "service:a", "service:b"), "service:b")
>>> s = score_case([Ranked("change:c2", ("change:c2", "service:b"), 1.0),
...                 Ranked("change:c1", ("change:c1", "service:b"), 0.5)], truth)
>>> s.rank, s.root_at_1, s.root_at_3, s.mrr, s.chain_f1
(2, 0, 1, 0.5, 0.4)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ccm.bench.methods.base import Ranked
from ccm.bench.truth import Truth

__all__ = ["METRICS", "MRR_CUTOFF", "CaseScore", "chain_exact", "chain_f1", "mean_scores",
           "root_rank", "score_case"]

METRICS = ("root@1", "root@3", "mrr", "chain_f1", "chain_exact")
MRR_CUTOFF = 10


def root_rank(ranked: Iterable[Ranked], root: str, cutoff: int = MRR_CUTOFF) -> int | None:
    """1-based rank of ``root`` among the first ``cutoff`` distinct roots, or None."""
    seen: list[str] = []
    for r in ranked:
        if r.root in seen:
            continue
        seen.append(r.root)
        if r.root == root:
            return len(seen)
        if len(seen) == cutoff:
            break
    return None


def chain_f1(predicted: Sequence[str], truth: Sequence[str]) -> float:
    """F1 of the node sets of two chains (0 when either is empty).

    >>> round(chain_f1(["a", "b", "c"], ["a", "c", "d", "e"]), 4)  # P = 2/3, R = 2/4
    0.5714
    """
    p, t = set(predicted), set(truth)
    hits = len(p & t)
    if not hits:
        return 0.0
    precision, recall = hits / len(p), hits / len(t)
    return 2 * precision * recall / (precision + recall)


def chain_exact(predicted: Sequence[str], truth: Sequence[str]) -> bool:
    """Whether the two chains are the same nodes in the same order."""
    return list(predicted) == list(truth)


@dataclass(frozen=True, slots=True)
class CaseScore:
    """One method's scores on one case, and what it answered."""

    rank: int | None
    root_at_1: int
    root_at_3: int
    mrr: float
    chain_f1: float
    chain_exact: int
    predicted_root: str | None
    predicted_chain: tuple[str, ...]

    def metrics(self) -> dict[str, float]:
        return {"root@1": self.root_at_1, "root@3": self.root_at_3, "mrr": self.mrr,
                "chain_f1": self.chain_f1, "chain_exact": self.chain_exact}


def score_case(ranked: Sequence[Ranked], truth: Truth) -> CaseScore:
    """Score a method's ranked hypotheses against the truth of one case."""
    rank = root_rank(ranked, truth.root_cause)
    top = ranked[0] if ranked else None
    chain = top.chain if top else ()
    return CaseScore(
        rank=rank, root_at_1=int(rank == 1), root_at_3=int(rank is not None and rank <= 3),
        mrr=1.0 / rank if rank else 0.0, chain_f1=chain_f1(chain, truth.chain),
        chain_exact=int(bool(chain) and chain_exact(chain, truth.chain)),
        predicted_root=top.root if top else None, predicted_chain=tuple(chain))


def mean_scores(scores: Sequence[CaseScore], digits: int = 4) -> dict[str, float]:
    """The average of each metric over ``scores`` (zeros when there are none)."""
    if not scores:
        return dict.fromkeys(METRICS, 0.0)
    n = len(scores)
    rows = [s.metrics() for s in scores]
    return {m: round(sum(r[m] for r in rows) / n, digits) for m in METRICS}
