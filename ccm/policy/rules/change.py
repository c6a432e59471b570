"""Rules about the change itself and its bookkeeping: schema drift, reversible by
default, memory write, signed audit."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any, Literal

from pydantic import Field, field_validator

from ccm.policy.context import EvalContext
from ccm.policy.rules.base import Rule
from ccm.policy.types import Needs, RuleResult

DEFAULT_DESTRUCTIVE = [
    r"\bDROP\s+(TABLE|COLUMN|INDEX|SCHEMA|DATABASE|VIEW|CONSTRAINT)\b",
    r"\bALTER\s+TABLE\b[^;]*\bDROP\b",
    r"\bTRUNCATE\b",
    r"\bDELETE\s+FROM\b(?![^;]*\bWHERE\b)",
    r"\bALTER\s+TABLE\b[^;]*\bALTER\s+COLUMN\b[^;]*\b(TYPE|SET\s+DATA\s+TYPE)\b",
    r"\bRENAME\s+(COLUMN|TO)\b",
]


class SchemaDrift(Rule):
    """Destructive migrations need an explicit human signature; a migration whose
    statements are destructive while it says it is not is refused."""

    type: Literal["schema_drift"] = "schema_drift"
    actions: list[str] = Field(default_factory=lambda: ["schema_migration"])
    destructive_patterns: list[str] = Field(default_factory=lambda: list(DEFAULT_DESTRUCTIVE))
    STATIC = True

    @field_validator("destructive_patterns")
    @classmethod
    def _compiles(cls, value: list[str]) -> list[str]:
        for p in value:
            try:
                re.compile(p)
            except re.error as exc:
                raise ValueError(f"{p!r} is not a regular expression: {exc}") from None
        return value

    def evaluate(self, ctx: EvalContext) -> RuleResult:
        p = ctx.proposal
        declared = bool(p.inputs.get("destructive")) or bool(ctx.spec and ctx.spec.destructive)
        is_migration = p.action in self.actions or bool(
            ctx.spec and ctx.spec.change_kind == "schema_migration")
        if not is_migration:
            return self.proceed(f"{p.action} is not a schema migration")
        found = self._destructive_statement(p.inputs)
        if found and not declared:
            return self.refuse(f"schema drift: {found[0]} is destructive ({found[1]!r}) but "
                               "the migration says destructive=false")
        if declared or found:
            why = f"{found[0]}: {found[1]!r}" if found else "declared destructive"
            return self.review(f"destructive migration ({why}) needs an explicit human "
                               "signature", Needs(1, human=True, signature=True))
        return self.proceed("non-destructive migration")

    def _destructive_statement(self, inputs: Mapping[str, Any]) -> tuple[str, str] | None:
        patterns = [re.compile(p, re.I | re.S) for p in self.destructive_patterns]
        for where, text in _strings(inputs, "inputs"):
            for pat in patterns:
                m = pat.search(text)
                if m:
                    return where, m.group(0)[:60]
        return None


def _strings(value: Any, where: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, Mapping):
        for k, v in value.items():
            yield from _strings(v, f"{where}.{k}")
    elif isinstance(value, list | tuple):
        for i, v in enumerate(value):
            yield from _strings(v, f"{where}[{i}]")


class ReversibleByDefault(Rule):
    """Irreversible actions always need review; reversible ones are reverted
    automatically when their post-execution health fails (``auto_revert``)."""

    type: Literal["reversible"] = "reversible"
    auto_revert: bool = True
    human: bool = True
    STATIC = True

    def evaluate(self, ctx: EvalContext) -> RuleResult:
        spec = ctx.spec
        if spec is None:
            return self.refuse("unregistered action")
        if not spec.reversible:
            return self.review(f"{spec.name} is irreversible", Needs(1, human=self.human))
        how = (f"reverted by {spec.revert_action}" if spec.revert_action
               else "nothing persists to revert")
        auto = "automatically " if self.auto_revert else "not automatically "
        return self.proceed(f"reversible ({how}; {auto}on an unhealthy outcome)",
                            auto_revert=self.auto_revert)


class MemoryWrite(Rule):
    """Every outcome is written back to the tenant's memory before the action closes;
    an action whose tenant has no memory cannot close, so it is refused."""

    type: Literal["memory_write"] = "memory_write"

    def evaluate(self, ctx: EvalContext) -> RuleResult:
        tenant = ctx.proposal.tenant
        if not ctx.state.memory_enabled:
            return self.refuse(f"memory is not enabled for tenant {tenant!r}: its outcome "
                               "could not be written back")
        return self.proceed(f"outcome will be written to tenant {tenant!r}'s memory "
                            "before it closes")


class SignedAudit(Rule):
    """Nothing executes unless its audit entry was written and signed."""

    type: Literal["signed_audit"] = "signed_audit"

    def evaluate(self, ctx: EvalContext) -> RuleResult:
        if not ctx.state.audit_ready:
            return self.refuse("no audit signing key is configured (CCM_AUDIT_KEY or "
                               "CCM_AUDIT_KEY_FILE): nothing can execute")
        return self.proceed("every step is written to the signed audit log first")
