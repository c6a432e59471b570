"""The mapping every alert format shares (native JSONL, Alertmanager webhooks).

An alert becomes the node ``alert:<id>``, valid exactly while it fires (from its
onset until it resolves), and ``alert:<id> -[SYMPTOM_OF {signal}]-> <node>``.
The node is a reference or a bare name resolved as the spec says; a name that
matches no node becomes a ``service:`` node from the alert's onset (native alerts,
explicit targets), or the caller gives an unresolved placeholder (Alertmanager alerts
whose labels resolve nothing: :mod:`ingest.alert_targets`). A resolved
alert is history: both facts end at its end time. The alert's attributes do not
depend on whether the payload said firing or resolved (``status`` is always
``firing``: while the node is valid, the alert fired), so a firing and a
resolved notification of one alert, in any order and any number of times, give
the same facts. Label, annotation and summary text is stored as data and never
interpreted.

The alertname -> signal table lives here (:data:`DEFAULT_SIGNALS`); a YAML file
of ``AlertName: signal`` entries overrides or extends it (:func:`load_signal_table`,
``ccm ingest --signals FILE`` or ``CCM_ALERT_SIGNALS=FILE``). A ``signal`` given as a
word (``timeouts``, ``5xx``, ``oomkilled``) is read through :data:`SIGNAL_WORDS`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from ccm.errors import ConfigError
from graph_schema import SIGNALS, Close, EdgeFact, FactError, NodeFact
from graph_schema.facts import Fact
from ingest.core import PLACEHOLDER_SOURCE, Context, node_at

#: alertname -> signal, used when an alert has no ``signal`` label: generic names, the
#: alerts of kube-prometheus (kube-prometheus-stack's default rules: Kubernetes apps and
#: resources, kubelet, node-exporter, the monitoring stack itself) and common Istio and
#: OpenTelemetry spanmetrics alert names
DEFAULT_SIGNALS: dict[str, str] = {
    # errors
    **dict.fromkeys((
        "HighRequestErrorRate", "HighErrorRate", "KubeJobFailed", "KubeClientErrors",
        "KubeAPIErrorBudgetBurn", "KubeAggregatedAPIErrors", "KubeAPITerminatedRequests",
        "KubePersistentVolumeErrors", "KubeStateMetricsListErrors",
        "KubeStateMetricsWatchErrors", "KubeletClientCertificateRenewalErrors",
        "KubeletServerCertificateRenewalErrors", "NodeNetworkReceiveErrs",
        "NodeNetworkTransmitErrs", "NodeRAIDDiskFailure", "NodeSystemdServiceFailed",
        "NodeTextFileCollectorScrapeError", "PrometheusRuleFailures",
        "PrometheusErrorSendingAlertsToSomeAlertmanagers",
        "PrometheusErrorSendingAlertsToAnyAlertmanager", "PrometheusRemoteStorageFailures",
        "AlertmanagerFailedToSendAlerts", "AlertmanagerClusterFailedToSendAlerts",
        "PrometheusOperatorReconcileErrors", "PrometheusOperatorSyncFailed",
        "ConfigReloaderSidecarErrors", "GrafanaRequestsFailing", "IstioHigh5xxErrorRate",
        "IstioHigh4xxErrorRate", "IstioGatewayFailureRate", "SpanErrorRateHigh",
        "HighSpanErrorRate"), "errors"),
    # latency
    **dict.fromkeys((
        "HighRequestLatency", "HighLatency", "IstioHighRequestLatency",
        "IstioLatency99Percentile", "KubeletPlegDurationHigh", "KubeletPodStartUpLatencyHigh",
        "SpanLatencyHigh", "HighSpanLatency"), "latency"),
    # traffic drop: requests stop arriving (points upstream: a broken caller)
    **dict.fromkeys((
        "NoRequestsReceived", "NoDatabaseOperations", "TrafficDrop",
        "IstioLowTotalRequestRate", "PrometheusNotIngestingSamples"), "traffic_drop"),
    # down
    **dict.fromkeys((
        "KubePodCrashLooping", "KubePodNotReady", "KubeDeploymentReplicasMismatch",
        "KubeDeploymentRolloutStuck", "KubeStatefulSetReplicasMismatch",
        "KubeStatefulSetUpdateNotRolledOut", "KubeDaemonSetRolloutStuck",
        "KubeDeploymentGenerationMismatch", "KubeStatefulSetGenerationMismatch",
        "KubeDaemonSetMisScheduled",
        "KubeDaemonSetNotScheduled", "KubeContainerWaiting", "KubeHpaReplicasMismatch",
        "KubePdbNotEnoughHealthyPods", "KubeJobNotCompleted", "KubeNodeNotReady",
        "KubeNodeUnreachable", "KubeNodeReadinessFlapping", "KubeletDown",
        "KubeletInstanceUnreachable", "KubeAPIDown", "KubeAPIInstanceUnreachable",
        "KubeAggregatedAPIDown", "KubeSchedulerDown", "KubeControllerManagerDown",
        "TargetDown", "InstanceDown", "AlertmanagerClusterDown",
        "AlertmanagerMembersInconsistent", "PrometheusOperatorNotReady",
        "IstioKubernetesGatewayAvailabilityDrop", "NodeRAIDDegraded",
        "NodeBondingDegraded", "NodeNetworkInterfaceFlapping"), "down"),
    # saturation
    **dict.fromkeys((
        "CPUThrottlingHigh", "HighMemoryUsage", "KubePersistentVolumeFillingUp",
        "KubePersistentVolumeInodesFillingUp", "NodeFilesystemSpaceFillingUp",
        "NodeFilesystemAlmostOutOfSpace", "NodeFilesystemFilesFillingUp",
        "NodeFilesystemAlmostOutOfFiles", "NodeHighNumberConntrackEntriesUsed",
        "NodeFileDescriptorLimit", "NodeCPUHighUsage", "NodeSystemSaturation",
        "NodeMemoryMajorPagesFaults", "NodeMemoryHighUtilization", "NodeDiskIOSaturation",
        "KubeHpaMaxedOut", "KubeCPUOvercommit", "KubeMemoryOvercommit",
        "KubeCPUQuotaOvercommit", "KubeMemoryQuotaOvercommit", "KubeQuotaAlmostFull",
        "KubeQuotaFullyUsed", "KubeQuotaExceeded", "KubeletTooManyPods", "KubeNodePressure",
        "KubeNodeEviction", "PrometheusNotificationQueueRunningFull",
        "PrometheusRemoteWriteBehind", "PrometheusHighQueryLoad"), "saturation"),
    # crash
    **dict.fromkeys((
        "AlertmanagerClusterCrashlooping", "NodeSystemdServiceCrashlooping",
        "KubePodOOMKilled", "ContainerOOMKilled"), "crash"),
}
#: the signal of an alert whose name is in no table
UNKNOWN_SIGNAL = "errors"

#: words a ``signal`` label (or a native alert's ``signal``) may use for each signal;
#: compared in lower case with ``-`` and spaces read as ``_``
SIGNAL_WORDS: dict[str, str] = {
    **{s: s for s in SIGNALS},
    **dict.fromkeys(("error", "5xx", "4xx", "failure", "failures", "failed", "exception",
                     "exceptions", "error_rate"), "errors"),
    **dict.fromkeys(("timeout", "timeouts", "slow", "slowness", "duration", "p99", "p95",
                     "response_time"), "latency"),
    **dict.fromkeys(("traffic", "no_traffic", "drop", "requests_drop"), "traffic_drop"),
    **dict.fromkeys(("unavailable", "unreachable", "outage", "availability", "not_ready",
                     "notready", "dead"), "down"),
    **dict.fromkeys(("throttling", "throttled", "cpu", "memory", "disk", "saturated",
                     "capacity", "full", "pressure"), "saturation"),
    **dict.fromkeys(("crashes", "crashloop", "crashlooping", "oom", "oomkilled",
                     "restart", "restarts", "panic"), "crash"),
}


def signal_of_word(word: object) -> str | None:
    """The signal a word means (``timeouts`` -> latency), or None for an unknown word."""
    if not isinstance(word, str):
        return None
    return SIGNAL_WORDS.get(word.strip().lower().replace("-", "_").replace(" ", "_"))


def load_signal_table(path: str | Path) -> dict[str, str]:
    """Read alertname -> signal overrides from a YAML mapping (``AlertName: latency``)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
        data = yaml.safe_load(text)
    except OSError as exc:
        raise ConfigError(f"cannot read the alert signal table {path}: {exc.strerror}") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not a YAML mapping of alertname: signal ({exc})") from None
    if isinstance(data, Mapping) and isinstance(data.get("signals"), Mapping):
        data = data["signals"]
    if not isinstance(data, Mapping):
        raise ConfigError(f"{path}: expected a mapping of alertname: signal")
    out: dict[str, str] = {}
    for name, word in data.items():
        signal = signal_of_word(word)
        if signal is None:
            raise ConfigError(f"{path}: {name}: signal {word!r} is not one of "
                              f"{', '.join(SIGNALS)} nor a word for one (see SIGNAL_WORDS)")
        out[str(name)] = signal
    return out


def signal_for(alertname: str | None, labels: Mapping[str, Any],
               overrides: Mapping[str, str] | None = None) -> str:
    """The signal of an alert: its ``signal`` label (a word of :data:`SIGNAL_WORDS`),
    else its name in the table, else :data:`UNKNOWN_SIGNAL`."""
    by_label = signal_of_word(labels.get("signal"))
    if by_label is not None:
        return by_label
    if alertname:
        if overrides and alertname in overrides:
            return overrides[alertname]
        if alertname in DEFAULT_SIGNALS:
            return DEFAULT_SIGNALS[alertname]
    return UNKNOWN_SIGNAL


def alert_facts(ctx: Context, *, alert_id: str, starts_at: int, service: str, signal: str,
                where: str, source: str = "", ends_at: int | None = None,
                attrs: Mapping[str, Any] | None = None,
                placeholder: Mapping[str, Any] | None = None) -> list[Fact]:
    """Facts for one alert on ``service`` (a reference or a bare name). ``attrs`` adds
    alert attributes (alertname, severity, labels, annotations, summary, fingerprint,
    generator_url). ``placeholder`` makes ``service`` an unresolved placeholder: the
    attributes it is created with, valid from the beginning of time (so an alert
    arriving late still finds it)."""
    if ends_at is not None and ends_at <= starts_at:
        raise FactError(where, "ends_at", ends_at, "an alert must end after it starts")
    node_ref = ctx.resolver.resolve(service)
    facts: list[Fact] = []
    if not ctx.resolver.exists(node_ref):
        # a node the alert names but no source defines is a placeholder; the unresolved
        # placeholder is the alert source's own (counted apart: attribute unresolved)
        facts.append(node_at(node_ref, starts_at if placeholder is None else 0, placeholder,
                             source=PLACEHOLDER_SOURCE if placeholder is None else source,
                             origin=where))
        ctx.resolver.note(node_ref)
    a: dict[str, Any] = {"service": node_ref, "signal": signal, "status": "firing",
                         "starts_at": starts_at, **(attrs or {})}
    facts.append(NodeFact("alert", alert_id, a, starts_at, ends_at, source=source,
                          origin=where))
    facts.append(EdgeFact("SYMPTOM_OF", f"alert:{alert_id}", node_ref, {"signal": signal},
                          starts_at, ends_at, source=source, origin=where))
    if ends_at is not None:
        # a firing version recorded earlier is open-ended: end it too
        facts.append(Close(f"alert:{alert_id}", ends_at, source=source, origin=where))
    ctx.resolver.note(f"alert:{alert_id}")
    return facts
