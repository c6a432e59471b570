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
  CONSUMES_API, and a consumer DEPENDS_ON every provider of the API;
  ``dependsOn`` / ``consumesApis`` naming a component or resource -> DEPENDS_ON it;
  ``subcomponentOf`` / ``dependencyOf`` -> the named component DEPENDS_ON this one;
- Location -> the files its targets name are read too
  (:mod:`ingest.backstage_location`); other kinds (Domain, User, Template, plugins'
  kinds) are skipped and counted. Fields CCM does not map are accepted and ignored.

Entity references (``[kind:][namespace/]name``) lose their namespace: node names
are the entity names, so two entities that would be one node (one name in two
namespaces, or a Component and a Resource of one name and kind) are refused,
naming each other. Catalog files carry no time: facts are valid from ``--at``.
Each entity is a snapshot source ``backstage:<kind>:<namespace>/<name>``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from graph_schema import COMPONENT_KINDS, EdgeFact, FactError, NodeFact
from graph_schema.facts import Fact
from ingest.backstage_entity import Entity, is_location, node_kind, parse_entity, parse_ref
from ingest.backstage_location import location_targets
from ingest.core import PLACEHOLDER_SOURCE, Batch, Context
from ingest.records import each_record
from ingest.snapshot import (
    Membership,
    SourceState,
    Unbuilt,
    record_key,
    replace_all,
    saved_summaries,
)
from ingest.source import Source, iter_yaml_documents

FORMAT = "backstage"
#: attributes of nodes only this adapter sets
OWNED_NODE = ("description", "owner", "system", "lifecycle", "api_type")
#: ctx.state key: the catalog files read in this run (by Source.key)
_READ = "backstage-files"
_SNIFF = re.compile(r"^apiVersion:\s*[\"']?backstage\.io/", re.M)


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
    (source PLACEHOLDER_SOURCE: no entity owns them, so none closes them)."""
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
        if e.kind != "api":  # an API's system is its PART_OF edge only (no attribute)
            attrs["system"] = system
        edge.add("PART_OF", f"system:{system}")
    facts.insert(0, NodeFact(kind, name, attrs, at, source=e.source, origin=e.where))
    ctx.resolver.note(ref)
    if e.kind in ("component", "resource"):
        _relations(idx, e, edge)
    return facts


def _relations(idx: Index, e: Entity, edge: _Edges) -> None:
    """The edges of a component's or resource's relations to other entities."""
    said = f"backstage {e.kind} {e.name}"
    for field, default in (("dependsOn", "component"), ("consumesApis", "api")):
        for text in e.refs(field):
            kind, name = parse_ref(text, default, e.where, f"spec.{field}")
            if kind in ("component", "resource"):  # a component named where an API goes
                edge.add("DEPENDS_ON", idx.ref_for(kind, name), f"{said} {field} {name}")
            elif kind == "api":
                edge.add("CONSUMES_API", f"api:{name}")
                for provider in idx.providers(name):
                    edge.add("DEPENDS_ON", provider, f"{said} consumes API {name}")
    for text in e.refs("providesApis"):
        edge.add("PROVIDES_API", f"api:{parse_ref(text, 'api', e.where, 'spec.providesApis')[1]}")
    # the other side depends on this one: a component on its subcomponents, a
    # dependent on what it is a dependency of
    for field, default in (("subcomponentOf", "component"), ("dependencyOf", "component")):
        for text in e.refs(field):
            kind, name = parse_ref(text, default, e.where, f"spec.{field}")
            if kind in ("component", "resource"):
                edge.add("DEPENDS_ON", idx.ref_for(kind, name), f"{said} {field} {name}",
                         reverse=True)


class _Edges:
    def __init__(self, ctx: Context, idx: Index, e: Entity, ref: str, at: int,
                 facts: list[Fact]) -> None:
        self.ctx, self.idx, self.e, self.ref, self.at, self.facts = ctx, idx, e, ref, at, facts
        self.seen: set[str] = set()

    def add(self, kind: str, target: str | None, evidence: str | None = None,
            reverse: bool = False) -> None:
        """``entity -[kind]-> target`` (``target -[kind]-> entity`` if ``reverse``); a
        target no entity defines is a placeholder node."""
        key = f"{kind}|{target}|{reverse}"
        if target is None or target == self.ref or key in self.seen:
            return
        self.seen.add(key)
        if not self.idx.defines(target) and not self.ctx.resolver.exists(target):
            t_kind, t_name = target.split(":", 1)
            self.facts.append(NodeFact(t_kind, t_name, {}, self.at, source=PLACEHOLDER_SOURCE,
                                       origin=self.e.where))
            self.ctx.resolver.note(target)
        attrs = {"evidence": evidence or f"backstage {self.e.kind} {self.e.name} dependsOn"} \
            if kind == "DEPENDS_ON" else {}
        src, dst = (target, self.ref) if reverse else (self.ref, target)
        self.facts.append(EdgeFact(kind, src, dst, attrs, self.at,
                                   source=self.e.source, origin=self.e.where))


def owned(kind: str) -> tuple[str, ...]:
    if kind == "DEPENDS_ON":
        return ("evidence",)
    return OWNED_NODE if kind in COMPONENT_KINDS or kind in ("api", "system", "team") else ()


class BackstageCatalog:
    """The ``backstage`` format."""

    name = FORMAT
    description = ("Backstage catalog files (Component, Resource, API, System, Group; "
                   "Location targets followed)")
    order = 25

    def sniff(self, src: Source, head: str) -> bool:
        return src.named_like(".yaml", ".yml") and bool(_SNIFF.search(head))

    def read(self, src: Source, ctx: Context) -> Iterator[Batch]:
        idx: Index = ctx.state.setdefault(FORMAT, Index(ctx))
        read: set[str] = ctx.state.setdefault(_READ, set())
        if src.key in read:
            yield Batch(str(src), 0, notes=[f"{src}: already read in this run, through a "
                                            "Backstage Location"])
            return
        root = src.path.resolve().parent if src.path is not None else None
        yield from self._read_file(src, ctx, idx, root, read, True)

    def _read_file(self, src: Source, ctx: Context, idx: Index, root: Path | None,
                   read: set[str], top: bool) -> Iterator[Batch]:
        """The batches of one catalog file, then of the files its Locations name."""
        read.add(src.key)
        entities: list[Entity] = []
        targets: list[Source] = []
        skipped: dict[str, int] = {}
        clean, done = True, 0

        def count(n: int) -> None:
            nonlocal done
            done += n

        for doc in iter_yaml_documents(src, count):
            where = doc.where(src)
            progress = done if top else None
            try:
                if doc.error is not None:
                    raise doc.error
                if is_location(doc.value):
                    found = location_targets(doc.value, where, src, root)
                    targets.extend(found.sources)
                    yield from (Batch(where, 1, error=e, bytes_done=progress)
                                for e in found.errors)
                    if found.notes:
                        yield Batch(str(src), 0, notes=found.notes)
                    continue
                entity = parse_entity(doc.value, where)
            except FactError as exc:
                clean = False
                yield Batch(where, 1, error=exc, bytes_done=progress)
                continue
            if entity is not None:
                idx.add(entity, src)
                entities.append(entity)
            else:  # a kind CCM does not model (Domain, User, Template, plugins' kinds)
                what = f"Backstage {doc.value.get('kind')}"
                skipped[what] = skipped.get(what, 0) + 1
            if doc.index % 100 == 0:
                yield Batch(str(src), 0, bytes_done=progress)  # progress only
        for i in range(0, len(entities), ctx.batch_size):
            yield self._waiting(ctx, idx, src, entities[i:i + ctx.batch_size],
                                done if top else None)
        yield Batch(str(src), 0, after_stage=True, skipped=skipped or None,
                    redo=lambda: self._members(ctx, idx, src, entities, clean))
        for target in targets:
            if target.key not in read:
                yield from self._read_file(target, ctx, idx, root, read, False)

    def _waiting(self, ctx: Context, idx: Index, src: Source, chunk: list[Entity],
                 done: int | None) -> Batch:
        return Batch(str(src), len(chunk), bytes_done=done, after_stage=True,
                     redo=lambda: self._build(ctx, idx, src, chunk))

    def _build(self, ctx: Context, idx: Index, src: Source, chunk: list[Entity]) -> Batch:
        where = chunk[0].where if len(chunk) == 1 else f"{src} ({len(chunk)} entities)"
        spans: list[tuple[str, int]] = []
        rejects: list[FactError] = []

        def snapshot(_: str, e: Entity) -> SourceState:
            _refuse_namesakes(idx, e)
            return SourceState(e.source, entity_facts(ctx, idx, e), ctx.at, e.where)

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
