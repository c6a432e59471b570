"""What the run's Kubernetes manifests (and earlier runs' saved summaries) say, for the
lookups that turn objects into facts: selectors, node names, hosts, ConfigMap values."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graph_schema import FactError
from ingest import k8s_changes, k8s_istio, k8s_map, k8s_names
from ingest.changes import config_value_attrs
from ingest.core import Context
from ingest.hosts import Endpoint
from ingest.k8s_lookup import Obj, Target
from ingest.k8s_map import annotation_map, explicit_kind, flag, image_kind
from ingest.k8s_objects import (
    FORMAT,
    WORKLOADS,
    containers_or_none,
    first_image,
    literal_env,
)
from ingest.snapshot import MEMBERS, Unbuilt, record_key, saved_summaries
from ingest.source import Source


class Index:
    """What the run's manifests (and earlier runs' saved summaries) say, for lookups
    (the one :class:`~ingest.k8s_lookup.Lookup`)."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.objs: dict[str, Obj] = {}
        self.files: set[str] = set()
        self._view: dict[str, dict[str, Any]] | None = None
        self._refs: dict[str, str] = {}
        #: sources of this run whose batch was refused (see ``_members``)
        self.unbuilt = Unbuilt()
        #: the aliases each object of this run gave its node: source -> {alias: ref}
        self.aliases: dict[str, dict[str, str]] = {}
        self._previous: dict[str, dict[str, Any]] | None = None
        #: the node and edge facts this run's objects state (see ``k8s._members``)
        self.asserted: set[str] = set()
        #: each object's summary without its ref (objects do not change in a run)
        self._summaries: dict[str, dict[str, Any]] = {}

    def previous(self, source: str) -> dict[str, Any] | None:
        """What the latest ingest (by ``--at``) before this run saved of object
        ``source``, whichever file held it (an object moves to a release's new file
        while the old file's record still names it)."""
        if self._previous is None:
            self._previous = {}
            for rec in self.ctx.store.list_records(MEMBERS):
                if not rec.key.startswith(f"{FORMAT}:"):
                    continue
                for src, doc in rec.doc.get("sources", {}).items():
                    had = self._previous.get(src)
                    if had is None or doc.get("seen", 0) >= had.get("seen", 0):
                        self._previous[src] = doc
        return self._previous.get(source)

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
        matching selectors costs a few lookups instead of a scan of every object; the
        node name each workload stands for (:func:`k8s_names.version_of`); and the
        namespaces of each node name (see :meth:`node_name`)."""
        self._workloads_by_label: dict[tuple[str, str, str], set[str]] = {}
        self._services_by_label: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
        self._base: dict[str, str] = {}
        self._members: dict[tuple[str, str], list[dict[str, Any]]] = {}
        #: the Services selecting the workloads of each node, by (namespace, node name)
        self._fronts: dict[tuple[str, str], set[str]] = {}
        self._named: dict[tuple[str, str], set[str]] = {}
        self._entries: dict[str, str] = {}
        for doc in view.values():
            for host in doc.get("hosts") or ():  # a ServiceEntry's
                self._entries.setdefault(host, f"external:{host}")
            if doc.get("kind") == "Service" and doc.get("selector"):
                k, v = next(iter(sorted(doc["selector"].items())))
                self._services_by_label.setdefault((doc["ns"], k, v), []).append(doc)
            elif doc.get("kind") == "ConfigMap":
                self._named.setdefault(("ConfigMap", doc["name"]), set()).add(doc["ns"])
        for source, doc in sorted(view.items()):
            if doc.get("kind") not in WORKLOADS:
                continue
            labels = doc.get("labels") or {}
            for k, v in labels.items():
                self._workloads_by_label.setdefault((doc["ns"], k, v), set()).add(source)
            services = self.services_selecting(doc["ns"], labels)
            base = k8s_names.version_of(doc, services)
            self._base[source] = base
            self._members.setdefault((doc["ns"], base), []).append(doc)
            self._fronts.setdefault((doc["ns"], base), set()).update(s["name"] for s in services)
            self._named.setdefault(("component", base), set()).add(doc["ns"])

    def node_name(self, group: str, name: str, ns: str) -> str:
        """``name`` (a workload's node name or a ConfigMap's), qualified by namespace
        when another namespace uses it too, in this run or an earlier one."""
        self.view()
        return k8s_names.qualified(name, ns, self._named.get((group, name), ()))

    def fronts(self, obj: Obj) -> list[str]:
        """The names of the Services selecting the workloads of ``obj``'s node."""
        self.view()
        return sorted(self._fronts.get((obj.namespace, self._base.get(obj.source, obj.name)),
                                       ()))

    def members(self, obj: Obj) -> tuple[str, list[dict[str, Any]]]:
        """The unqualified node name of workload ``obj`` and the summaries of the
        workloads that are versions of that node (``obj``'s among them)."""
        self.view()
        base = self._base.get(obj.source, obj.name)
        return base, self._members.get((obj.namespace, base), [])

    def summary(self, obj: Obj, with_ref: bool = True) -> dict[str, Any]:
        """What later runs need to know about ``obj`` (saved per file); with its node
        reference (``ref``) for a workload when ``with_ref``."""
        doc = self._summaries.get(obj.source)
        if doc is None or self.objs.get(obj.source) is not obj:
            doc = self._summaries[obj.source] = self._summary(obj)
        if with_ref and obj.kind in WORKLOADS:
            try:
                return {**doc, "ref": self.workload_ref(obj)}
            except FactError:  # reported when the object itself is built
                return {**doc, "ref": None}
        return doc

    def _summary(self, obj: Obj) -> dict[str, Any]:
        doc: dict[str, Any] = {"kind": obj.kind, "ns": obj.namespace, "name": obj.name,
                               "seen": self.ctx.at}
        anns = annotation_map(obj.meta.get("annotations"))
        if obj.kind in WORKLOADS:
            labels = (obj.pod_template().get("metadata") or {}).get("labels") or {}
            doc["labels"] = {str(k): str(v) for k, v in labels.items()} \
                if isinstance(labels, Mapping) else {}
            ik = image_kind(first_image(obj))
            doc["protocol"] = ik[1] if ik else None
            image = first_image(obj)
            doc["image"] = image if isinstance(image, str) else None
            doc["replicas"] = obj.spec.get("replicas")
            doc["otel"] = k8s_names.otel_names(literal_env(obj))
            doc["resources"] = k8s_changes.resources_of(containers_or_none(obj))
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
        elif obj.kind in k8s_istio.KINDS:
            doc.update(k8s_istio.summary(obj))
        else:
            data = obj.body.get("data") or {}
            doc["keys"] = {str(k): (None if "value_hash" in config_value_attrs(str(k), v)
                                    else str(v)) for k, v in data.items()} \
                if isinstance(data, Mapping) else {}
        return doc

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
        base, _ = self.members(obj)
        name = self.node_name("component", base, obj.namespace)
        if kind is None:
            ik = image_kind(first_image(obj))
            existing = self.ctx.resolver.find(name)
            if ik is not None:
                kind = ik[0]
            elif existing is not None and not existing.startswith("service:"):
                kind = existing.split(":", 1)[0]
            else:
                kind = "service"
        self._refs[obj.source] = ref = f"{kind}:{name}"
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
        return True if any(s.get("type") in k8s_names.ENTRY_TYPES for s in services) else None

    def resolve_host(self, ns: str, ep: Endpoint) -> Target | None:
        if ep.dotted:
            self.view()
            ref = k8s_istio.external_ref(self._entries, ep.host)
            return Target(ref) if ref is not None else None
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
