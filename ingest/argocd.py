"""Argo CD notifications (the webhook service of argocd-notifications): syncs as deploys.

Argo CD posts whatever body a notification template renders, so CCM reads the two
bodies Argo CD's documentation builds from its own objects:

- the Application, ``{{toJson .app}}`` (alone or as ``{"app": {{toJson .app}}}``):
  ``metadata.name``, and ``status.operationState``: ``phase``, ``finishedAt``,
  ``message``, ``operation.initiatedBy`` and ``syncResult``;
- the sync result, ``{{toJson .app.status.operationState.syncResult}}`` (the
  documented "on-deployed" example): ``resources`` and ``revision``; it carries no
  time, so it is valid from ``--at`` (for ``POST /v1/ingest/argocd``: when it
  arrived).

A sync whose phase is ``Succeeded`` is a ``deploy`` change of each workload it
applied (a ``Deployment``, ``StatefulSet``, ``DaemonSet``, Argo Rollouts ``Rollout``
or OpenShift ``DeploymentConfig`` in ``syncResult.resources`` whose ``message`` does
not say ``unchanged``), named by the resource's name and resolved like every bare
name. The change is ``change:argocd-<namespace>-<name>-<revision, 12 characters>``,
so one sync posted twice, or in both bodies, is one change; ``version`` is the tag of
the resource's first image (``images``, Argo CD 2.13 and later), else the revision;
``artifact`` is that image. A sync result that lists no workload at all is a deploy
of the Application itself. A sync result body that restates a change already
recorded (posted again, or after its Application's) changes nothing. Other phases (``Running``, ``Failed``, ``Error``), a sync
that left every workload unchanged, and an Application without a sync operation are
skipped and counted.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from graph_schema import FactError
from graph_schema.facts import Fact
from ingest.changes import change_facts
from ingest.core import Batch, Context
from ingest.source import Source
from ingest.webhooks import Tally, get, payload_batches, text, time_of

WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Rollout", "DeploymentConfig")


def notification_facts(ctx: Context, payload: Any, where: str,
                       tally: Tally) -> list[Fact]:
    """The facts of one notification body (see the module doc)."""
    if not isinstance(payload, Mapping):
        raise FactError(where, "(body)", payload, "expected an Argo CD Application or "
                        "sync result (a JSON object)")
    app = payload["app"] if isinstance(payload.get("app"), Mapping) else payload
    if "resources" in app and "metadata" not in app:  # {{toJson ...syncResult}}
        return _sync_facts(ctx, app, None, {}, None, where, tally, "syncResult")
    name = text(app, "metadata.name", where)
    where = f"{where} (application {name})"
    op = get(app, "status.operationState", where, required=False)
    if not isinstance(op, Mapping):
        return tally.skip("Argo CD Application without a sync operation")
    phase = text(op, "phase", where)
    if phase != "Succeeded":
        return tally.skip(f"Argo CD sync {phase}")
    at = time_of(op, "finishedAt", where, required=False) or ctx.at
    attrs: dict[str, Any] = {}
    who = get(op, "operation.initiatedBy", where, required=False)
    if isinstance(who, Mapping):
        user = who.get("username")
        attrs["author"] = user if isinstance(user, str) and user else \
            "argocd automated sync" if who.get("automated") else None
    if isinstance(op.get("message"), str) and op["message"]:
        attrs["description"] = op["message"]
    result = op.get("syncResult")
    if not isinstance(result, Mapping):
        result = {"revision": text(op, "operation.sync.revision", where, required=False)}
    return _sync_facts(ctx, result, name, {k: v for k, v in attrs.items() if v}, at, where,
                       tally, "status.operationState.syncResult")


def _sync_facts(ctx: Context, result: Mapping[str, Any], app: str | None,
                attrs: dict[str, Any], time: int | None, where: str,
                tally: Tally, path: str) -> list[Fact]:
    """Deploys of a sync result's workloads; ``time`` None: the body has no time of its
    own, so a change already recorded (by this body or the Application's) is kept as
    it is rather than restated at ``--at``."""
    at = ctx.at if time is None else time
    revision = text(result, "revision", where, required=False)
    if revision is None and isinstance(result.get("revisions"), list) and result["revisions"]:
        revision = str(result["revisions"][0])
    resources = result.get("resources") or []
    if not isinstance(resources, list):
        raise FactError(where, f"{path}.resources", resources, "expected a list")
    base = {"event_type": "argocd.sync.Succeeded", **attrs}
    if revision:
        base["version"] = revision
    facts: list[Fact] = []
    workloads = 0
    recorded = False
    for i, res in enumerate(resources):
        if not isinstance(res, Mapping):
            raise FactError(where, f"{path}.resources[{i}]", res, "expected a resource")
        if res.get("kind") not in WORKLOAD_KINDS:
            continue
        workloads += 1
        if str(res.get("message") or "").endswith("unchanged"):
            continue
        at_res = f"{where}: {path}.resources[{i}]"
        name = text(res, "name", at_res)
        assert name is not None
        ns = text(res, "namespace", at_res, required=False) or "default"
        if time is None and ctx.resolver.exists(f"change:{_change_id(ns, name, revision)}"):
            recorded = True
            continue
        change_attrs = dict(base)
        images = res.get("images")
        if isinstance(images, list) and images and isinstance(images[0], str):
            change_attrs["artifact"] = images[0]
            change_attrs["version"] = image_tag(images[0]) or base.get("version")
        change_attrs = {k: v for k, v in change_attrs.items() if v is not None}
        facts += change_facts(ctx, change_id=_change_id(ns, name, revision), time=at,
                              change_kind="deploy", target=name,
                              where=at_res, attrs=change_attrs)
    if workloads == 0 and app is not None:
        return change_facts(ctx, change_id=_change_id("app", app, revision), time=at,
                            change_kind="deploy", target=app, where=where, attrs=base)
    if not facts and not recorded:
        return tally.skip("Argo CD sync that changed no workload")
    return facts


def _change_id(namespace: str, name: str, revision: str | None) -> str:
    return f"argocd-{namespace}-{name}-{(revision or 'unknown')[:12]}"


def image_tag(image: str) -> str | None:
    """``ghcr.io/acme/cart:1.4.2`` -> ``1.4.2``; a digest ``...@sha256:ab..`` -> the
    digest; no tag -> None."""
    if "@" in image:
        return image.rsplit("@", 1)[1]
    last = image.rsplit("/", 1)[-1]
    return last.rsplit(":", 1)[1] if ":" in last else None


def names_in(payload: Any) -> list[str]:
    app = payload.get("app") if isinstance(payload.get("app"), Mapping) else payload
    result = get(app, "status.operationState.syncResult", "", required=False) \
        if "metadata" in app else app
    resources = result.get("resources") if isinstance(result, Mapping) else None
    names = [r["name"] for r in resources or [] if isinstance(r, Mapping)
             and isinstance(r.get("name"), str)] if isinstance(resources, list) else []
    app_name = get(app, "metadata.name", "", required=False)
    return names + ([app_name] if isinstance(app_name, str) else [])


class ArgoCDNotifications:
    """The ``argocd`` format."""

    name = "argocd"
    description = "Argo CD notification webhooks ({{toJson .app}} or its syncResult): syncs " \
                  "as deploys"
    order = 46

    def sniff(self, src: Source, head: str) -> bool:
        if not src.named_like(".json", ".jsonl", ".ndjson"):
            return False
        application = '"argoproj.io/' in head and '"Application"' in head
        return application or ('"resources"' in head and '"syncPhase"' in head)

    def read(self, src: Source, ctx: Context) -> Iterator[Batch]:
        return payload_batches(src, ctx, notification_facts, names_in)


ADAPTERS = (ArgoCDNotifications(),)
