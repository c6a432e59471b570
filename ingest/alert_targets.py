"""Which component an alert is about, found from its labels and the graph.

Monitoring stacks label an alert with what the metric describes (``deployment``,
``pod``, Istio's ``destination_workload``, OpenTelemetry's ``service_name``) and with
where it was scraped (``job=kube-state-metrics``, ``service=<the exporter's Service>``).
The :data:`DEFAULT_ORDER` table tries the labels in order; each step turns its label's
value into candidate names, and the first candidate that names a known component
(``Resolver.find``, so a node's aliases count too) is the alert's component. A name is
also tried as ``<name>.<namespace>`` (first) when the alert has a namespace label.

How a step reads its label (``as``):

- ``explicit``: the value is the target as is; a name no source defined becomes a
  ``service:`` node (the rule's author said so: ``ccm_node: cache:redis-cart``);
- ``workload``: the value names a workload;
- ``replicaset``: a ReplicaSet name, its pod-template hash stripped;
- ``pod``: a pod name, resolved to its owner: ``cartservice-6d84fcdd5b-xk2pf`` (a
  Deployment's pod) -> ``cartservice``, ``redis-0`` (a StatefulSet's) -> ``redis``,
  ``node-exporter-x7k2p`` (a DaemonSet's) -> ``node-exporter``, then the name itself;
- ``name``: the value counts only when it names a known component that is not a
  known exporter (``service``, ``app``, ``job``, ``container``: labels that often say
  where the metric was scraped rather than what it is about).

Names matching an :data:`DEFAULT_EXPORTERS` pattern are never an ``explicit``,
``pod`` or ``name`` step's answer. An alert whose labels resolve nothing is kept on
the placeholder :func:`placeholder_ref` (``external:unresolved``, or
``external:unresolved.<namespace>``), a component with ``unresolved: true`` that
root-cause analysis never blames. Alerts named in :data:`DEFAULT_META_ALERTS`, and
alerts with none of the labels the steps read nor a namespace, instance or node
label, are about no component (``Watchdog``): they are skipped and counted.

A YAML file replaces any of the three tables (``order``, ``exporters``,
``meta_alerts``): :func:`load_target_rules`, ``ccm ingest --alert-targets FILE`` or
``CCM_ALERT_TARGETS=FILE``.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from ccm.yamlconf import YamlDoc
from graph_schema import COMPONENT_KINDS, NODE_KIND_MAP
from ingest.resolver import Resolver

#: how a step reads its label
STEP_KINDS = ("explicit", "workload", "replicaset", "pod", "name")


@dataclass(frozen=True, slots=True)
class Step:
    """One row of the resolution order: read ``label`` as ``kind``."""

    label: str
    kind: str
    #: the label naming the namespace the value lives in (tried before ``namespace``)
    namespace: str = "namespace"
    #: skip this step when this label is present (``source_workload`` unless there is
    #: a ``destination_workload``)
    unless: str | None = None


DEFAULT_ORDER: tuple[Step, ...] = (
    Step("ccm_node", "explicit"),
    # workloads: what kube-state-metrics, Istio and OpenTelemetry say the series is about
    Step("deployment", "workload"),
    Step("statefulset", "workload"),
    Step("daemonset", "workload"),
    Step("replicaset", "replicaset"),
    Step("destination_workload", "workload", "destination_workload_namespace"),
    Step("source_workload", "workload", "source_workload_namespace",
         unless="destination_workload"),
    Step("destination_canonical_service", "workload", "destination_workload_namespace"),
    Step("source_canonical_service", "workload", "source_workload_namespace",
         unless="destination_canonical_service"),
    Step("destination_service_name", "workload", "destination_service_namespace"),
    Step("service_name", "workload", "service_namespace"),
    Step("k8s_deployment_name", "workload", "k8s_namespace_name"),
    Step("k8s_statefulset_name", "workload", "k8s_namespace_name"),
    Step("k8s_daemonset_name", "workload", "k8s_namespace_name"),
    Step("k8s_replicaset_name", "replicaset", "k8s_namespace_name"),
    # pods, to their owning workload
    Step("pod", "pod"),
    Step("k8s_pod_name", "pod", "k8s_namespace_name"),
    # names that may say where the metric was scraped: only a known non-exporter
    Step("container", "name"),
    Step("k8s_container_name", "name", "k8s_namespace_name"),
    Step("service", "name"),
    Step("app", "name"),
    Step("app_kubernetes_io_name", "name"),
    Step("job", "name"),
)

#: names (glob patterns) of the monitoring stack's own scrape targets and jobs
DEFAULT_EXPORTERS: tuple[str, ...] = (
    "kube-state-metrics", "*-kube-state-metrics", "*node-exporter*", "kubelet", "cadvisor",
    "*otel-collector*", "*opentelemetry-collector*", "otelcol*", "*blackbox*",
    "prometheus", "*-prometheus", "prometheus-*", "alertmanager", "*-alertmanager",
    "alertmanager-*", "*prometheus-operator*", "kube-prometheus-stack*", "*-exporter",
    "*_exporter", "kubernetes-pods", "kubernetes-service-endpoints", "kubernetes-nodes*",
    "kubernetes-cadvisor", "kubernetes-apiservers", "grafana-agent*", "*/*",
)

#: alerts that are about the alerting pipeline, never a component
DEFAULT_META_ALERTS: tuple[str, ...] = ("Watchdog", "InfoInhibitor", "DeadMansSwitch",
                                        "DeadMansSnitch")

#: labels that, besides the steps', say an alert is about something in particular
_PLACE_LABELS = ("namespace", "instance", "node", "persistentvolumeclaim")

_K8S = "[bcdfghjklmnpqrstvwxz2456789]"  # the alphabet of Kubernetes' generated suffixes
_DEPLOYMENT_POD = re.compile(rf"^(.+)-{_K8S}{{5,10}}-{_K8S}{{5}}$")
_STATEFUL_POD = re.compile(r"^(.+)-\d+$")
_SUFFIXED = re.compile(rf"^(.+)-{_K8S}{{5}}$")
_REPLICASET = re.compile(rf"^(.+)-{_K8S}{{5,10}}$")


@dataclass(frozen=True)
class TargetRules:
    """The resolution order, the exporter patterns and the meta alerts."""

    order: tuple[Step, ...] = DEFAULT_ORDER
    exporters: tuple[str, ...] = DEFAULT_EXPORTERS
    meta_alerts: tuple[str, ...] = DEFAULT_META_ALERTS

    @cached_property
    def _exporter(self) -> re.Pattern[str]:
        return re.compile("|".join(fnmatch.translate(p) for p in self.exporters) or "(?!)")

    @cached_property
    def _target_labels(self) -> frozenset[str]:
        return frozenset(s.label for s in self.order) | frozenset(_PLACE_LABELS)

    def is_exporter(self, name: str) -> bool:
        """Whether ``name`` matches an exporter pattern (case-sensitive globs)."""
        return self._exporter.match(name) is not None

    def about_nothing(self, labels: Mapping[str, str]) -> bool:
        """Whether the alert is about no component (Watchdog; no target label at all)."""
        if labels.get("alertname") in self.meta_alerts:
            return True
        return not any(labels[k] for k in self._target_labels.intersection(labels))


DEFAULT_RULES = TargetRules()


def owner_names(pod: str) -> list[str]:
    """Names a pod's owner may have, most specific first, ending with the pod's own."""
    out = [m.group(1) for rx in (_DEPLOYMENT_POD, _STATEFUL_POD, _SUFFIXED)
           if (m := rx.match(pod))]
    return list(dict.fromkeys([*out, pod]))


def _bases(step: Step, value: str) -> list[str]:
    if step.kind == "pod":
        return owner_names(value)
    if step.kind == "replicaset":
        m = _REPLICASET.match(value)
        return [m.group(1), value] if m else [value]
    return [value]


def candidates(labels: Mapping[str, str], rules: TargetRules = DEFAULT_RULES
               ) -> Iterator[tuple[Step, str]]:
    """``(step, name)`` for every name the labels offer, in resolution order (each
    name as ``<name>.<namespace>`` first when a namespace is known)."""
    for step in rules.order:
        value = labels.get(step.label)
        if not value or (step.unless and labels.get(step.unless)):
            continue
        ns = labels.get(step.namespace) or labels.get("namespace")
        for base in _bases(step, value):
            if step.kind in ("pod", "name", "explicit") and rules.is_exporter(base):
                continue
            if ns and step.kind != "explicit":
                yield step, f"{base}.{ns}"
            yield step, base


def resolve_target(resolver: Resolver, labels: Mapping[str, str],
                   rules: TargetRules = DEFAULT_RULES) -> str | None:
    """The node the alert is about (an existing component, or an ``explicit`` label's
    target), or None when nothing resolves."""
    return resolve_candidates(resolver, list(candidates(labels, rules)))


def resolve_candidates(resolver: Resolver, names: list[tuple[Step, str]]) -> str | None:
    """:func:`resolve_target` for the :func:`candidates` of an alert's labels."""
    for step, name in names:
        if step.kind == "explicit":
            return resolver.resolve(name)
        head, sep, _ = name.partition(":")
        if sep and head in NODE_KIND_MAP:  # a reference (``cache:redis-cart``)
            if head in COMPONENT_KINDS and resolver.exists(name):
                return name
            continue
        found = resolver.find(name)
        if found is not None:
            return found
    return None


def placeholder_ref(labels: Mapping[str, str]) -> str:
    """Where an alert whose component is not resolved is kept."""
    ns = labels.get("namespace")
    return f"external:unresolved.{ns}" if ns else "external:unresolved"


def is_placeholder(ref: str) -> bool:
    """Whether ``ref`` is an unresolved placeholder (:func:`placeholder_ref`)."""
    return ref == "external:unresolved" or ref.startswith("external:unresolved.")


def load_target_rules(path: str | Path) -> TargetRules:
    """Read ``order`` / ``exporters`` / ``meta_alerts`` replacements from YAML."""
    doc = YamlDoc.read(path)
    data = doc.data
    if not isinstance(data, Mapping):
        raise doc.error([], "expected a mapping with order, exporters and/or meta_alerts")
    unknown = sorted(set(map(str, data)) - {"order", "exporters", "meta_alerts"})
    if unknown:
        raise doc.error([unknown[0]], "unknown key (known: order, exporters, meta_alerts)")
    rules = DEFAULT_RULES
    if "order" in data:
        rules = TargetRules(_order(doc, data["order"]), rules.exporters, rules.meta_alerts)
    for key in ("exporters", "meta_alerts"):
        if key in data:
            rules = TargetRules(**{**rules.__dict__, key: _names(doc, key, data[key])})
    return rules


def _names(doc: YamlDoc, key: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise doc.error([key], "expected a list of names", value)
    return tuple(value)


def _order(doc: YamlDoc, value: Any) -> tuple[Step, ...]:
    if not isinstance(value, list) or not value:
        raise doc.error(["order"], "expected a list of {label, as} steps")
    steps = []
    for i, item in enumerate(value):
        if not isinstance(item, Mapping) or not isinstance(item.get("label"), str):
            raise doc.error(["order", i], "expected {label: NAME, as: KIND}")
        extra = sorted(set(map(str, item)) - {"label", "as", "namespace", "unless"})
        if extra:
            raise doc.error(["order", i, extra[0]], "unknown key (known: label, as, "
                            "namespace, unless)")
        kind = item.get("as", "name")
        if kind not in STEP_KINDS:
            raise doc.error(["order", i, "as"], "expected one of " + ", ".join(STEP_KINDS),
                            kind)
        for key in ("namespace", "unless"):
            if key in item and not isinstance(item[key], str):
                raise doc.error(["order", i, key], "expected a label name", item[key])
        steps.append(Step(item["label"], kind, item.get("namespace", "namespace"),
                          item.get("unless")))
    return tuple(steps)
