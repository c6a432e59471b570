"""The truth of a case (``truth.yaml``): read only for scoring, never shown to a method.

::

    root_cause: change:chg-42
    chain: [change:chg-42, config:checkout/REDIS_TIMEOUT_MS, service:checkout, service:cart]
    symptom: service:cart

The chain runs cause first, symptom last: ``chain[0]`` is the root cause and
``chain[-1]`` the symptom.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ccm.bench.cases import TRUTH_FILE, Case, read_yaml
from ccm.errors import CaseInvalid
from graph_schema import FactError, parse_ref

__all__ = ["Truth", "check_truths", "load_truth"]


@dataclass(frozen=True, slots=True)
class Truth:
    """The root cause, the causal chain (cause first) and the user-visible symptom."""

    root_cause: str
    chain: tuple[str, ...]
    symptom: str


def _ref(case: str, value: Any, field: str) -> str:
    if value is None:
        raise CaseInvalid(case, TRUTH_FILE, field, "missing")
    try:
        parse_ref(value, "", field)
    except FactError as exc:
        raise CaseInvalid(case, TRUTH_FILE, field, f"{exc.problem} (got {value!r})") from None
    return str(value)


def load_truth(case: Case) -> Truth:
    """Read and check ``truth.yaml`` of ``case``; CaseInvalid names the field."""
    doc = read_yaml(case.id, case.path / TRUTH_FILE)
    if not isinstance(doc, Mapping):
        raise CaseInvalid(case.id, TRUTH_FILE, "", f"expected a mapping of fields, got {doc!r}")
    root = _ref(case.id, doc.get("root_cause"), "root_cause")
    chain = doc.get("chain")
    if not isinstance(chain, list) or not chain:
        problem = "missing" if chain is None else f"expected a non-empty list, got {chain!r}"
        raise CaseInvalid(case.id, TRUTH_FILE, "chain", problem)
    refs = tuple(_ref(case.id, item, f"chain[{i}]") for i, item in enumerate(chain))
    symptom = _ref(case.id, doc.get("symptom"), "symptom")
    if refs[0] != root:
        raise CaseInvalid(case.id, TRUTH_FILE, "chain[0]",
                          f"must be the root_cause {root!r}, got {refs[0]!r}")
    if refs[-1] != symptom:
        raise CaseInvalid(case.id, TRUTH_FILE, f"chain[{len(refs) - 1}]",
                          f"must be the symptom {symptom!r}, got {refs[-1]!r}")
    if len(set(refs)) != len(refs):
        raise CaseInvalid(case.id, TRUTH_FILE, "chain", "a node appears twice")
    return Truth(root, refs, symptom)


def check_truths(cases: list[Case], errors: list[CaseInvalid] | None = None) -> list[Case]:
    """The cases whose truth.yaml is valid (checked before anything runs, and then put
    away: the runner reads it again only to score). Without ``errors`` the first
    invalid truth raises; with it, invalid cases are recorded and left out."""
    ok = []
    for case in cases:
        try:
            load_truth(case)
        except CaseInvalid as exc:
            if errors is None:
                raise
            errors.append(exc)
            continue
        ok.append(case)
    return ok
