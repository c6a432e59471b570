"""The mapping every alert format shares (native JSONL, Alertmanager webhooks).

An alert becomes the node ``alert:<id>``, valid exactly while it fires (from its
onset until it resolves), and ``alert:<id> -[SYMPTOM_OF {signal}]-> <node>``.
The node is a reference or a bare name resolved as the spec says; a name that
matches no node becomes a ``service:`` node from the alert's onset. A resolved
alert is history: both facts end at its end time. The alert's attributes do not
depend on whether the payload said firing or resolved (``status`` is always
``firing``: while the node is valid, the alert fired), so a firing and a
resolved notification of one alert, in any order and any number of times, give
the same facts. Label, annotation and summary text is stored as data and never
interpreted.

The alertname -> signal table lives here (:data:`DEFAULT_SIGNALS`); a YAML file
of ``AlertName: signal`` entries overrides or extends it (:func:`load_signal_table`,
``ccm ingest --signals FILE`` or ``CCM_ALERT_SIGNALS=FILE``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from ccm.errors import ConfigError
from graph_schema import SIGNALS, Close, EdgeFact, FactError, NodeFact
from graph_schema.facts import Fact
from ingest.core import PLACEHOLDER_SOURCE, Context

#: alertname -> signal, used when an alert has no ``signal`` label
DEFAULT_SIGNALS: dict[str, str] = {
    # errors
    "HighRequestErrorRate": "errors",
    "HighErrorRate": "errors",
    "KubeJobFailed": "errors",
    # latency
    "HighRequestLatency": "latency",
    "HighLatency": "latency",
    # traffic drop: requests stop arriving (points upstream: a broken caller)
    "NoRequestsReceived": "traffic_drop",
    "NoDatabaseOperations": "traffic_drop",
    "TrafficDrop": "traffic_drop",
    # down
    "KubePodCrashLooping": "down",
    "KubePodNotReady": "down",
    "KubeDeploymentReplicasMismatch": "down",
    "KubeStatefulSetReplicasMismatch": "down",
    "KubeContainerWaiting": "down",
    "TargetDown": "down",
    "InstanceDown": "down",
    # saturation
    "CPUThrottlingHigh": "saturation",
    "HighMemoryUsage": "saturation",
    "KubePersistentVolumeFillingUp": "saturation",
    "NodeFilesystemSpaceFillingUp": "saturation",
}
#: the signal of an alert whose name is in no table
UNKNOWN_SIGNAL = "errors"


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
    for name, signal in data.items():
        if signal not in SIGNALS:
            raise ConfigError(f"{path}: {name}: signal {signal!r} is not one of "
                              f"{', '.join(SIGNALS)}")
        out[str(name)] = str(signal)
    return out


def signal_for(alertname: str | None, labels: Mapping[str, Any],
               overrides: Mapping[str, str] | None = None) -> str:
    """The signal of an alert: its ``signal`` label, else its name in the table."""
    label = labels.get("signal")
    if isinstance(label, str) and label in SIGNALS:
        return label
    if alertname:
        if overrides and alertname in overrides:
            return overrides[alertname]
        if alertname in DEFAULT_SIGNALS:
            return DEFAULT_SIGNALS[alertname]
    return UNKNOWN_SIGNAL


def alert_facts(ctx: Context, *, alert_id: str, starts_at: int, service: str, signal: str,
                where: str, source: str = "", ends_at: int | None = None,
                attrs: Mapping[str, Any] | None = None) -> list[Fact]:
    """Facts for one alert. ``attrs`` adds alert attributes (alertname, severity,
    labels, annotations, summary, fingerprint, generator_url)."""
    if ends_at is not None and ends_at <= starts_at:
        raise FactError(where, "ends_at", ends_at, "an alert must end after it starts")
    node_ref = ctx.resolver.resolve(service)
    facts: list[Fact] = []
    if not ctx.resolver.exists(node_ref):
        kind, name = node_ref.split(":", 1)
        facts.append(NodeFact(kind, name, {}, starts_at, source=PLACEHOLDER_SOURCE,
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
