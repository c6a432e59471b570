"""What the Kubernetes fact builders (:mod:`ingest.k8s_map`, :mod:`ingest.k8s_istio`,
:mod:`ingest.k8s_changes`) work on: one object as read (:class:`Obj`), and what they
look up in the run's index (:class:`Lookup`, implemented by
:class:`ingest.k8s_index.Index`, which calls them), with what a host resolves to
(:class:`Target`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Protocol

from graph_schema import FactError
from ingest.hosts import Endpoint
from ingest.source import ManifestObject


class Obj(ManifestObject):
    """One Kubernetes object of a handled kind."""

    @cached_property
    def source(self) -> str:
        """``k8s:<namespace>/<kind>/<name>`` (looked up many times per object: kept)."""
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


@dataclass(frozen=True)
class Target:
    """What a host resolved to: a node, and what its Service says about the port."""

    ref: str
    ports: tuple[tuple[int | None, str | None, str | None], ...] = ()
    protocol: str | None = None


class Lookup(Protocol):
    """The lookups of the run's index that turn an object into facts."""

    #: the aliases each object of this run gave its node: source -> {alias: ref}
    aliases: dict[str, dict[str, str]]

    def previous(self, source: str) -> dict[str, Any] | None: ...
    def node_name(self, group: str, name: str, ns: str) -> str: ...
    def fronts(self, obj: Obj) -> list[str]: ...
    def members(self, obj: Obj) -> tuple[str, list[dict[str, Any]]]: ...
    def summary(self, obj: Obj, with_ref: bool = True) -> dict[str, Any]: ...
    def workload_ref(self, obj: Obj) -> str: ...
    def selected_workloads(self, svc: Obj) -> list[str]: ...
    def entrypoint(self, obj: Obj, anns: Mapping[str, str],
                   pod_anns: Mapping[str, str]) -> bool | None: ...
    def resolve_host(self, ns: str, ep: Endpoint) -> Target | None: ...
    def configmap_keys(self, ns: str, name: str) -> dict[str, str | None] | None: ...
    def configmap_value(self, ns: str, name: str, key: str) -> str | None: ...
