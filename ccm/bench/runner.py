"""Run methods over cases and score them: ``ccm bench chains`` as a library.

For each case: ingest it into a fresh store (:func:`~ccm.bench.replay.replayed`),
ask the question at the case's question time (:func:`~ccm.bench.question.ask`),
let every method rank root causes, then read the truth and score. Methods never
see the truth: it is loaded after they have answered. All cases run in this one
process, so compiled kernels are reused across cases.

A method that raises on a case gets no answer for it (scored as a miss) and the
error is kept in the results (``errors``), so a crash is never silent.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ccm.bench.cases import Case, cases_digest
from ccm.bench.methods.base import Method, Ranked
from ccm.bench.question import ask
from ccm.bench.replay import replayed
from ccm.bench.scoring import METRICS, MRR_CUTOFF, CaseScore, mean_scores, score_case
from ccm.bench.truth import Truth, load_truth
from ccm.errors import CaseInvalid
from graph_schema import format_time

__all__ = ["BenchResult", "CaseResult", "calibration", "run_cases"]

Progress = Callable[[int, int, str], None]


@dataclass
class CaseResult:
    """Everything measured on one case."""

    case: Case
    truth: Truth
    scores: dict[str, CaseScore]
    seconds: dict[str, float]
    errors: dict[str, str]
    ingest_s: float
    alerts: int
    changes: int
    #: the top answer's score per method (a probability for methods that give one)
    confidence: dict[str, float] = field(default_factory=dict)


def calibration(confidence: Sequence[float], hits: Sequence[float], bins: int = 10
                ) -> dict[str, Any]:
    """Reliability of top-1 probabilities (:class:`ccm.memory.Calibration`): per
    equal-width bin of confidence, the cases, their mean confidence and the share that
    were right; and the expected calibration error.

    >>> c = calibration([0.9, 0.9, 0.2, 0.2], [1, 1, 0, 1], bins=2)
    >>> c["ece"], [(b["cases"], b["accuracy"]) for b in c["bins"]]
    (0.2, [(2, 0.5), (2, 1.0)])
    """
    from ccm.memory import Calibration

    cal = Calibration("top-1 posterior", [(float(c), int(h)) for c, h in
                                          zip(confidence, hits, strict=True)], bins)
    return {"ece": round(cal.ece or 0.0, 4), "cases": cal.n,
            "bins": [{"lo": b.lo, "hi": b.hi, "cases": b.count,
                      "confidence": round(b.mean_predicted, 4),
                      "accuracy": round(b.observed, 4)} for b in cal.table()]}


@dataclass
class BenchResult:
    """The results of one run: per case and per method."""

    methods: list[str]
    cases: list[CaseResult] = field(default_factory=list)
    invalid: list[CaseInvalid] = field(default_factory=list)
    wall_s: float = 0.0
    #: one-off preparation per method (loading compiled kernels), outside ``wall_s``
    prepare_s: dict[str, float] = field(default_factory=dict)
    #: 1-minute load average at the start and the end (other work skews timings)
    load_avg: tuple[float, float] = (0.0, 0.0)
    #: methods whose scores are probabilities (their calibration is measured)
    probabilistic: list[str] = field(default_factory=list)

    def calibration(self) -> dict[str, dict[str, Any]]:
        """Per probabilistic method: the reliability of its top-1 probability over all
        cases and per category (see :func:`calibration`)."""
        out: dict[str, dict[str, Any]] = {}
        for m in self.probabilistic:
            groups: dict[str, list[CaseResult]] = {"all": self.cases}
            for r in sorted(self.cases, key=lambda r: r.case.category):
                groups.setdefault(r.case.category, []).append(r)
            out[m] = {g: calibration([r.confidence.get(m, 0.0) for r in rows],
                                     [r.scores[m].root_at_1 for r in rows])
                      for g, rows in groups.items()}
        return out

    def summary(self, results: Sequence[CaseResult] | None = None) -> dict[str, dict[str, Any]]:
        rows = self.cases if results is None else results
        out: dict[str, dict[str, Any]] = {}
        for m in self.methods:
            scores = [r.scores[m] for r in rows]
            out[m] = {**mean_scores(scores),
                      "errors": sum(1 for r in rows if m in r.errors),
                      "mean_ms": round(1000 * sum(r.seconds[m] for r in rows)
                                       / max(len(rows), 1), 3)}
        return out

    def by_category(self) -> dict[str, dict[str, Any]]:
        groups: dict[str, list[CaseResult]] = {}
        for r in self.cases:
            groups.setdefault(r.case.category, []).append(r)
        return {cat: {"cases": len(rows), "methods": self.summary(rows)}
                for cat, rows in sorted(groups.items())}

    def timing(self) -> dict[str, Any]:
        n = len(self.cases)
        return {"wall_s": round(self.wall_s, 3),
                "prepare_s": {m: round(t, 3) for m, t in self.prepare_s.items()},
                "load_avg": [round(x, 2) for x in self.load_avg],
                "cases_per_s": round(n / self.wall_s, 2) if self.wall_s else 0.0,
                "ingest_s": round(sum(r.ingest_s for r in self.cases), 3),
                **{f"{m}_s": round(sum(r.seconds[m] for r in self.cases), 3)
                   for m in self.methods}}

    def per_case(self) -> list[dict[str, Any]]:
        out = []
        for r in self.cases:
            for m in self.methods:
                s = r.scores[m]
                row: dict[str, Any] = {
                    "id": r.case.id, "method": m, "category": r.case.category,
                    "rank": s.rank, **s.metrics(), "predicted_root": s.predicted_root,
                    "predicted_chain": list(s.predicted_chain),
                    "truth_root": r.truth.root_cause, "truth_chain": list(r.truth.chain),
                    "ms": round(1000 * r.seconds[m], 3),
                    "confidence": round(r.confidence.get(m, 0.0), 6)}
                if m in r.errors:
                    row["error"] = r.errors[m]
                out.append(row)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "cases": len(self.cases),
            "cases_digest": cases_digest([r.case for r in self.cases]),
            "metrics": list(METRICS),
            "mrr_cutoff": MRR_CUTOFF,
            "methods": self.summary(),
            "categories": self.by_category(),
            "timing": self.timing(),
            "calibration": self.calibration(),
            "invalid": [{"case": e.case, "file": e.file, "field": e.field,
                         "problem": e.problem} for e in self.invalid],
            "per_case": self.per_case(),
        }


def _answer(method: Method, question: Any, k: int) -> tuple[list[Ranked], float, str | None]:
    t0 = time.perf_counter()
    try:
        ranked = list(method.rank(question, k))
        error = None
    except Exception as exc:  # a crashing method is recorded, not fatal
        ranked, error = [], f"{type(exc).__name__}: {exc}"
    return ranked, time.perf_counter() - t0, error


def run_case(case: Case, methods: Mapping[str, Method], *, k: int = MRR_CUTOFF,
             tmp_dir: str | None = None) -> CaseResult:
    """Ingest, ask, answer with every method, then score against the truth."""
    t0 = time.perf_counter()
    with replayed(case, tmp_dir) as store:
        question = ask(store, case.id, case.question_time, case.window)
        ingest_s = time.perf_counter() - t0
        answers = {name: _answer(m, question, k) for name, m in methods.items()}
    truth = load_truth(case)  # read only now, after every method has answered
    return CaseResult(
        case, truth,
        scores={n: score_case(a[0], truth) for n, a in answers.items()},
        seconds={n: a[1] for n, a in answers.items()},
        errors={n: a[2] for n, a in answers.items() if a[2] is not None},
        ingest_s=ingest_s, alerts=len(question.alerts), changes=len(question.changes),
        confidence={n: a[0][0].score if a[0] else 0.0 for n, a in answers.items()})


def _load() -> float:
    try:
        return os.getloadavg()[0]
    except OSError:  # not available on this platform
        return 0.0


def run_cases(cases: Sequence[Case], methods: Mapping[str, Method], *, k: int = MRR_CUTOFF,
              tmp_dir: str | None = None, progress: Progress | None = None,
              keep_going: bool = False) -> BenchResult:
    """Run every method on every case. An invalid case raises CaseInvalid, unless
    ``keep_going``: then it is recorded in ``invalid`` and skipped."""
    result = BenchResult(list(methods), probabilistic=[
        n for n, m in methods.items() if getattr(m, "probabilities", False)])
    start_load = _load()
    for name, method in methods.items():
        t0 = time.perf_counter()
        method.prepare()
        result.prepare_s[name] = time.perf_counter() - t0
    t0 = time.perf_counter()
    for i, case in enumerate(cases):
        if progress:
            progress(i, len(cases), case.id)
        try:
            result.cases.append(run_case(case, methods, k=k, tmp_dir=tmp_dir))
        except CaseInvalid as exc:
            if not keep_going:
                raise
            result.invalid.append(exc)
    result.wall_s = time.perf_counter() - t0
    result.load_avg = (start_load, _load())
    if progress:
        progress(len(cases), len(cases), "")
    return result


def describe_case(r: CaseResult) -> str:
    """One line about a case for ``-v`` output."""
    return (f"{r.case.id} [{r.case.category}] at {format_time(r.case.question_time)}: "
            f"{r.alerts} alerts, {r.changes} changes; truth {r.truth.root_cause}")
