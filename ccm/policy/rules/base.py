"""The base of every policy rule: typed parameters (pydantic), one ``evaluate``."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, BeforeValidator, ConfigDict

from ccm.policy.context import EvalContext
from ccm.policy.types import NO_NEEDS, PROCEED, REFUSE, REVIEW, Needs, RuleResult
from graph_schema import TimeParseError, parse_duration


def _duration(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError("expected a duration like 1h, 30m, P7D")
    try:
        return parse_duration(value)
    except TimeParseError as exc:
        raise ValueError(str(exc)) from None


#: a duration, stored in microseconds; written in YAML as ``1h``, ``30m``, ``P7D`` or a
#: number of seconds
Duration = Annotated[int, BeforeValidator(_duration)]


class Rule(BaseModel):
    """A policy rule. Subclasses declare ``type`` as a Literal and implement
    :meth:`evaluate`; ``name`` tells two rules of one type apart in reasons."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = ""
    enabled: bool = True
    #: rules that describe the action only (not control-plane state) skip re-evaluation
    STATIC: ClassVar[bool] = False

    @property
    def label(self) -> str:
        return self.name or str(getattr(self, "type", type(self).__name__))

    def evaluate(self, ctx: EvalContext) -> RuleResult:
        raise NotImplementedError

    def proceed(self, reason: str, **data: Any) -> RuleResult:
        return RuleResult(self.label, self.type, PROCEED, reason, NO_NEEDS, data)  # type: ignore[attr-defined]

    def review(self, reason: str, needs: Needs | None = None, **data: Any) -> RuleResult:
        return RuleResult(self.label, self.type, REVIEW, reason, needs or Needs(1), data)  # type: ignore[attr-defined]

    def refuse(self, reason: str, **data: Any) -> RuleResult:
        return RuleResult(self.label, self.type, REFUSE, reason, NO_NEEDS, data)  # type: ignore[attr-defined]

    def decide(self, decision: str, reason: str, needs: Needs | None = None,
               **data: Any) -> RuleResult:
        if decision == REFUSE:
            return self.refuse(reason, **data)
        if decision == REVIEW:
            return self.review(reason, needs, **data)
        return self.proceed(reason, **data)


def fmt_duration(micros: int) -> str:
    """``3600000000`` -> ``1h``; the largest whole unit."""
    seconds = micros / 1_000_000
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"
