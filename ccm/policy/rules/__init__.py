"""The policy primitives, one class per rule type (see ``docs/policy.md``)."""

from ccm.policy.rules.access import IdentityBinding, NetworkBoundary, SandboxGrants
from ccm.policy.rules.base import Duration, Rule
from ccm.policy.rules.blast import BlastRadius
from ccm.policy.rules.change import MemoryWrite, ReversibleByDefault, SchemaDrift, SignedAudit
from ccm.policy.rules.limits import CircuitBreaker, RateLimit
from ccm.policy.rules.oversight import (
    LEVELS,
    DriftDetection,
    EarnedAutonomy,
    KillSwitch,
    QuorumGate,
    switch_scopes,
)

RULE_CLASSES: tuple[type[Rule], ...] = (
    KillSwitch, IdentityBinding, SignedAudit, MemoryWrite, SandboxGrants, BlastRadius,
    SchemaDrift, NetworkBoundary, ReversibleByDefault, RateLimit, CircuitBreaker, QuorumGate,
    DriftDetection, EarnedAutonomy,
)

__all__ = [
    "LEVELS", "RULE_CLASSES", "BlastRadius", "CircuitBreaker", "DriftDetection", "Duration",
    "EarnedAutonomy", "IdentityBinding", "KillSwitch", "MemoryWrite", "NetworkBoundary",
    "QuorumGate", "RateLimit", "ReversibleByDefault", "Rule", "SandboxGrants", "SchemaDrift",
    "SignedAudit", "switch_scopes",
]
