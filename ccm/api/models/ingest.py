"""Requests and responses of the ingest endpoints."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class IngestOut(BaseModel):
    """What ingesting one request body did (every batch is written whole or not at all)."""

    ok: bool = Field(description="false when some batches were rejected (see errors)")
    format: str
    source: str = Field(description="the source name (per-source state such as a "
                                    "manifest set's last snapshot is kept under it)")
    added: int
    unchanged: int
    closed: int
    rejected: int
    batches: int
    errors: list[str]
    revision: int | None = Field(default=None, description=(
        "the store's revision once this body was written: an answer computed on this "
        "revision or a later one includes it"))
    skipped: dict[str, int] = Field(default_factory=dict, description=(
        "records read but deliberately not modelled, counted by what they are"))
    notes: list[str] = Field(default_factory=list, description="remarks that are not errors")


class AlertmanagerAlert(BaseModel):
    """One alert of an Alertmanager webhook (fields as Alertmanager sends them). Its
    fields are checked by ingest, alert by alert: a bad alert is rejected alone, an
    alert without ``status`` takes the payload's."""

    model_config = ConfigDict(extra="allow")

    status: str | None = Field(default=None, examples=["firing"])
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    startsAt: str | None = Field(default=None,  # noqa: N815
                                 examples=["2026-03-05T09:41:00.000Z"])
    endsAt: str | None = Field(default=None, examples=["0001-01-01T00:00:00Z"])  # noqa: N815
    generatorURL: str | None = None  # noqa: N815
    fingerprint: str | None = None


class AlertmanagerWebhook(BaseModel):
    """Alertmanager's webhook payload, version 4, exactly as Alertmanager posts it."""

    model_config = ConfigDict(extra="allow")

    version: str = Field(default="4", examples=["4"])
    groupKey: str | None = None  # noqa: N815
    truncatedAlerts: int | None = None  # noqa: N815
    status: str | None = Field(default=None, examples=["firing"])
    receiver: str | None = None
    groupLabels: dict[str, str] = Field(default_factory=dict)  # noqa: N815
    commonLabels: dict[str, str] = Field(default_factory=dict)  # noqa: N815
    commonAnnotations: dict[str, str] = Field(default_factory=dict)  # noqa: N815
    externalURL: str | None = None  # noqa: N815
    alerts: list[AlertmanagerAlert] = Field(max_length=100_000)


def report_dict(report: Any, source: str) -> dict[str, Any]:
    d = report.to_dict()
    d.pop("path", None)
    return {"ok": report.ok, "source": source, **d}
