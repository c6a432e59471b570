"""ccm.policy: typed rules over a proposed action and its predicted impact.

``Policy.decide(ctx)`` returns a :class:`Verdict`: proceed, review or refuse (the
strictest rule's), with every rule's reason and the predicted blast radius. What the
rules read lives here too: the action registry (:mod:`ccm.policy.registry`), signed
proposals (:mod:`ccm.policy.proposal`) and identities (:mod:`ccm.policy.identities`).
"""

from ccm.policy.config import MemoryConfig, Policy, load_policy, policy_from_text
from ccm.policy.context import EvalContext, Grant, PolicyState, Switch
from ccm.policy.impact import ImpactLike, ImpactSummary
from ccm.policy.types import DECISIONS, PROCEED, REFUSE, REVIEW, Needs, RuleResult, Verdict

__all__ = [
    "DECISIONS", "PROCEED", "REFUSE", "REVIEW", "EvalContext", "Grant", "ImpactLike",
    "ImpactSummary", "MemoryConfig", "Needs", "Policy", "PolicyState", "RuleResult",
    "Switch", "Verdict", "load_policy", "policy_from_text",
]
