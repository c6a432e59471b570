"""Kubernetes manifests: Deployment, StatefulSet, DaemonSet, Service, ConfigMap.

Multi-document YAML (``---``), ``kind: List``, or JSON as ``kubectl get -o json``
prints it. Other kinds are ignored. The mapping (see ``docs/ingest.md``):

- a workload is a component node named after it: ``ccm.io/kind`` decides the kind,
  else its first container's image (redis -> cache, postgres -> datastore, kafka ->
  queue...), else an existing node of that name, else ``service``;
- a container env var whose value names a workload or Service of the run (or a
  component already in the store) is a ``DEPENDS_ON`` edge, its protocol from the
  URL scheme, the Service port's ``appProtocol``/name or a well-known port; a
  Service name stands for the workloads its selector picks;
- env values, ``configMapKeyRef``, ``envFrom`` and ConfigMap volumes are
  ``HAS_CONFIG`` edges to ``config:`` nodes (a ConfigMap's keys are
  ``config:<configmap>/<key>``; a literal env var is ``config:<workload>/<VAR>``);
- a workload is an entrypoint when annotated ``ccm.io/entrypoint: "true"``, or when
  a LoadBalancer or NodePort Service (or one annotated so) selects it.

Every object is a snapshot source ``k8s:<namespace>/<Kind>/<name>``: re-ingesting
closes what it no longer says (:mod:`ingest.snapshot`). Facts are valid from the
object's newest ``metadata.managedFields`` time, else from ``--at``. Objects are
built once every manifest of the run was read, so a Deployment may refer to a
Service in another file.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from graph_schema import COMPONENT_KINDS, FactError
from ingest import k8s_map
from ingest.changes import config_value_attrs
from ingest.core import Batch, Context
from ingest.hosts import Endpoint
from ingest.k8s_map import Target, annotation_map, explicit_kind, flag, image_kind
from ingest.records import each_record
from ingest.snapshot import Membership, Snapshot, Unbuilt, record_key, replace_all, saved_summaries
from ingest.source import ManifestObject, Source, iter_yaml_documents

WORKLOADS = ("Deployment", "StatefulSet", "DaemonSet")
KINDS = (*WORKLOADS, "Service", "ConfigMap")
FORMAT = "k8s"
_SNIFF_YAML = re.compile(r"^kind:\s*[\"']?(Deployment|StatefulSet|DaemonSet|Service|ConfigMap|"
                         r"List)[\"']?\s*$", re.M)
_SNIFF_API = re.compile(r"^apiVersion:\s*[\"']?(apps/v1|v1)[\"']?\s*$", re.M)
_SNIFF_JSON = re.compile(r"\"apiVersion\"\s*:\s*\"(apps/v1|v1)\"")
_ENTRY_TYPES = ("LoadBalancer", "NodePort")
#: kinds whose objects name nodes, grouped by the nodes' name space
_NAME_GROUP = {**{k: "workload" for k in WORKLOADS}, "ConfigMap": "ConfigMap"}


class Obj(ManifestObject):
    """One Kubernetes object of a handled kind."""

    @property
    def source(self) -> str:
        return f"k8s:{self.namespace}/{self.kind}/{self.name}"

    def pod_template(self) -> Mapping[str, Any]:
        t = self.spec.get("template")
        return t if isinstance(t, Mapping) else {}

    def pod_spec(self) -> Mapping[str, Any]:
        s = self.pod_template().get("spec")
        return s if isinstance(s, Mapping) else {}

    def containers(self) -> list[Mapping[str, Any]]:
        spec = self.pod_spec()
        out: list[Mapping[str, Any]] = []
        for key in ("containers", "initContainers"):
            items = spec.get(key) or []
            if not isinstance(items, list) or not all(isinstance(c, Mapping) for c in items):
                raise FactError(self.where, f"spec.template.spec.{key}", items,
                                "expected a list of containers")
            out.extend(items)
        return out


def parse_objects(value: Any, where: str) -> list[Obj]:
    """The handled objects of a YAML document (a ``List`` yields its items)."""
    if not isinstance(value, Mapping):
        raise FactError(where, "(document)", str(value)[:60], "expected a Kubernetes object")
    kind = value.get("kind")
    if isinstance(kind, str) and kind.endswith("List") and isinstance(value.get("items"), list):
        items = value.get("items") or []
        out: list[Obj] = []
        for i, item in enumerate(items):
            out.extend(parse_objects(item, f"{where} items[{i}]"))
        return out
    if kind not in KINDS:
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
    elif obj.kind == "Service":
        ports = obj.spec.get("ports")
        if ports is not None and not isinstance(ports, list):
            raise FactError(obj.where, "spec.ports", ports, "expected a list of ports")
        explicit_kind(obj, anns)


class Index:
    """What the run's manifests (and earlier runs' saved summaries) say, for lookups."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.objs: dict[str, Obj] = {}
        self.files: set[str] = set()
        self._view: dict[str, dict[str, Any]] | None = None
        self._refs: dict[str, str] = {}
        #: sources of this run whose batch was refused (see ``_members``)
        self.unbuilt = Unbuilt()

    def add(self, obj: Obj, src: Source) -> None:
        self.objs[obj.source] = obj
        self.files.add(record_key(FORMAT, src.key))
        self._view = None

    # -- the combined view ------------------------------------------------------------
    def view(self) -> dict[str, dict[str, Any]]:
        if self._view is None:
            view = dict(saved_summaries(self.ctx, FORMAT, skip=self.files))
            view.update({s: self.summary(o, with_ref=False) for s, o in self.objs.items()})
            self._view = view
            self._index_labels(view)
        return self._view

    def _index_labels(self, view: dict[str, dict[str, Any]]) -> None:
        """Workloads by pod label and Services by selector label, per namespace, so that
        matching selectors costs a few lookups instead of a scan of every object; and
        the namespaces of each workload and ConfigMap name (see :meth:`namesake`)."""
        self._workloads_by_label: dict[tuple[str, str, str], set[str]] = {}
        self._services_by_label: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
        self._named: dict[tuple[str, str], dict[str, str]] = {}
        for source, doc in view.items():
            group = _NAME_GROUP.get(doc.get("kind", ""))
            if group is not None:
                self._named.setdefault((group, doc["name"]), {}).setdefault(doc["ns"], source)
            if doc.get("kind") in WORKLOADS:
                for k, v in (doc.get("labels") or {}).items():
                    self._workloads_by_label.setdefault((doc["ns"], k, v), set()).add(source)
            elif doc.get("kind") == "Service" and doc.get("selector"):
                k, v = next(iter(sorted(doc["selector"].items())))
                self._services_by_label.setdefault((doc["ns"], k, v), []).append(doc)

    def summary(self, obj: Obj, with_ref: bool = True) -> dict[str, Any]:
        """What later runs need to know about ``obj`` (saved per file)."""
        doc: dict[str, Any] = {"kind": obj.kind, "ns": obj.namespace, "name": obj.name}
        anns = annotation_map(obj.meta.get("annotations"))
        if obj.kind in WORKLOADS:
            labels = (obj.pod_template().get("metadata") or {}).get("labels") or {}
            doc["labels"] = {str(k): str(v) for k, v in labels.items()} \
                if isinstance(labels, Mapping) else {}
            if with_ref:
                try:
                    doc["ref"] = self.workload_ref(obj)
                except FactError:  # reported when the object itself is built
                    doc["ref"] = None
            ik = image_kind(_first_image(obj))
            doc["protocol"] = ik[1] if ik else None
        elif obj.kind == "Service":
            spec = obj.spec
            sel = spec.get("selector")
            doc["selector"] = {str(k): str(v) for k, v in sel.items()} \
                if isinstance(sel, Mapping) else {}
            doc["type"] = spec.get("type") or "ClusterIP"
            doc["ports"] = [[p.get("port"), p.get("name"), p.get("appProtocol")]
                            for p in spec.get("ports") or [] if isinstance(p, Mapping)]
            doc["entrypoint"] = anns.get(k8s_map.ANN_ENTRYPOINT)
            doc["ccm_kind"] = anns.get(k8s_map.ANN_KIND)
        else:
            data = obj.body.get("data") or {}
            doc["keys"] = {str(k): (None if "value_hash" in config_value_attrs(str(k), v)
                                    else str(v)) for k, v in data.items()} \
                if isinstance(data, Mapping) else {}
        return doc

    def namesake(self, obj: Obj) -> str | None:
        """The source of a workload (for a workload) or ConfigMap (for a ConfigMap) of
        ``obj``'s name in another namespace, in this run or an earlier one, or None.
        Components and configuration are named by bare name (as alerts, traces and
        events name them), so the two would be one node."""
        group = _NAME_GROUP.get(obj.kind)
        if group is None:
            return None
        self.view()
        others = {ns: src for ns, src in self._named.get((group, obj.name), {}).items()
                  if ns != obj.namespace}
        return others[min(others)] if others else None

    def _of(self, kind: str, ns: str, name: str) -> dict[str, Any] | None:
        source = f"k8s:{ns}/{kind}/{name}"
        # an object refused in this run is not there to depend on (its dependents are
        # rebuilt without it when they wait for its node)
        return None if source in self.unbuilt else self.view().get(source)

    # -- lookups ------------------------------------------------------------------------
    def workload_ref(self, obj: Obj) -> str:
        if obj.source in self._refs:
            return self._refs[obj.source]
        pod_anns = annotation_map((obj.pod_template().get("metadata") or {}).get("annotations"))
        kind = explicit_kind(obj, annotation_map(obj.meta.get("annotations")), pod_anns)
        if kind is None:
            ik = image_kind(_first_image(obj))
            existing = self.ctx.resolver.find(obj.name)
            if ik is not None:
                kind = ik[0]
            elif existing is not None and not existing.startswith("service:"):
                kind = existing.split(":", 1)[0]
            else:
                kind = "service"
        self._refs[obj.source] = ref = f"{kind}:{obj.name}"
        return ref

    def _ref_of_summary(self, source: str, doc: dict[str, Any]) -> str:
        obj = self.objs.get(source)
        return self.workload_ref(obj) if obj is not None else str(doc.get("ref"))

    def services_selecting(self, ns: str, labels: Mapping[str, str]) -> list[dict[str, Any]]:
        self.view()
        out = []
        for k, v in labels.items():
            for doc in self._services_by_label.get((ns, k, v), ()):
                if all(labels.get(sk) == sv for sk, sv in doc["selector"].items()):
                    out.append(doc)
        return out

    def workloads_selected(self, ns: str, selector: Mapping[str, str]) -> list[str]:
        if not selector:
            return []
        view = self.view()
        sets = [self._workloads_by_label.get((ns, k, v), set()) for k, v in selector.items()]
        return sorted({self._ref_of_summary(s, view[s]) for s in set.intersection(*sets)
                       if s not in self.unbuilt})

    def selected_workloads(self, svc: Obj) -> list[str]:
        doc = self.summary(svc)
        return self.workloads_selected(svc.namespace, doc["selector"])

    def entrypoint(self, obj: Obj, anns: Mapping[str, str],
                   pod_anns: Mapping[str, str]) -> bool | None:
        own = anns.get(k8s_map.ANN_ENTRYPOINT) or pod_anns.get(k8s_map.ANN_ENTRYPOINT)
        if own is not None:
            return flag(own)
        labels = self.summary(obj, with_ref=False)["labels"]
        services = self.services_selecting(obj.namespace, labels)
        marked = [flag(s["entrypoint"]) for s in services if s.get("entrypoint") is not None]
        if marked:
            return any(marked)
        return True if any(s.get("type") in _ENTRY_TYPES for s in services) else None

    def resolve_host(self, ns: str, ep: Endpoint) -> Target | None:
        if ep.dotted:
            return None
        target_ns = ep.namespace or ns
        svc = self._of("Service", target_ns, ep.name)
        if svc is not None:
            ports = tuple((p[0] if isinstance(p[0], int) else None, p[1], p[2])
                          for p in svc.get("ports", []))
            refs = self.workloads_selected(target_ns, svc.get("selector") or {})
            if refs:
                protocol = self._protocol_of(target_ns, refs[0])
                return Target(refs[0], ports, protocol)
            kind = svc.get("ccm_kind") or "external"
            if svc.get("type") == "ExternalName" or not svc.get("selector") \
                    or svc.get("ccm_kind"):
                return Target(f"{kind}:{ep.name}", ports)
            return None
        for kind in WORKLOADS:
            doc = self._of(kind, target_ns, ep.name)
            if doc is not None:
                return Target(self._ref_of_summary(f"k8s:{target_ns}/{kind}/{ep.name}", doc),
                              (), doc.get("protocol"))
        if ep.namespace is None:
            existing = self.ctx.resolver.find(ep.name)
            if existing is not None:
                return Target(existing)
        return None

    def _protocol_of(self, ns: str, ref: str) -> str | None:
        name = ref.split(":", 1)[1]
        for kind in WORKLOADS:
            doc = self._of(kind, ns, name)
            if doc is not None:
                return doc.get("protocol")
        return None

    def configmap_keys(self, ns: str, name: str) -> dict[str, str | None] | None:
        doc = self._of("ConfigMap", ns, name)
        return None if doc is None else dict(doc.get("keys") or {})

    def configmap_value(self, ns: str, name: str, key: str) -> str | None:
        return (self.configmap_keys(ns, name) or {}).get(key)


def _first_image(obj: Obj) -> Any:
    containers = obj.pod_spec().get("containers") or []
    if isinstance(containers, list) and containers and isinstance(containers[0], Mapping):
        return containers[0].get("image")
    return None


_BUILDERS = {"Service": k8s_map.service_facts, "ConfigMap": k8s_map.configmap_facts,
             **{k: k8s_map.workload_facts for k in WORKLOADS}}


def owned(kind: str) -> tuple[str, ...]:
    return k8s_map.OWNED["node"] if kind in COMPONENT_KINDS else k8s_map.OWNED.get(kind, ())


class KubernetesManifests:
    """The ``k8s`` format."""

    name = FORMAT
    description = "Kubernetes manifests: workloads, Services, ConfigMaps (YAML, List, JSON)"
    order = 20

    def sniff(self, src: Source, head: str) -> bool:
        if src.named_like(".yaml", ".yml") and _SNIFF_YAML.search(head) \
                and _SNIFF_API.search(head):
            return True
        return src.named_like(".json") and bool(_SNIFF_JSON.search(head)) \
            and "backstage.io" not in head

    def read(self, src: Source, ctx: Context) -> Iterator[Batch]:
        idx: Index = ctx.state.setdefault(FORMAT, Index(ctx))
        done = 0

        def count(n: int) -> None:
            nonlocal done
            done += n

        chunk: list[Obj] = []
        in_file: list[Obj] = []
        clean = True
        for doc in iter_yaml_documents(src, count):
            where = doc.where(src)
            try:
                if doc.error is not None:
                    raise doc.error
                objs = parse_objects(doc.value, where)
            except FactError as exc:
                clean = False
                yield Batch(where, 1, error=exc, bytes_done=done)
                continue
            for obj in objs:
                idx.add(obj, src)
            chunk.extend(objs)
            in_file.extend(objs)
            if len(chunk) >= ctx.batch_size:
                yield self._waiting(ctx, idx, src, chunk, done)
                chunk = []
            elif doc.index % 100 == 0:
                yield Batch(str(src), 0, bytes_done=done)  # progress only
        if chunk:
            yield self._waiting(ctx, idx, src, chunk, done)
        yield Batch(f"{src}", 0, bytes_done=done, after_stage=True,
                    redo=lambda: self._members(ctx, idx, src, in_file, clean))

    def _waiting(self, ctx: Context, idx: Index, src: Source, chunk: list[Obj],
                 done: int) -> Batch:
        objs = list(chunk)
        return Batch(_span(src, objs), len(objs), bytes_done=done, after_stage=True,
                     redo=lambda: self._build(ctx, idx, src, objs))

    def _build(self, ctx: Context, idx: Index, src: Source, objs: list[Obj]) -> Batch:
        where = _span(src, objs)
        spans: list[tuple[str, int]] = []
        rejects: list[FactError] = []

        def snapshot(_: str, obj: Obj) -> Snapshot:
            _refuse_namesakes(idx, obj)
            built = _BUILDERS[obj.kind](ctx, idx, obj)
            return Snapshot(obj.source, built, k8s_map.object_time(ctx, obj), obj.where)

        try:
            ctx.resolver.prefetch(o.name for o in objs)
            snapshots = [s for _, s in each_record(((o.where, o) for o in objs), snapshot,
                                                   rejects)]
            facts = replace_all(ctx, snapshots, owned, spans)
        except FactError as exc:
            idx.unbuilt.refused(o.source for o in objs)
            return Batch(where, len(objs), error=exc)
        kept = {s.source for s in snapshots}
        idx.unbuilt.built(kept)
        idx.unbuilt.refused(o.source for o in objs if o.source not in kept)
        batch = Batch(where, len(objs), facts, spans=spans, rejects=rejects)
        batch.redo = lambda: self._build(ctx, idx, src, objs)
        batch.on_rejected = lambda: idx.unbuilt.refused(o.source for o in objs)
        batch.on_dropped = lambda wheres: idx.unbuilt.refused(
            o.source for o in objs if o.where in wheres)
        return batch

    def _members(self, ctx: Context, idx: Index, src: Source, objs: list[Obj],
                 clean: bool) -> Batch:
        members = Membership(ctx, FORMAT, src.key)
        # an object whose batch was refused keeps what an earlier run saved of it (if
        # anything): later runs must not see it as ingested
        current = idx.unbuilt.summaries(members, {o.source: idx.summary(o) for o in objs})
        closes = members.vanished_closes(current, idx.objs, ctx.at, str(src)) if clean else []
        summaries = current if clean else {**members.previous, **current}
        batch = Batch(f"{src}: objects no longer in it", 0, list(closes))
        batch.on_written = lambda: idx.unbuilt.save(members, summaries)
        batch.redo = lambda: self._members(ctx, idx, src, objs, clean)
        return batch


def _refuse_namesakes(idx: Index, obj: Obj) -> None:
    """A workload or ConfigMap whose name another namespace also uses is refused: as
    one node, the two would overwrite each other at every ingest."""
    other = idx.namesake(obj)
    if other is not None:
        raise FactError(obj.where, "metadata.namespace", obj.namespace,
                        f"a {obj.kind} named {obj.name!r} is also in another namespace "
                        f"({other}): CCM names components and configuration by their bare "
                        "name, so the two would be one node; ingest each namespace into "
                        "its own store, or rename one")


def _span(src: Source, objs: list[Obj]) -> str:
    if not objs:
        return str(src)
    first, last = objs[0].where.split(" (")[0], objs[-1].where.split(" (")[0]
    return first if first == last else f"{first} to {last.split(': ', 1)[-1]}"


ADAPTERS = (KubernetesManifests(),)
