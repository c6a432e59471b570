"""Kubernetes objects as read: the kinds CCM models, parsed and checked (``ingest.k8s``).

A document is an object, or a ``List`` (any ``kind`` ending in ``List``, or no kind,
with ``items``: ``kubectl get -A -o yaml`` prints one) whose items are objects.
Objects of other kinds are counted by kind, never an error.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graph_schema import FactError
from ingest import k8s_istio
from ingest.k8s_lookup import Obj
from ingest.k8s_map import annotation_map, explicit_kind

FORMAT = "k8s"
WORKLOADS = ("Deployment", "StatefulSet", "DaemonSet")
KINDS = (*WORKLOADS, "Service", "ConfigMap", *k8s_istio.KINDS)


def parse_objects(value: Any, where: str, skipped: dict[str, int] | None = None) -> list[Obj]:
    """The handled objects of a YAML document (a ``List`` yields its items); objects of
    other kinds are counted in ``skipped`` as ``"k8s <Kind>"``."""
    if not isinstance(value, Mapping):
        raise FactError(where, "(document)", str(value)[:60], "expected a Kubernetes object")
    kind = value.get("kind")
    if isinstance(value.get("items"), list) and (kind is None or str(kind).endswith("List")):
        out: list[Obj] = []
        for i, item in enumerate(value["items"]):
            out.extend(parse_objects(item, f"{where} items[{i}]", skipped))
        return out
    if kind not in KINDS:
        if skipped is not None:
            what = f"k8s {kind}" if isinstance(kind, str) and kind else "k8s object without kind"
            skipped[what] = skipped.get(what, 0) + 1
        return []
    meta = value.get("metadata")
    if not isinstance(meta, Mapping) or not isinstance(meta.get("name"), str) \
            or not meta["name"]:
        raise FactError(where, "metadata.name", (meta or {}).get("name")
                        if isinstance(meta, Mapping) else meta, "missing")
    ns = meta.get("namespace") or "default"
    if not isinstance(ns, str):
        raise FactError(where, "metadata.namespace", ns, "expected a string")
    obj = Obj(kind, ns, meta["name"], value, f"{where} ({kind} {ns}/{meta['name']})")
    _check_summarised(obj)
    return [obj]


def _check_summarised(obj: Obj) -> None:
    """What the index summarises of every object is checked when it is read, so that a
    bad object is refused alone instead of failing the lookups of the others."""
    anns = annotation_map(obj.meta.get("annotations"))
    if obj.body.get("spec") is not None and not isinstance(obj.body["spec"], Mapping):
        raise FactError(obj.where, "spec", obj.body["spec"], "expected a map")
    if obj.kind in WORKLOADS:
        replicas = obj.spec.get("replicas")
        if replicas is not None and (
                isinstance(replicas, bool) or not isinstance(replicas, int) or replicas < 0):
            raise FactError(obj.where, "spec.replicas", replicas,
                            "expected a count (integer >= 0)")
        pod_meta = obj.pod_template().get("metadata")
        if pod_meta is not None and not isinstance(pod_meta, Mapping):
            raise FactError(obj.where, "spec.template.metadata", pod_meta, "expected a map")
        explicit_kind(obj, anns, annotation_map((pod_meta or {}).get("annotations")))
    elif obj.kind in k8s_istio.KINDS:
        k8s_istio.check(obj)
    elif obj.kind == "Service":
        ports = obj.spec.get("ports")
        if ports is not None and not isinstance(ports, list):
            raise FactError(obj.where, "spec.ports", ports, "expected a list of ports")
        explicit_kind(obj, anns)


def literal_env(obj: Obj) -> dict[str, str]:
    """The literal env values of the first container (what OpenTelemetry reads)."""
    containers = obj.pod_spec().get("containers") or []
    env = containers[0].get("env") if isinstance(containers, list) and containers \
        and isinstance(containers[0], Mapping) else None
    return {str(e["name"]): str(e["value"]) for e in env or () if isinstance(e, Mapping)
            and isinstance(e.get("name"), str) and e.get("value") is not None} \
        if isinstance(env, list) else {}


def containers_or_none(obj: Obj) -> list[Mapping[str, Any]]:
    try:
        return [c for c in obj.containers() if isinstance(c, Mapping)]
    except FactError:  # reported when the object itself is built
        return []


def first_image(obj: Obj) -> Any:
    containers = obj.pod_spec().get("containers") or []
    if isinstance(containers, list) and containers and isinstance(containers[0], Mapping):
        return containers[0].get("image")
    return None
