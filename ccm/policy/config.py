"""Policy files: a YAML list of typed rules plus the memory settings.

See ``default_policy.yaml`` (shipped with CCM, documented in ``docs/policy.md``).
A bad file is refused with its path, line, field and value.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ccm.audit.redact import RedactionConfig
from ccm.policy.context import EvalContext
from ccm.policy.rules import (
    BlastRadius,
    CircuitBreaker,
    DriftDetection,
    Duration,
    EarnedAutonomy,
    IdentityBinding,
    KillSwitch,
    MemoryWrite,
    NetworkBoundary,
    QuorumGate,
    RateLimit,
    ReversibleByDefault,
    Rule,
    SandboxGrants,
    SchemaDrift,
    SignedAudit,
)
from ccm.policy.types import RuleResult, Verdict
from ccm.yamlconf import YamlDoc, pydantic_error

POLICY_ENV = "CCM_POLICY"

AnyRule = Annotated[
    KillSwitch | IdentityBinding | SignedAudit | MemoryWrite | SandboxGrants | BlastRadius
    | SchemaDrift | NetworkBoundary | ReversibleByDefault | RateLimit | CircuitBreaker
    | QuorumGate | DriftDetection | EarnedAutonomy,
    Field(discriminator="type")]

class MemoryConfig(BaseModel):
    """What memory keeps, for whom, and how strongly it weighs what it saw."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    #: outcomes and incidents older than this are ignored and may be expired
    retention: Duration = 365 * 86400 * 1_000_000
    #: tenants whose outcomes are written back ("*": every tenant)
    tenants: list[str] = Field(default_factory=lambda: ["*"])
    #: pseudo-observations behind a structural propagation probability when memory
    #: writes back a learned one: 2 means one observed propagation over a soft edge
    #: (0.15) moves it to 0.43 (structure is a guess from static attributes)
    propagation_strength: float = Field(default=2.0, gt=0)

    def enabled_for(self, tenant: str) -> bool:
        return "*" in self.tenants or tenant in self.tenants


class ApprovalConfig(BaseModel):
    """How approvals must be authenticated."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    #: accept `ccm approve --as NAME` without the approver's key: the command line has no
    #: bearer token, so an unsigned approval there is only a claimed name
    unsigned_cli: bool = False


class PolicyFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: Literal[1] = 1
    rules: list[AnyRule]
    memory: MemoryConfig = Field(default_factory=MemoryConfig)
    redaction: RedactionConfig = Field(default_factory=RedactionConfig)
    approvals: ApprovalConfig = Field(default_factory=ApprovalConfig)


@dataclass(frozen=True)
class Policy:
    """A loaded policy: evaluate it with :meth:`decide`."""

    rules: tuple[Rule, ...]
    memory: MemoryConfig
    source: str = ""
    #: more secret key and value patterns than the built-in ones (ccm.audit.redact)
    redaction: RedactionConfig = RedactionConfig()
    #: how approvals must be authenticated
    approvals: ApprovalConfig = ApprovalConfig()

    def rule(self, type_name: str) -> Any:
        """The first enabled rule of a type, or None."""
        return next((r for r in self.rules
                     if r.enabled and getattr(r, "type", "") == type_name), None)

    def decide(self, ctx: EvalContext, previous: Verdict | None = None,
               extra: Sequence[RuleResult] = ()) -> Verdict:
        """Evaluate every enabled rule; the verdict is the strictest, with every reason.

        At execution (``ctx.phase == "execute"``) rules that only describe the
        action (``STATIC``) keep their result from ``previous``; the others read
        the current state again.
        """
        kept = {r.rule: r for r in previous.results} if previous else {}
        results = list(extra)
        for rule in self.rules:
            if not rule.enabled:
                continue
            old = kept.get(rule.label) if ctx.phase == "execute" and rule.STATIC else None
            results.append(old if old is not None else rule.evaluate(ctx))
        impact = ctx.impact
        return Verdict.of(results, impact, evaluated_at=ctx.now, phase=ctx.phase)


def default_policy_path() -> Path:
    return Path(str(resources.files("ccm.policy") / "default_policy.yaml"))


def load_policy(path: str | Path | None = None) -> Policy:
    """Read a policy file (default: ``$CCM_POLICY``, else the shipped default)."""
    chosen = path or os.environ.get(POLICY_ENV) or default_policy_path()
    return parse_policy(YamlDoc.read(chosen))


def parse_policy(doc: YamlDoc) -> Policy:
    if not isinstance(doc.data, dict):
        raise doc.error([], "a policy is a mapping with 'version' and 'rules'")
    try:
        parsed = PolicyFile.model_validate(doc.data)
    except ValidationError as exc:
        raise pydantic_error(doc, [], exc) from None
    labels: dict[str, int] = {}
    for i, rule in enumerate(parsed.rules):
        if rule.label in labels:
            raise doc.error(["rules", i, "name"], f"two rules are called {rule.label!r}: "
                            "give one a distinct name", rule.label)
        labels[rule.label] = i
    return Policy(tuple(parsed.rules), parsed.memory, doc.source, parsed.redaction,
                  parsed.approvals)


def policy_from_text(text: str, source: str = "<policy>") -> Policy:
    return parse_policy(YamlDoc(text, source))
