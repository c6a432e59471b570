"""How Kubernetes objects name graph nodes (pure: works on the objects' summaries).

- A workload is a *version* of the Service that selects it when that Service is named
  after it: the Service's name is the workload's ``app`` or ``app.kubernetes.io/name``
  label, or the workload's name, or a prefix of it followed by ``-`` (Bookinfo's
  Deployments ``reviews-v1..v3`` behind Service ``reviews`` are one node,
  ``service:reviews``). Of several such Services, a ClusterIP one named like the
  workload wins, else the first by name. Other workloads are named after themselves.
- A node name (of a component or a ConfigMap) that two namespaces use is qualified by
  namespace, ``<name>.<namespace>`` (the cluster DNS form: ``kube-root-ca.crt`` in
  ``default`` is ``config:kube-root-ca.crt.default/ca.crt``); a name one namespace
  uses stays bare.
- A component's aliases (see :func:`aliases`) are the other names sources call it by.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

#: pod labels whose value names the application
APP_LABELS = ("app", "app.kubernetes.io/name")
#: Service types that take traffic from outside the cluster
ENTRY_TYPES = ("LoadBalancer", "NodePort")
_DNS_SUFFIXES = ("", ".svc", ".svc.cluster.local")


def version_of(workload: Mapping[str, Any], services: Iterable[Mapping[str, Any]]) -> str:
    """The node name a workload's summary stands for, given the Services selecting it."""
    name = str(workload["name"])
    labels = workload.get("labels") or {}
    apps = {labels.get(k) for k in APP_LABELS} - {None}
    named = [s for s in services
             if s["name"] == name or s["name"] in apps or name.startswith(f"{s['name']}-")]
    if not named or any(s["name"] == name for s in named):
        return name
    named.sort(key=lambda s: (s.get("type") in ENTRY_TYPES, s["name"]))
    return str(named[0]["name"])


def qualified(name: str, namespace: str, namespaces: Iterable[str]) -> str:
    """``name``, or ``name.namespace`` when other namespaces use ``name`` too."""
    return name if set(namespaces) <= {namespace} else f"{name}.{namespace}"


def otel_names(env: Mapping[str, str]) -> list[str]:
    """The OpenTelemetry ``service.name`` (and ``<service.name>.<service.namespace>``)
    set by a container's ``OTEL_SERVICE_NAME`` / ``OTEL_RESOURCE_ATTRIBUTES`` env."""
    attrs: dict[str, str] = {}
    for item in env.get("OTEL_RESOURCE_ATTRIBUTES", "").split(","):
        key, sep, value = item.partition("=")
        if sep and key.strip() and value.strip():
            attrs[key.strip()] = value.strip()
    name = env.get("OTEL_SERVICE_NAME") or attrs.get("service.name")
    if not name or "$(" in name:
        return []
    ns = attrs.get("service.namespace")
    return [name, f"{name}.{ns}"] if ns else [name]


def aliases(node_name: str, base: str, namespace: str,
            members: Iterable[Mapping[str, Any]], services: Iterable[str] = ()) -> list[str]:
    """Other names of the node ``node_name`` (``base`` before qualification) run by the
    workloads ``members`` behind ``services``: ``base.namespace`` and its cluster DNS
    names, the Services' names and theirs, the workloads' names, their app labels and
    OpenTelemetry names. The bare ``base`` of a qualified node is not one (two
    namespaces use it)."""
    out = {f"{name}.{namespace}{suffix}" for name in (base, *services)
           for suffix in _DNS_SUFFIXES}
    out.update(services)
    for doc in members:
        out.add(str(doc["name"]))
        labels = doc.get("labels") or {}
        out.update(str(labels[k]) for k in APP_LABELS if labels.get(k))
        out.update(doc.get("otel") or ())
    if node_name != base:
        out.discard(base)
    out.discard(node_name)
    return sorted(out)


def joined(values: Iterable[Any]) -> str | None:
    """Distinct values, sorted, joined by ``, `` (the versions a node runs); None if none."""
    distinct = sorted({str(v) for v in values if v is not None})
    return ", ".join(distinct) if distinct else None
