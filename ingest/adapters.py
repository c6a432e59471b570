"""The registry of ingest adapters, in detection order.

To add a format: write ``ingest/<format>.py`` with a class providing ``name``,
``description``, ``order``, ``sniff(src, head)`` and ``read(src, ctx)`` (see
:class:`ingest.core.Adapter`), and list it here. ``order`` puts topology formats
(< 40) before change formats (40-59) before alerts and incidents (>= 60).
"""

from __future__ import annotations

from ingest import (
    alertmanager,
    argocd,
    backstage,
    callgraph_metrics,
    cdevents,
    csv_exports,
    github_deployments,
    incidents,
    jaeger,
    k8s,
    native,
    opsgenie,
    otlp,
    pagerduty,
)
from ingest.core import Adapter

#: detection tries them in this order: an Argo CD notification carries its Application
#: (a Kubernetes object), so Argo CD is tried before the manifests
ADAPTERS: tuple[Adapter, ...] = (
    *native.ADAPTERS,
    *argocd.ADAPTERS,
    *k8s.ADAPTERS,
    *backstage.ADAPTERS,
    *jaeger.ADAPTERS,
    *otlp.ADAPTERS,
    *callgraph_metrics.ADAPTERS,
    *cdevents.ADAPTERS,
    *github_deployments.ADAPTERS,
    *alertmanager.ADAPTERS,
    *incidents.ADAPTERS,
    *pagerduty.ADAPTERS,
    *opsgenie.ADAPTERS,
    *csv_exports.ADAPTERS,
)


def registry() -> dict[str, Adapter]:
    """Every adapter, by format name, in detection order."""
    return {a.name: a for a in ADAPTERS}
