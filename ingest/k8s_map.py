"""Kubernetes objects -> facts (the transform step of :mod:`ingest.k8s`).

Pure given the run's :class:`~ingest.k8s_index.Index` (seen through
:class:`~ingest.k8s_lookup.Lookup`) (what every object of the run, and
of earlier runs, says): no writes, only name lookups.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from graph_schema import COMPONENT_KINDS, EdgeFact, FactError, NodeFact, parse_time
from graph_schema.facts import Fact
from graph_schema.timeutil import TimeParseError
from ingest import k8s_names
from ingest.changes import config_value_attrs
from ingest.core import PLACEHOLDER_SOURCE, Context
from ingest.hosts import Endpoint, endpoints_in, infer_protocol
from ingest.k8s_lookup import Lookup, Obj, Target

ANN_KIND = "ccm.io/kind"
ANN_ENTRYPOINT = "ccm.io/entrypoint"
#: annotations never stored (kubectl's copy of the whole object)
DROPPED_ANNOTATIONS = ("kubectl.kubernetes.io/last-applied-configuration",)
#: attributes of component nodes only this adapter sets (replaced, never merged)
OWNED = {
    "node": ("namespace", "workload", "image", "version", "replicas", "labels", "annotations",
             "aliases"),
    "DEPENDS_ON": ("evidence",),
    "HAS_CONFIG": ("via", "env"),
    "config": ("owner", "key", "value", "value_hash", "configmap"),
}

# image name token -> (component kind, protocol it speaks)
IMAGE_KINDS: dict[str, tuple[str, str | None]] = {
    **{t: ("cache", "redis") for t in ("redis", "valkey", "keydb", "dragonfly")},
    "memcached": ("cache", "memcached"),
    **{t: ("datastore", "postgresql") for t in ("postgres", "postgresql", "postgis",
                                                "timescaledb", "cockroach")},
    **{t: ("datastore", "mysql") for t in ("mysql", "mariadb", "percona")},
    **{t: ("datastore", "mongodb") for t in ("mongo", "mongodb")},
    **{t: ("datastore", None) for t in ("cassandra", "scylla", "elasticsearch", "opensearch",
                                        "clickhouse", "couchdb", "couchbase", "neo4j",
                                        "influxdb", "etcd", "minio")},
    **{t: ("queue", "amqp") for t in ("rabbitmq", "activemq")},
    **{t: ("queue", "kafka") for t in ("kafka", "redpanda")},
    **{t: ("queue", None) for t in ("nats", "pulsar", "mosquitto", "emqx")},
}
#: image name tokens that mark a helper around a store, not the store
_HELPER_TOKENS = {"exporter", "operator", "proxy", "client", "cli", "ui", "admin",
                  "commander", "insight", "sentinel-exporter", "backup"}


def image_kind(image: Any) -> tuple[str, str | None] | None:
    """``("cache", "redis")`` for ``redis:alpine``; None for application images."""
    if not isinstance(image, str) or not image:
        return None
    repo = image.split("@", 1)[0]
    last = repo.rsplit("/", 1)[-1].split(":", 1)[0].lower()
    tokens = set(re.split(r"[-_.]", last))
    if tokens & _HELPER_TOKENS:
        return None
    for token in re.split(r"[-_.]", last):
        if token in IMAGE_KINDS:
            return IMAGE_KINDS[token]
    return None


def image_version(image: Any) -> str | None:
    if not isinstance(image, str) or "@" in image:
        return None
    last = image.rsplit("/", 1)[-1]
    tag = last.split(":", 1)[1] if ":" in last else None
    return tag if tag and tag != "latest" else None


def object_time(ctx: Context, obj: Obj) -> int:
    """The object's own time: its newest ``managedFields`` write (status writes
    excluded), else ``--at``. ``creationTimestamp`` is not used: facts that changed
    after creation would be backdated to it."""
    fields = obj.meta.get("managedFields")
    best = None
    if isinstance(fields, list):
        for i, entry in enumerate(fields):
            if not isinstance(entry, Mapping) or entry.get("subresource") == "status":
                continue
            value = entry.get("time")
            if value is None:
                continue
            try:
                t = parse_time(value)
            except TimeParseError as exc:
                raise FactError(obj.where, f"metadata.managedFields[{i}].time", value,
                                str(exc)) from None
            best = t if best is None or t > best else best
    return ctx.at if best is None else best


def annotation_map(mapping: Any) -> dict[str, str]:
    if not isinstance(mapping, Mapping):
        return {}
    return {str(k): str(v) for k, v in mapping.items() if k not in DROPPED_ANNOTATIONS}


def explicit_kind(obj: Obj, *annotation_maps: Mapping[str, str]) -> str | None:
    for anns in annotation_maps:
        kind = anns.get(ANN_KIND)
        if kind is not None:
            if kind not in COMPONENT_KINDS:
                raise FactError(obj.where, f"metadata.annotations.{ANN_KIND}", kind,
                                "expected one of " + ", ".join(COMPONENT_KINDS))
            return kind
    return None


def flag(value: str | None) -> bool | None:
    if value is None:
        return None
    return value.strip().lower() in ("true", "1", "yes")


def workload_facts(ctx: Context, idx: Lookup, obj: Obj) -> list[Fact]:
    at = object_time(ctx, obj)
    ref = idx.workload_ref(obj)
    kind, name = ref.split(":", 1)
    template = obj.pod_template()
    pod_meta: Mapping[str, Any] = template["metadata"] \
        if isinstance(template.get("metadata"), Mapping) else {}
    containers = obj.containers()
    attrs: dict[str, Any] = {"namespace": obj.namespace, "workload": obj.kind}
    image = containers[0].get("image") if containers else None
    if isinstance(image, str):
        attrs["image"] = image
        if (version := image_version(image)) is not None:
            attrs["version"] = version
    if obj.spec.get("replicas") is not None:  # a count: checked when read (k8s.py)
        attrs["replicas"] = obj.spec["replicas"]
    labels = pod_meta.get("labels")
    if isinstance(labels, Mapping) and labels:
        attrs["labels"] = {str(k): str(v) for k, v in labels.items()}
    anns = annotation_map(obj.meta.get("annotations"))
    if anns:
        attrs["annotations"] = anns
    entry = idx.entrypoint(obj, anns, annotation_map(pod_meta.get("annotations")))
    if entry is not None:
        attrs["entrypoint"] = entry
    base, members = idx.members(obj)
    if len(members) > 1:
        _versions(attrs, members)
    names = k8s_names.aliases(name, base, obj.namespace, members or [idx.summary(obj)],
                              idx.fronts(obj))
    if names:
        attrs["aliases"] = names
        idx.aliases[obj.source] = dict.fromkeys(names, ref)
    out: list[Fact] = [NodeFact(kind, name, attrs, at, source=obj.source, origin=obj.where)]
    _Env(ctx, idx, obj, ref, at, out).read(containers)
    return out


def _versions(attrs: dict[str, Any], members: list[dict[str, Any]]) -> None:
    """A node that several workloads run (its versions) states them all, the same
    whichever workload states it: the images and versions joined, the replicas added,
    the pod labels they share."""
    for key, value in (("image", k8s_names.joined(m.get("image") for m in members)),
                       ("version", k8s_names.joined(image_version(m.get("image"))
                                                    for m in members))):
        attrs.pop(key, None)
        if value is not None:
            attrs[key] = value
    counts = [m.get("replicas") for m in members]
    attrs.pop("replicas", None)
    if all(isinstance(c, int) for c in counts):
        attrs["replicas"] = sum(c for c in counts if isinstance(c, int))
    shared = dict(members[0].get("labels") or {})
    for m in members[1:]:
        shared = {k: v for k, v in shared.items() if (m.get("labels") or {}).get(k) == v}
    attrs.pop("labels", None)
    if shared:
        attrs["labels"] = shared


class _Env:
    """Config keys and dependencies that a workload's containers read."""

    def __init__(self, ctx: Context, idx: Lookup, obj: Obj, ref: str, at: int,
                 out: list[Fact]) -> None:
        self.ctx, self.idx, self.obj, self.ref, self.at, self.out = ctx, idx, obj, ref, at, out
        self.seen: set[str] = set()
        self.owner = ref.split(":", 1)[1]

    def read(self, containers: list[Mapping[str, Any]]) -> None:
        for c_i, c in enumerate(containers):
            for value, flag_name in flag_values(c):
                self._depends(value, f"argument {flag_name}")
            env = c.get("env") or []
            if not isinstance(env, list):
                raise FactError(self.obj.where, f"containers[{c_i}].env", env, "expected a list")
            for e_i, item in enumerate(env):
                self._env(item, f"containers[{c_i}].env[{e_i}]")
            for item in c.get("envFrom") or []:
                ref = item.get("configMapRef") if isinstance(item, Mapping) else None
                if isinstance(ref, Mapping) and isinstance(ref.get("name"), str):
                    self._configmap(ref["name"], "envFrom", str(item.get("prefix") or ""))
        for vol in self.obj.pod_spec().get("volumes") or []:
            cm = vol.get("configMap") if isinstance(vol, Mapping) else None
            if isinstance(cm, Mapping) and isinstance(cm.get("name"), str):
                self._configmap(cm["name"], "volume", None)

    def _env(self, item: Any, path: str) -> None:
        if not isinstance(item, Mapping) or not isinstance(item.get("name"), str):
            raise FactError(self.obj.where, path, item, "expected {name, value} or valueFrom")
        key = item["name"]
        if "value" in item and item["value"] is not None:
            value = str(item["value"])
            self._config(f"{self.owner}/{key}", {"owner": self.owner, "key": key,
                                                 **config_value_attrs(key, value)},
                         {"via": "env", "env": key})
            self._depends(value, f"env {key}")
            return
        source = item.get("valueFrom")
        if not isinstance(source, Mapping):
            return
        cm_ref = source.get("configMapKeyRef")
        if isinstance(cm_ref, Mapping) and isinstance(cm_ref.get("name"), str):
            cm: str = cm_ref["name"]
            cm_key = str(cm_ref.get("key") or key)
            self._cm_key(cm, cm_key, {"via": "configMapKeyRef", "env": key})
            cm_value = self.idx.configmap_value(self.obj.namespace, cm, cm_key)
            if cm_value is not None:
                self._depends(cm_value, f"env {key}")
        elif isinstance(source.get("secretKeyRef"), Mapping):
            self._config(f"{self.owner}/{key}", {"owner": self.owner, "key": key},
                         {"via": "secretKeyRef", "env": key})

    def _configmap(self, cm: str, via: str, prefix: str | None) -> None:
        keys = self.idx.configmap_keys(self.obj.namespace, cm)
        for cm_key, value in sorted((keys or {}).items()):
            edge: dict[str, Any] = {"via": via}
            if prefix is not None:
                edge["env"] = prefix + cm_key
            self._cm_key(cm, cm_key, edge)
            if value is not None and via == "envFrom":
                self._depends(value, f"env {prefix or ''}{cm_key}")

    def _cm_key(self, cm: str, cm_key: str, edge: dict[str, Any]) -> None:
        owner = self.idx.node_name("ConfigMap", cm, self.obj.namespace)
        cfg = f"config:{owner}/{cm_key}"
        known = self.idx.configmap_keys(self.obj.namespace, cm)
        if (known is None or cm_key not in known) and not self.ctx.resolver.exists(cfg):
            # a placeholder until the ConfigMap is ingested: no owner source, never closed
            self._config(f"{owner}/{cm_key}", {"owner": owner, "key": cm_key, "configmap": cm},
                         edge, source=PLACEHOLDER_SOURCE)
            return
        self._has_config(cfg, edge)

    def _config(self, name: str, attrs: dict[str, Any], edge: dict[str, Any],
                source: str | None = None) -> None:
        cfg = f"config:{name}"
        if cfg in self.seen:
            return
        self.seen.add(cfg)
        self.ctx.resolver.note(cfg)
        self.out.append(NodeFact("config", name, attrs, self.at,
                                       source=self.obj.source if source is None else source,
                                       origin=self.obj.where))
        self._has_config(cfg, edge)

    def _has_config(self, cfg: str, edge: dict[str, Any]) -> None:
        fid = f"{self.ref}|HAS_CONFIG|{cfg}"
        if fid in self.seen:
            return
        self.seen.add(fid)
        self.out.append(EdgeFact("HAS_CONFIG", self.ref, cfg, edge, self.at,
                                       source=self.obj.source, origin=self.obj.where))

    def _depends(self, value: str, what: str) -> None:
        for ep in endpoints_in(value):
            target = self.idx.resolve_host(self.obj.namespace, ep)
            if target is None or target.ref == self.ref:
                continue
            fid = f"{self.ref}|DEPENDS_ON|{target.ref}"
            if fid in self.seen:
                continue
            self.seen.add(fid)
            attrs: dict[str, Any] = {
                "evidence": f"{what} of {self.obj.kind} {self.obj.namespace}/{self.obj.name}"}
            protocol = _protocol(ep, target)
            if protocol:
                attrs["protocol"] = protocol
            self.out.append(EdgeFact("DEPENDS_ON", self.ref, target.ref, attrs, self.at,
                                           source=self.obj.source, origin=self.obj.where))


def flag_values(container: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``(value, flag)`` for each word of a container's ``command`` and ``args`` that may
    name a host: ``--backend=http://foo:8080`` -> ``http://foo:8080``; ``-addr
    foo:6379`` (one item or two) -> ``foo:6379``, named after the flag before it."""
    words: list[str] = []
    for key in ("command", "args"):
        items = container.get(key)
        if isinstance(items, list):
            words.extend(w for item in items if isinstance(item, (str, int))
                         for w in str(item).split())
    out: list[tuple[str, str]] = []
    last_flag = "(positional)"
    for word in words:
        if word.startswith("-"):
            name, sep, value = word.partition("=")
            last_flag = name
            if sep and value:
                out.append((value, name))
        else:
            out.append((word, last_flag))
            last_flag = "(positional)"
    return out


def _protocol(ep: Endpoint, target: Target) -> str | None:
    port_name = app_protocol = None
    for port, name, app in target.ports:
        if ep.port is None or port == ep.port:
            port_name, app_protocol = name, app
            break
    return infer_protocol(scheme=ep.scheme, port=ep.port, app_protocol=app_protocol,
                          port_name=port_name, target_protocol=target.protocol)


def service_facts(ctx: Context, idx: Lookup, obj: Obj) -> list[Fact]:
    """A Service gives a node only when nothing runs behind it here: ExternalName
    (an ``external`` node) or no selector (its ``ccm.io/kind``, default external)."""
    spec = obj.spec
    anns = annotation_map(obj.meta.get("annotations"))
    kind = explicit_kind(obj, anns)
    runs_here = spec.get("type") != "ExternalName" and spec.get("selector")
    if runs_here and (kind is None or idx.selected_workloads(obj)):
        return []
    at = object_time(ctx, obj)
    attrs: dict[str, Any] = {"namespace": obj.namespace}
    if anns:
        attrs["annotations"] = anns
    node = NodeFact(kind or "external", obj.name, attrs, at, source=obj.source,
                    origin=obj.where)
    ctx.resolver.note(f"{node.kind}:{node.name}")
    return [node]


def configmap_facts(ctx: Context, idx: Lookup, obj: Obj) -> list[Fact]:
    at = object_time(ctx, obj)
    data = obj.body.get("data") or {}
    if not isinstance(data, Mapping):
        raise FactError(obj.where, "data", data, "expected a map of key: value")
    owner = idx.node_name("ConfigMap", obj.name, obj.namespace)
    out: list[Fact] = []
    for key, value in sorted(data.items(), key=lambda kv: str(kv[0])):
        key = str(key)
        attrs = {"owner": owner, "key": key, "configmap": obj.name,
                 **config_value_attrs(key, value)}
        ctx.resolver.note(f"config:{owner}/{key}")
        out.append(NodeFact("config", f"{owner}/{key}", attrs, at, source=obj.source,
                            origin=obj.where))
    return out
