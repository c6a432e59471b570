"""Backstage software catalog files (``catalog-info.yaml``, ``apiVersion: backstage.io/*``).

Mapping (see ``docs/ingest.md``):

- Component -> a component node: ``ccm.io/kind`` annotation, else ``spec.type``
  (service, website -> service; gateway -> gateway; external -> external;
  libraries and documentation are not running things and give no node);
- Resource -> a component node by ``spec.type`` (database, s3-bucket... ->
  datastore; cache, redis -> cache; queue, topic, kafka-topic... -> queue;
  load-balancer -> gateway; external, saas -> external; others -> datastore);
- API -> ``api:<name>``; System -> ``system:<name>``; Group -> ``team:<name>``;
- ``spec.dependsOn`` -> DEPENDS_ON; ``spec.owner`` -> OWNED_BY ``team:``;
  ``spec.system`` -> PART_OF; ``providesApis`` / ``consumesApis`` -> PROVIDES_API /
  CONSUMES_API, and a consumer DEPENDS_ON every provider of the API.

Entity references (``[kind:][namespace/]name``) lose their namespace: node names
are the entity names, so two entities that would be one node (one name in two
namespaces, or a Component and a Resource of one name and kind) are refused,
naming each other. Catalog files carry no time: facts are valid from ``--at``.
Each entity is a snapshot source ``backstage:<kind>:<namespace>/<name>``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from graph_schema import COMPONENT_KINDS, EdgeFact, FactError, NodeFact
from graph_schema.facts import Fact
from ingest.core import Batch, Context
from ingest.records import each_record
from ingest.snapshot import Membership, Snapshot, Unbuilt, record_key, replace_all, saved_summaries
from ingest.source import ManifestObject, Source, iter_yaml_documents

FORMAT = "backstage"
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
#: attributes of nodes only this adapter sets
OWNED_NODE = ("description", "owner", "system", "lifecycle", "api_type")
_SNIFF = re.compile(r"^apiVersion:\s*[\"']?backstage\.io/", re.M)
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


def parse_entity(value: Any, where: str) -> Entity | None:
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


class Index:
    """Entities of this run and (saved summaries of) earlier runs."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.entities: dict[str, Entity] = {}
        self.files: set[str] = set()
        self._view: dict[str, dict[str, Any]] | None = None
        self._defined: set[str] | None = None
        self._refs: dict[str, str | None] = {}
        #: sources of this run whose batch was refused (see ``_members``)
        self.unbuilt = Unbuilt()

    def add(self, e: Entity, src: Source) -> None:
        self.entities[e.source] = e
        self.files.add(record_key(FORMAT, src.key))
        self._view = self._defined = None
        self._refs.pop(e.source, None)

    def summary(self, e: Entity) -> dict[str, Any]:
        doc: dict[str, Any] = {"kind": e.kind, "name": e.name, "ref": self.ref_of(e)}
        if e.kind == "component":
            doc["provides"] = [parse_ref(r, "api", e.where, "spec.providesApis")[1]
                               for r in e.refs("providesApis")]
        return doc

    def view(self) -> dict[str, dict[str, Any]]:
        if self._view is None:
            view = dict(saved_summaries(self.ctx, FORMAT, skip=self.files))
            view.update({s: self.summary(e) for s, e in self.entities.items()})
            self._view = view
            self._by_name: dict[tuple[str, str], str | None] = {}
            self._providers: dict[str, set[str]] = {}
            self._definers: dict[str, list[str]] = {}
            for source, doc in sorted(view.items()):
                self._by_name.setdefault((doc["kind"], doc["name"]), doc.get("ref"))
                if doc.get("ref"):
                    self._definers.setdefault(doc["ref"], []).append(source)
                for api in doc.get("provides", []):
                    if doc.get("ref"):
                        self._providers.setdefault(api, set()).add(doc["ref"])
        return self._view

    def namesake(self, e: Entity) -> str | None:
        """The source of another entity, of this run or an earlier one, that is the
        same node as ``e`` (its namespace dropped), or None."""
        ref = self.ref_of(e)
        if ref is None:
            return None
        self.view()
        return next((s for s in self._definers.get(ref, ()) if s != e.source), None)

    def ref_of(self, e: Entity) -> str | None:
        """The node ``e`` defines (None for libraries and documentation); asked a few
        times per entity, so kept."""
        if e.source not in self._refs:
            if e.kind in ("component", "resource"):
                kind = node_kind(e)
                self._refs[e.source] = None if kind is None else f"{kind}:{e.name}"
            else:
                self._refs[e.source] = {"api": "api", "system": "system",
                                        "group": "team"}[e.kind] + f":{e.name}"
        return self._refs[e.source]

    def ref_for(self, kind: str, name: str) -> str | None:
        """The node an entity reference names (None for libraries and unknown kinds)."""
        if kind in ("group", "user"):
            return f"team:{name}"
        if kind in ("api", "system"):
            return f"{kind}:{name}"
        if kind not in ("component", "resource"):
            return None
        self.view()
        if (kind, name) in self._by_name:
            return self._by_name[(kind, name)]
        return self.ctx.resolver.resolve(name, "service" if kind == "component" else "datastore")

    def defines(self, ref: str) -> bool:
        """Whether an entity of this run defines node ``ref`` (and was not refused)."""
        if self._defined is None:
            self._defined = {r for e in self.entities.values() if (r := self.ref_of(e))}
        return ref in self._defined and ref not in self._refused()

    def _refused(self) -> set[str]:
        """The nodes of this run's refused entities: nothing the others may depend on
        (they are placeholders again, as if the entity were not there)."""
        if not self.unbuilt.sources:  # the usual case, asked once per edge
            return set()
        return {r for s in self.unbuilt.sources
                if (e := self.entities.get(s)) is not None and (r := self.ref_of(e))}

    def providers(self, api: str) -> list[str]:
        self.view()
        return sorted(self._providers.get(api, set()) - self._refused())


def entity_facts(ctx: Context, idx: Index, e: Entity) -> list[Fact]:
    """Facts of one entity; nodes it names but does not define are placeholders
    (source "": no entity owns them, so none closes them)."""
    ref = idx.ref_of(e)
    if ref is None:
        return []
    at, kind, name = ctx.at, *ref.split(":", 1)
    spec = e.spec
    attrs: dict[str, Any] = {}
    if isinstance(e.meta.get("description"), str):
        attrs["description"] = e.meta["description"]
    if e.kind in ("component", "resource"):
        attrs.update({k: str(spec[k]) for k in ("lifecycle",) if spec.get(k)})
    if e.kind == "api" and spec.get("type"):
        attrs["api_type"] = str(spec["type"])
        if spec.get("lifecycle"):
            attrs["lifecycle"] = str(spec["lifecycle"])
    if e.kind == "group":
        profile: Mapping[str, Any] = spec["profile"] \
            if isinstance(spec.get("profile"), Mapping) else {}
        if isinstance(profile.get("email"), str):
            attrs["email"] = profile["email"]
    facts: list[Fact] = []
    edge = _Edges(ctx, idx, e, ref, at, facts)
    if spec.get("owner") and e.kind != "group":
        owner = parse_ref(str(spec["owner"]), "group", e.where, "spec.owner")[1]
        attrs["owner"] = owner
        edge.add("OWNED_BY", idx.ref_for("group", owner))
    if spec.get("system") and e.kind in ("component", "resource", "api"):
        system = parse_ref(str(spec["system"]), "system", e.where, "spec.system")[1]
        attrs["system"] = system
        edge.add("PART_OF", f"system:{system}")
    facts.insert(0, NodeFact(kind, name, attrs, at, source=e.source, origin=e.where))
    ctx.resolver.note(ref)
    if e.kind in ("component", "resource"):
        for text in e.refs("dependsOn"):
            edge.add("DEPENDS_ON", idx.ref_for(*parse_ref(text, "component", e.where,
                                                          "spec.dependsOn")))
        for text in e.refs("providesApis"):
            api = parse_ref(text, "api", e.where, "spec.providesApis")[1]
            edge.add("PROVIDES_API", f"api:{api}")
        for text in e.refs("consumesApis"):
            api = parse_ref(text, "api", e.where, "spec.consumesApis")[1]
            edge.add("CONSUMES_API", f"api:{api}")
            for provider in idx.providers(api):
                edge.add("DEPENDS_ON", provider, f"backstage {e.kind} {e.name} consumes "
                                                 f"API {api}")
    return facts


class _Edges:
    def __init__(self, ctx: Context, idx: Index, e: Entity, ref: str, at: int,
                 facts: list[Fact]) -> None:
        self.ctx, self.idx, self.e, self.ref, self.at, self.facts = ctx, idx, e, ref, at, facts
        self.seen: set[str] = set()

    def add(self, kind: str, target: str | None, evidence: str | None = None) -> None:
        if target is None or target == self.ref or f"{kind}|{target}" in self.seen:
            return
        self.seen.add(f"{kind}|{target}")
        if not self.idx.defines(target) and not self.ctx.resolver.exists(target):
            t_kind, t_name = target.split(":", 1)
            self.facts.append(NodeFact(t_kind, t_name, {}, self.at, source="",
                                       origin=self.e.where))
            self.ctx.resolver.note(target)
        attrs = {"evidence": evidence or f"backstage {self.e.kind} {self.e.name} dependsOn"} \
            if kind == "DEPENDS_ON" else {}
        self.facts.append(EdgeFact(kind, self.ref, target, attrs, self.at,
                                   source=self.e.source, origin=self.e.where))


def owned(kind: str) -> tuple[str, ...]:
    if kind == "DEPENDS_ON":
        return ("evidence",)
    return OWNED_NODE if kind in COMPONENT_KINDS or kind in ("api", "system", "team") else ()


class BackstageCatalog:
    """The ``backstage`` format."""

    name = FORMAT
    description = "Backstage catalog-info.yaml (Component, Resource, API, System, Group)"
    order = 25

    def sniff(self, src: Source, head: str) -> bool:
        return src.named_like(".yaml", ".yml") and bool(_SNIFF.search(head))

    def read(self, src: Source, ctx: Context) -> Iterator[Batch]:
        idx: Index = ctx.state.setdefault(FORMAT, Index(ctx))
        entities: list[Entity] = []
        clean, done = True, 0

        def count(n: int) -> None:
            nonlocal done
            done += n

        for doc in iter_yaml_documents(src, count):
            where = doc.where(src)
            try:
                if doc.error is not None:
                    raise doc.error
                entity = parse_entity(doc.value, where)
            except FactError as exc:
                clean = False
                yield Batch(where, 1, error=exc, bytes_done=done)
                continue
            if entity is not None:
                idx.add(entity, src)
                entities.append(entity)
            if doc.index % 100 == 0:
                yield Batch(str(src), 0, bytes_done=done)  # progress only
        for i in range(0, len(entities), ctx.batch_size):
            yield self._waiting(ctx, idx, src, entities[i:i + ctx.batch_size], done)
        yield Batch(str(src), 0, after_stage=True,
                    redo=lambda: self._members(ctx, idx, src, entities, clean))

    def _waiting(self, ctx: Context, idx: Index, src: Source, chunk: list[Entity],
                 done: int) -> Batch:
        return Batch(str(src), len(chunk), bytes_done=done, after_stage=True,
                     redo=lambda: self._build(ctx, idx, src, chunk))

    def _build(self, ctx: Context, idx: Index, src: Source, chunk: list[Entity]) -> Batch:
        where = chunk[0].where if len(chunk) == 1 else f"{src} ({len(chunk)} entities)"
        spans: list[tuple[str, int]] = []
        rejects: list[FactError] = []

        def snapshot(_: str, e: Entity) -> Snapshot:
            _refuse_namesakes(idx, e)
            return Snapshot(e.source, entity_facts(ctx, idx, e), ctx.at, e.where)

        try:
            ctx.resolver.prefetch(e.name for e in chunk)
            snapshots = [s for _, s in each_record(((e.where, e) for e in chunk), snapshot,
                                                   rejects)]
            facts = replace_all(ctx, snapshots, owned, spans)
        except FactError as exc:
            idx.unbuilt.refused(e.source for e in chunk)
            return Batch(where, len(chunk), error=exc)
        kept = {s.source for s in snapshots}
        idx.unbuilt.built(kept)
        idx.unbuilt.refused(e.source for e in chunk if e.source not in kept)
        batch = Batch(where, len(chunk), facts, spans=spans, rejects=rejects)
        batch.redo = lambda: self._build(ctx, idx, src, chunk)
        batch.on_rejected = lambda: idx.unbuilt.refused(e.source for e in chunk)
        batch.on_dropped = lambda wheres: idx.unbuilt.refused(
            e.source for e in chunk if e.where in wheres)
        return batch

    def _members(self, ctx: Context, idx: Index, src: Source, entities: list[Entity],
                 clean: bool) -> Batch:
        members = Membership(ctx, FORMAT, src.key)
        # an entity whose batch was refused keeps what an earlier run saved of it (if
        # anything): later runs must not see it as ingested
        current = idx.unbuilt.summaries(members, {e.source: idx.summary(e) for e in entities})
        closes = members.vanished_closes(current, idx.entities, ctx.at, str(src)) \
            if clean else []
        summaries = current if clean else {**members.previous, **current}
        batch = Batch(f"{src}: entities no longer in it", 0, list(closes))
        batch.on_written = lambda: idx.unbuilt.save(members, summaries)
        batch.redo = lambda: self._members(ctx, idx, src, entities, clean)
        return batch


def _refuse_namesakes(idx: Index, e: Entity) -> None:
    """An entity that would be the same node as another one is refused: as one node,
    the two would overwrite each other at every ingest."""
    other = idx.namesake(e)
    if other is None:
        return
    same_ns = other.split(":", 2)[2].split("/", 1)[0] == e.namespace
    field, value = ("kind", e.body.get("kind")) if same_ns else ("metadata.namespace",
                                                                 e.namespace)
    raise FactError(e.where, field, value,
                    f"the {e.kind} {e.namespace}/{e.name} and {other} would both be node "
                    f"{idx.ref_of(e)}: CCM names nodes by their bare name, so the two "
                    "would overwrite each other; ingest each namespace into its own "
                    "store, or rename one")


ADAPTERS = (BackstageCatalog(),)
