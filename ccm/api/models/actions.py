"""Requests and responses of the action endpoints: impact (dry run), the lifecycle, and the
registry of actions an agent may propose."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Text = Annotated[str, Field(max_length=2000)]
Ref = Annotated[str, Field(min_length=3, max_length=1000, examples=["service:cartservice"])]


class ActionRequest(BaseModel):
    """An action to evaluate: a registered action, its target and its typed inputs."""

    model_config = ConfigDict(extra="forbid")

    action: str = Field(min_length=1, max_length=64, examples=["config_change"],
                        description="a registered action (GET /v1/registry lists them)")
    target: Ref
    inputs: dict[str, Any] = Field(default_factory=dict, examples=[{
        "key": "REDIS_ADDR", "value": "redis-cart:6379,syncTimeout=50",
        "previous_value": "redis-cart:6379"}],
        description="the action's inputs, checked against its JSON Schema in the registry")
    model: Text = Field(default="", description="the agent's model, for the audit")
    model_version: Text = ""
    session: Text = Field(default="", description="the agent's session (plan) id")
    step: int = Field(default=1, ge=1, le=10_000, description="this action's step in the plan")
    plan_length: int = Field(default=1, ge=1, le=10_000)
    reason: Text = Field(default="", description="why (stored as data, never interpreted)")


class ProposalRequest(ActionRequest):
    """A proposal. Signed proposals carry every signed field as signed (``created_at`` in
    microseconds, ``nonce``, ``agent``, ``tenant``) and the Ed25519 ``signature``."""

    agent: str | None = Field(default=None, max_length=200, description=(
        "who proposes: must be the token's identity (default)"))
    tenant: str | None = Field(default=None, max_length=200, description=(
        "must be the token's tenant (default)"))
    created_at: int | None = Field(default=None, ge=0, le=2**62,
                                   description="microseconds since the epoch (default: now)")
    nonce: Text = Field(default="", description="tells two otherwise identical proposals apart")
    signature: str = Field(default="", max_length=200,
                           description="base64 Ed25519 signature by the agent's registered key")


class ImpactRequest(ProposalRequest):
    """A dry run: what would proposing this action (signed or not) say now?"""

    at: str | None = Field(default=None, max_length=64, description=(
        "valid time of the graph the prediction runs on (default: now)"))


class ApprovalRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: Text = Field(default="", description="why (stored as data)")
    signature: str | None = Field(default=None, max_length=200, description=(
        "base64 Ed25519 signature of the approval payload by the approver's registered key "
        "(a destructive migration needs a signed human approval)"))


class OutcomeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    healthy: bool = Field(description="what was observed after the action ran")
    impacted: list[Ref] = Field(default_factory=list, max_length=10_000,
                                description="nodes observed impacted")
    note: Text = ""


class RuleOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    rule: str
    type: str
    decision: Literal["proceed", "review", "refuse"]
    reason: str


class ImpactSummaryOut(BaseModel):
    """The predicted blast radius (figures given failure, and ``p_fail``)."""

    model_config = ConfigDict(extra="allow")

    p_fail: float
    services_mean: float
    services_p50: float
    services_p95: float
    traffic_mean: float
    traffic_p50: float
    traffic_p95: float
    node_probabilities: dict[str, float] = Field(description="the most likely impacted nodes")
    paths: dict[str, list[str]] = Field(description=(
        "entrypoint -> most probable path to it, for the (at most 100) likeliest impacted "
        "entrypoints"))
    paths_total: int | None = Field(default=None, description=(
        "how many impacted entrypoints have a path (all of them, not only those listed)"))
    reach: float | None = Field(default=None, description=(
        "upper bound of P(the failure reaches some entrypoint), from every path"))
    samples: int
    seed: int | None


class VerdictOut(BaseModel):
    """The strictest rule's decision, every rule's reason, and the predicted impact."""

    model_config = ConfigDict(extra="allow")

    decision: Literal["proceed", "review", "refuse"]
    needs: dict[str, Any]
    dry_run: bool
    evaluated_at: int
    phase: str
    results: list[RuleOut]
    impact: ImpactSummaryOut | None


class ImpactOut(BaseModel):
    """What proposing the action would say now; nothing was recorded."""

    action_id: str = Field(description="the id the action would get if proposed as is")
    proposal: dict[str, Any]
    verdict: VerdictOut
    timings: dict[str, float] | None = None
    impact_note: str | None = Field(default=None, description="why there is no prediction")


class ActionOut(BaseModel):
    """An action's lifecycle record (state, verdict, approvals, execution, outcome)."""

    model_config = ConfigDict(extra="allow")

    id: str
    tenant: str
    state: str
    proposal: dict[str, Any]
    verdict: VerdictOut | None = None
    approvals: list[dict[str, Any]] = []
    history: list[dict[str, Any]] = []


class ActionList(BaseModel):
    actions: list[ActionOut]


class RegistryOut(BaseModel):
    """Every action an agent may propose, with its input JSON Schema."""

    actions: list[dict[str, Any]]
