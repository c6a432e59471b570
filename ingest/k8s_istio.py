"""Istio traffic objects -> dependencies (part of the ``k8s`` format's transform).

- a ``ServiceEntry`` (``location`` other than ``MESH_INTERNAL``) makes each of its
  ``hosts`` an ``external:<host>`` node; a value (env, argument) naming that host,
  or a subdomain of a ``*.`` host, depends on it;
- a ``VirtualService`` routes its ``hosts`` to the ``destination.host`` of each
  ``http``, ``tcp`` and ``tls`` route: a host that is a node ``DEPENDS_ON`` each
  destination that is another node (``protocol`` http for http routes); bound to
  ``gateways`` other than ``mesh``, each gateway is a ``gateway:<name>`` node,
  an entrypoint, that ``DEPENDS_ON`` the destinations.

``DestinationRule`` (traffic policy for one host's subsets) and ``Gateway`` give no
facts: they are skipped and counted like other kinds CCM does not model.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graph_schema import EdgeFact, FactError, NodeFact
from graph_schema.facts import Fact
from ingest.core import Context
from ingest.hosts import endpoints_in
from ingest.k8s_lookup import Lookup, Obj
from ingest.k8s_map import annotation_map, object_time

KINDS = ("VirtualService", "ServiceEntry")
_ROUTES = ("http", "tcp", "tls")


def _strings(obj: Obj, field: str) -> list[str]:
    value = obj.spec.get(field)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise FactError(obj.where, f"spec.{field}", value, "expected a list of strings")
    return list(value)


def check(obj: Obj) -> None:
    """Refuse (when read) an Istio object whose hosts, gateways or routes are misshapen."""
    _strings(obj, "hosts")
    _strings(obj, "gateways")
    if obj.kind == "VirtualService":
        _destinations(obj)


def summary(obj: Obj) -> dict[str, Any]:
    """What name resolution needs of a ServiceEntry: its external hosts."""
    if obj.kind != "ServiceEntry" or obj.spec.get("location") == "MESH_INTERNAL":
        return {}
    try:
        return {"hosts": [h.lower() for h in _strings(obj, "hosts")]}
    except FactError:  # reported when the object itself is built
        return {}


def external_ref(entries: Mapping[str, str], host: str) -> str | None:
    """The ``external:`` node a ServiceEntry made for ``host`` (exact or ``*.`` match)."""
    if host in entries:
        return entries[host]
    parts = host.split(".")
    for i in range(1, len(parts)):
        ref = entries.get("*." + ".".join(parts[i:]))
        if ref is not None:
            return ref
    return None


def serviceentry_facts(ctx: Context, idx: Lookup, obj: Obj) -> list[Fact]:
    hosts = _strings(obj, "hosts")
    if obj.spec.get("location") == "MESH_INTERNAL":
        return []
    at = object_time(ctx, obj)
    attrs: dict[str, Any] = {"namespace": obj.namespace}
    anns = annotation_map(obj.meta.get("annotations"))
    if anns:
        attrs["annotations"] = anns
    out: list[Fact] = []
    for host in hosts:
        ctx.resolver.note(f"external:{host.lower()}")
        out.append(NodeFact("external", host.lower(), dict(attrs), at, source=obj.source,
                            origin=obj.where))
    return out


def virtualservice_facts(ctx: Context, idx: Lookup, obj: Obj) -> list[Fact]:
    at = object_time(ctx, obj)
    out: list[Fact] = []
    sources = [r for r in (_node(idx, obj, h) for h in _strings(obj, "hosts")) if r]
    for gw in _strings(obj, "gateways"):
        if gw == "mesh":
            continue
        ref = f"gateway:{gw.rsplit('/', 1)[-1]}"
        ctx.resolver.note(ref)
        out.append(NodeFact("gateway", ref.split(":", 1)[1],
                            {"namespace": obj.namespace, "entrypoint": True}, at,
                            source=obj.source, origin=obj.where))
        sources.append(ref)
    seen: set[str] = set()
    for proto, dest in _destinations(obj):
        target = _node(idx, obj, dest)
        if target is None:
            continue
        for src in sources:
            fid = f"{src}|DEPENDS_ON|{target}"
            if src == target or fid in seen:
                continue
            seen.add(fid)
            attrs: dict[str, Any] = {"evidence": f"{proto} route of VirtualService "
                                                 f"{obj.namespace}/{obj.name}"}
            if proto == "http":
                attrs["protocol"] = "http"
            out.append(EdgeFact("DEPENDS_ON", src, target, attrs, at, source=obj.source,
                                origin=obj.where))
    return out


def _destinations(obj: Obj) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for proto in _ROUTES:
        rules = obj.spec.get(proto) or []
        if not isinstance(rules, list):
            raise FactError(obj.where, f"spec.{proto}", rules, "expected a list of routes")
        for i, rule in enumerate(rules):
            routes = rule.get("route") if isinstance(rule, Mapping) else None
            for j, route in enumerate(routes if isinstance(routes, list) else []):
                dest = route.get("destination") if isinstance(route, Mapping) else None
                host = dest.get("host") if isinstance(dest, Mapping) else None
                if not isinstance(host, str):
                    raise FactError(obj.where, f"spec.{proto}[{i}].route[{j}].destination.host",
                                    host, "expected a host name")
                out.append((proto, host))
    return out


def _node(idx: Lookup, obj: Obj, host: str) -> str | None:
    for ep in endpoints_in(host):
        target = idx.resolve_host(obj.namespace, ep)
        if target is not None:
            return target.ref
    return None
