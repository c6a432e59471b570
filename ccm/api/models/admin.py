"""Requests and responses of the admin, audit and memory endpoints."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class SwitchRequest(BaseModel):
    """Throw or release a kill switch: ``paused`` stops execution in its scope, ``dry_run``
    runs actions without effect. An omitted field keeps its value."""

    model_config = ConfigDict(extra="forbid")

    paused: bool | None = None
    dry_run: bool | None = None
    reason: str = Field(default="", max_length=2000)


class SwitchOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    scope: str
    paused: bool
    dry_run: bool
    warning: str | None = None


class SwitchList(BaseModel):
    switches: list[dict[str, Any]]


class GrantRequest(BaseModel):
    """Give an agent write access to targets for actions, until a time."""

    model_config = ConfigDict(extra="forbid")

    agent: str = Field(min_length=1, max_length=200, examples=["deploy-bot"])
    actions: list[str] = Field(min_length=1, max_length=100, examples=[["restart"]])
    targets: list[str] = Field(min_length=1, max_length=1000, examples=[["service:cart*"]])
    expires_at: str = Field(max_length=64, examples=["2026-04-02T00:00:00Z"],
                            description="ISO 8601 time, or now+<duration> is not accepted")
    reason: str = Field(default="", max_length=2000)


class GrantOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str
    agent: str
    actions: list[str]
    targets: list[str]
    expires_at: int


class GrantList(BaseModel):
    grants: list[dict[str, Any]]


class AuditPage(BaseModel):
    entries: list[dict[str, Any]]
    next_after: int | None = Field(description="pass as ?after= for the next page")


class VerifyOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    ok: bool
    entries: int
    first_bad: int | None
    problems: list[str]


class MemoryActions(BaseModel):
    tenant: str
    actions: list[dict[str, Any]]
