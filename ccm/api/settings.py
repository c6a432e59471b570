"""The service's settings: one validated object, from ``CCM_*`` environment variables.

Secrets come only from the environment or files: bearer tokens are configured as
SHA-256 hashes (``CCM_API_TOKENS_FILE`` or ``CCM_API_TOKENS``, see
:mod:`ccm.api.auth`), never as plain tokens.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from ccm.actions import impact

__all__ = ["Settings", "get_settings"]


class Settings(BaseSettings):
    """Everything ``ccm serve`` and ``ccm mcp`` read from the environment (prefix ``CCM_``)."""

    model_config = SettingsConfigDict(env_prefix="CCM_", extra="ignore", frozen=True)

    #: the store: a SQLite path, ``bolt://``/``neo4j://`` URI, or ``neo4j`` (NEO4J_URI)
    store: str | None = None
    #: a YAML file of token hashes -> identity, role, scopes, tenant
    api_tokens_file: Path | None = None
    #: the same entries as JSON (a list), for deployments that inject one variable
    api_tokens: str | None = None
    #: serve without tokens: requests without one act as the ``dev`` admin (loopback only)
    insecure_dev: bool = False
    #: host names (comma-separated) requests may name in ``Host``; ``*``: any. With
    #: ``insecure_dev`` only loopback names are answered, whatever this says
    allowed_hosts: str = "*"
    #: the largest request body accepted by the ingest endpoints
    max_body_bytes: int = Field(default=32 * 1024 * 1024, ge=1024)
    #: require a valid token for /metrics (default: public, it holds no graph data)
    metrics_auth: bool = False
    #: most nodes ``GET /v1/graph`` returns in one response
    graph_limit: int = Field(default=50_000, ge=1)
    #: seconds a compiled snapshot of "now" answers later requests while the store is
    #: unchanged (0: compile for every request; see ccm.ops.snapshots)
    snapshot_reuse_s: float = Field(default=60.0, ge=0, le=3600)
    #: impact predictions (POST /v1/impact, POST /v1/actions) computed at once; more wait
    #: their turn in arrival order (on few cores, more at once only contend for the GIL)
    impact_concurrency: int = Field(default=2, ge=1, le=64)
    #: Monte Carlo cascades per impact prediction, at most (fewer: faster on large blast
    #: radii, wider error on the p95 figures; see benchmarks/README.md)
    impact_samples: int = Field(default=impact.SAMPLES, ge=64, le=100_000)
    #: the relative precision (95 % confidence) at which a prediction stops drawing
    #: cascades before impact_samples; 0: always draw them all
    impact_precision: float = Field(default=impact.PRECISION, ge=0, le=0.5)
    #: the action registry (YAML; default: the shipped set)
    actions: Path | None = None
    #: the policy (YAML; default: the shipped policy)
    policy: Path | None = None
    #: the audit signing key (base64 Ed25519), or a file holding it; without one nothing
    #: executes (the audit log could not sign it)
    audit_key: SecretStr | None = None
    audit_key_file: Path | None = None
    #: a file, outside the store, every signed audit head is also appended to; verifying
    #: the log compares it with the latest one (ccm.audit.witness)
    audit_witness: Path | None = None
    #: a YAML file of ``AlertName: signal`` overrides for ingested alerts (as ``ccm
    #: ingest --signals``)
    alert_signals: Path | None = None
    #: a YAML file replacing the alert target rules (as ``ccm ingest --alert-targets``)
    alert_targets: Path | None = None
    #: tune this process's garbage collector (ccm.ops.collector): for a server that
    #: owns its process (``ccm serve`` sets it); off for an app built inside a host
    gc_tuning: bool = False
    #: serve the read-only web view at / (docs/web.md)
    web: bool = True
    #: a read-only token the server hands to the web page: an explicit opt-in (docs/web.md)
    web_token_file: Path | None = None
    #: host names (comma-separated) the page may be loaded as to be handed that token
    web_allowed_hosts: str = "localhost,127.0.0.1,::1"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings from the environment, read once (tests build their own)."""
    return Settings()
