"""GitOps history is change history: what re-ingesting a manifest changed.

An object read again is compared with what the last ingest of it saved (its summary,
see :class:`ingest.k8s_index.Index`); each difference becomes a change (through
:func:`ingest.changes.change_facts`, so RCA ranks it like any other), at the object's
time (its newest ``managedFields`` write, else ``--at``):

- a workload's image -> a ``deploy`` of its node, id :func:`deploy_change_id` (the id
  a CDEvents deploy of the same version gets: the two are one change, and one a
  CDEvents event already recorded is not stated again), with ``version``,
  ``previous_version`` and ``artifact`` (the new image);
- its replicas or container resources -> a ``capacity`` change with ``diff``
  ``[{key, old, new}]`` (``replicas``, ``resources.<container>``);
- a ConfigMap's values -> a ``config_change`` changing each key's ``config:`` node,
  with the old and new values in ``diff`` (keys whose values are stored only as a
  hash are not compared).

An object seen for the first time is no change (its first ingest states what runs).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from graph_schema import EdgeFact, NodeFact
from graph_schema.facts import Fact
from ingest.changes import change_facts, deploy_change_id, deploy_recorded
from ingest.core import Context
from ingest.k8s_lookup import Lookup, Obj
from ingest.k8s_map import image_version, object_time


def change_facts_of(ctx: Context, idx: Lookup, obj: Obj) -> list[Fact]:
    """The changes re-reading ``obj`` shows (none the first time it is read)."""
    before = idx.previous(obj.source)
    if before is None or before.get("kind") != obj.kind:
        return []
    now = idx.summary(obj, with_ref=False)
    at = object_time(ctx, obj)
    if obj.kind == "ConfigMap":
        return _config_change(ctx, idx, obj, before, now, at)
    if "image" not in now or obj.kind == "Service":
        return []
    ref = idx.workload_ref(obj)
    ctx.resolver.note(ref)
    out: list[Fact] = []
    old_image, new_image = before.get("image"), now.get("image")
    if old_image is not None and new_image is not None and old_image != new_image:
        version = image_version(new_image)
        attrs: dict[str, Any] = {"artifact": new_image, "description":
                                 f"{obj.kind} {obj.namespace}/{obj.name}: image {old_image} "
                                 f"-> {new_image}"}
        if version is not None:
            attrs["version"] = version
        if (previous := image_version(old_image)) is not None:
            attrs["previous_version"] = previous
        change_id = deploy_change_id(ref, version or _digest(new_image))
        if not deploy_recorded(ctx, ref, version or _digest(new_image), at):
            out += change_facts(ctx, change_id=change_id, time=at, change_kind="deploy",
                                target=ref, where=obj.where, attrs=attrs)
    diff = [{"key": key, "old": before.get(field), "new": now.get(field)}
            for key, field in (("replicas", "replicas"),)
            if "replicas" in before and before.get(field) != now.get(field)]
    old_res, new_res = before.get("resources"), now.get("resources") or {}
    if isinstance(old_res, Mapping):
        diff += [{"key": f"resources.{c}", "old": old_res.get(c), "new": new_res.get(c)}
                 for c in sorted(set(old_res) | set(new_res))
                 if old_res.get(c) != new_res.get(c)]
    if diff:
        out += change_facts(ctx, change_id=f"capacity-{ref.split(':', 1)[1]}-{at}", time=at,
                            change_kind="capacity", target=ref, where=obj.where,
                            attrs={"diff": diff, "description": f"{obj.kind} {obj.namespace}/"
                                   f"{obj.name}: " + ", ".join(str(d["key"]) for d in diff)})
    return out


def _config_change(ctx: Context, idx: Lookup, obj: Obj, before: Mapping[str, Any],
                   now: Mapping[str, Any], at: int) -> list[Fact]:
    old, new = before.get("keys") or {}, now.get("keys") or {}
    changed = sorted(k for k in old if k in new and old[k] is not None
                     and new[k] is not None and old[k] != new[k])
    if not changed:
        return []
    owner = idx.node_name("ConfigMap", obj.name, obj.namespace)
    # (values of secret-looking keys are not in summaries: never compared, never shown)
    diff = [{"key": k, "old": old[k], "new": new[k]} for k in changed]
    targets = [f"config:{owner}/{k}" for k in changed]
    for t in targets:
        ctx.resolver.note(t)
    change_id = f"config-{owner}-{at}"
    out = change_facts(ctx, change_id=change_id, time=at, change_kind="config_change",
                       target=targets[0], where=obj.where,
                       attrs={"keys": changed, "diff": diff,
                              "description": f"ConfigMap {obj.namespace}/{obj.name}: "
                                             + ", ".join(changed)})
    out += [EdgeFact("CHANGED", f"change:{change_id}", t, {"keys": [t.rsplit("/", 1)[1]]}, at,
                     origin=obj.where) for t in targets[1:]]
    return out


def merged(facts: list[Fact]) -> list[Fact]:
    """``facts`` with each change stated once: the versions of one node deployed
    together (Bookinfo's reviews-v1..v3 to one version) are one change whose
    ``description`` and ``artifact`` name them all."""
    out: list[Fact] = []
    first: dict[str, int] = {}
    for f in facts:
        key = f.fact_id if isinstance(f, (NodeFact, EdgeFact)) else None
        if key is None or key not in first:
            if key is not None:
                first[key] = len(out)
            out.append(f)
            continue
        had = out[first[key]]
        if isinstance(f, NodeFact) and isinstance(had, NodeFact) and f.attrs != had.attrs:
            attrs = dict(had.attrs)
            for k in ("description", "artifact"):
                if k in f.attrs and f.attrs[k] != attrs.get(k):
                    attrs[k] = f"{attrs[k]}; {f.attrs[k]}" if k in attrs else f.attrs[k]
            out[first[key]] = replace(had, attrs=attrs)
    return out


def _digest(image: str) -> str:
    return hashlib.sha256(image.encode()).hexdigest()[:12]


def resources_of(containers: list[Mapping[str, Any]]) -> dict[str, str]:
    """Each container's ``resources`` as canonical JSON, by container name."""
    return {str(c.get("name")): json.dumps(c["resources"], sort_keys=True, default=str)
            for c in containers if isinstance(c.get("resources"), Mapping) and c["resources"]}
