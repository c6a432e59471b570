"""GitHub ``deployment_status`` webhooks: a successful deployment is a deploy change.

The payload is GitHub's (``{"action": "created", "deployment_status": {...},
"deployment": {...}, "repository": {...}, ...}``), one per file or per line. A
status whose ``state`` is ``success`` becomes the change
``change:github-deployment-<deployment.id>`` (kind ``deploy``) of the component named
by ``deployment.payload.service`` when the deploying workflow sets it, else by the
repository's name, resolved like every bare name; ``version`` is the deployed commit
(``deployment.sha``), ``environment`` the deployment's, ``author`` its creator, time
``deployment_status.updated_at`` (else ``created_at``). Other states (``queued``,
``pending``, ``in_progress``, ``failure``, ``error``, ``inactive``) change nothing
in production that CCM can name: they are skipped and counted by state, as are the
hook's other events (its ``ping``, ``deployment`` created...).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from graph_schema.facts import Fact
from ingest.changes import change_facts
from ingest.core import Batch, Context
from ingest.source import Source
from ingest.webhooks import Tally, get, payload_batches, text, time_of


def deployment_status_facts(ctx: Context, payload: Any, where: str,
                            tally: Tally) -> list[Fact]:
    """The facts of one ``deployment_status`` payload (see the module doc)."""
    if isinstance(payload, Mapping) and "deployment_status" not in payload:
        # other events of the same hook: its ping, deployments created, ...
        return tally.skip("GitHub ping" if "zen" in payload else
                          "GitHub deployment" if "deployment" in payload else
                          "GitHub webhook without a deployment_status")
    state = text(payload, "deployment_status.state", where)
    if state != "success":
        return tally.skip(f"GitHub deployment_status {state}")
    dep_id = text(payload, "deployment.id", where)
    where = f"{where} (deployment {dep_id})"
    target = service_name(payload, where)
    at = time_of(payload, "deployment_status.updated_at", where, required=False) \
        or time_of(payload, "deployment_status.created_at", where)
    sha = text(payload, "deployment.sha", where, required=False)
    attrs: dict[str, Any] = {"event_type": "github.deployment_status.success"}
    if sha:
        attrs["version"] = sha
        repo = text(payload, "repository.full_name", where, required=False)
        if repo:
            attrs["artifact"] = f"{repo}@{sha}"
    env = text(payload, "deployment_status.environment", where, required=False) \
        or text(payload, "deployment.environment", where, required=False)
    if env:
        attrs["environment"] = env
    author = text(payload, "deployment.creator.login", where, required=False)
    if author:
        attrs["author"] = author
    description = text(payload, "deployment.description", where, required=False) \
        or text(payload, "deployment_status.description", where, required=False)
    if description:
        attrs["description"] = description
    return change_facts(ctx, change_id=f"github-deployment-{dep_id}", time=at or ctx.at,
                        change_kind="deploy", target=target, where=where, attrs=attrs)


def service_name(payload: Any, where: str) -> str:
    """``deployment.payload.service`` if the workflow set it, else the repository name."""
    custom = get(payload, "deployment.payload", where, required=False)
    if isinstance(custom, Mapping) and isinstance(custom.get("service"), str) \
            and custom["service"].strip():
        return str(custom["service"]).strip()
    return str(text(payload, "repository.name", where))


def names_in(payload: Any) -> list[str]:
    custom = get(payload, "deployment.payload", "", required=False)
    name = custom.get("service") if isinstance(custom, Mapping) else None
    name = name or get(payload, "repository.name", "", required=False)
    return [name.strip()] if isinstance(name, str) and name.strip() else []


class GitHubDeployments:
    """The ``github-deployments`` format."""

    name = "github-deployments"
    description = "GitHub deployment_status webhooks: successful deployments as deploys"
    order = 46

    def sniff(self, src: Source, head: str) -> bool:
        return src.named_like(".json", ".jsonl", ".ndjson") and '"deployment_status"' in head \
            and '"deployment"' in head

    def read(self, src: Source, ctx: Context) -> Iterator[Batch]:
        return payload_batches(src, ctx, deployment_status_facts, names_in)


ADAPTERS = (GitHubDeployments(),)
