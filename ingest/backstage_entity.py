"""Backstage catalog entities as read: references, entity kinds, what node each is.

The mapping of entities to facts is :mod:`ingest.backstage`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from graph_schema import COMPONENT_KINDS, FactError
from ingest.source import ManifestObject

ENTITY_KINDS = ("component", "resource", "api", "system", "group")
COMPONENT_TYPES = {"service": "service", "website": "service", "backend": "service",
                   "frontend": "service", "gateway": "gateway", "api-gateway": "gateway",
                   "external": "external", "third-party": "external"}
NOT_RUNNING = ("library", "documentation", "docs", "template", "tool")
RESOURCE_TYPES = {
    **{t: "cache" for t in ("cache", "redis", "memcached", "elasticache", "valkey")},
    **{t: "queue" for t in ("queue", "topic", "kafka-topic", "message-queue", "sqs", "sns",
                            "pubsub", "kafka", "rabbitmq", "stream", "kinesis", "event-bus")},
    **{t: "gateway" for t in ("load-balancer", "gateway", "api-gateway", "ingress", "cdn")},
    **{t: "external" for t in ("external", "saas", "third-party", "external-service")},
}
_REF = re.compile(r"^(?:(?P<kind>[A-Za-z]+):)?(?:(?P<ns>[^/:]+)/)?(?P<name>[^/:]+)$")


class Entity(ManifestObject):
    """One Backstage entity (``kind`` in lower case)."""

    @property
    def source(self) -> str:
        return f"backstage:{self.kind}:{self.namespace}/{self.name}"

    def refs(self, key: str) -> list[str]:
        value = self.spec.get(key)
        if value is None:
            return []
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not all(isinstance(v, str) for v in items):
            raise FactError(self.where, f"spec.{key}", value, "expected entity references")
        return list(items)


def parse_ref(text: str, default_kind: str, where: str, field: str) -> tuple[str, str]:
    """``(kind, name)`` of an entity reference ``[kind:][namespace/]name``."""
    m = _REF.match(text.strip())
    if not m:
        raise FactError(where, field, text, "not an entity reference [kind:][namespace/]name")
    return (m.group("kind") or default_kind).lower(), m.group("name")


def is_location(value: Any) -> bool:
    """Whether a catalog document is a Backstage Location entity."""
    return isinstance(value, Mapping) and str(value.get("apiVersion", "")).startswith(
        "backstage.io/") and str(value.get("kind", "")).lower() == "location"


def parse_entity(value: Any, where: str) -> Entity | None:
    """The entity of a catalog document (None: a kind CCM does not model)."""
    if not isinstance(value, Mapping) or not str(value.get("apiVersion", "")).startswith(
            "backstage.io/"):
        raise FactError(where, "apiVersion", value.get("apiVersion") if isinstance(
            value, Mapping) else value, "expected a backstage.io entity")
    kind = str(value.get("kind", "")).lower()
    if kind not in ENTITY_KINDS:
        return None
    meta = value.get("metadata")
    if not isinstance(meta, Mapping) or not isinstance(meta.get("name"), str) or not meta["name"]:
        raise FactError(where, "metadata.name", None, "missing")
    ns = meta.get("namespace") or "default"
    if not isinstance(ns, str):
        raise FactError(where, "metadata.namespace", ns, "expected a string")
    if value.get("spec") is not None and not isinstance(value["spec"], Mapping):
        raise FactError(where, "spec", value["spec"], "expected a map")
    entity = Entity(kind, ns, meta["name"], value, f"{where} ({kind} {ns}/{meta['name']})")
    # what the index summarises of every entity is checked here, so that a bad entity
    # is refused alone instead of failing the lookups of the others
    if kind in ("component", "resource"):
        node_kind(entity)
    if kind == "component":
        for r in entity.refs("providesApis"):
            parse_ref(r, "api", entity.where, "spec.providesApis")
    return entity


def node_kind(entity: Entity) -> str | None:
    """The CCM node kind of a component or resource entity (None: not a running thing)."""
    anns = entity.meta.get("annotations") or {}
    explicit = anns.get("ccm.io/kind") if isinstance(anns, Mapping) else None
    if explicit is not None:
        if explicit not in COMPONENT_KINDS:
            raise FactError(entity.where, "metadata.annotations.ccm.io/kind", explicit,
                            "expected one of " + ", ".join(COMPONENT_KINDS))
        return str(explicit)
    typ = str(entity.spec.get("type") or "").lower()
    if entity.kind == "component":
        return None if typ in NOT_RUNNING else COMPONENT_TYPES.get(typ, "service")
    return RESOURCE_TYPES.get(typ, "datastore")
