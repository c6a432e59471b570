"""Kubernetes manifests: the ``k8s`` format (mapping: ``docs/ingest.md``).

Reads multi-document YAML, Lists and JSON (:mod:`ingest.k8s_objects`), keeps every
handled object in the run's :class:`~ingest.k8s_index.Index`, and builds the objects'
facts once every manifest of the run was read (so a Deployment may refer to a Service
in another file): workloads, Services and ConfigMaps (:mod:`ingest.k8s_map`), named
by :mod:`ingest.k8s_names`, Istio routes (:mod:`ingest.k8s_istio`), and what changed
since the last ingest (:mod:`ingest.k8s_changes`). Kinds CCM does not model are
counted per kind in the file's report.

Every object is a snapshot source ``k8s:<namespace>/<Kind>/<name>``: re-ingesting
closes what it no longer says (:mod:`ingest.snapshot`). Facts are valid from the
object's newest ``metadata.managedFields`` time, else from ``--at``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from graph_schema import COMPONENT_KINDS, Close, EdgeFact, FactError, NodeFact
from graph_schema.facts import Fact
from ingest import k8s_changes, k8s_istio, k8s_map
from ingest.core import Batch, Context
from ingest.hosts import endpoints_in
from ingest.k8s_index import Index
from ingest.k8s_lookup import Obj
from ingest.k8s_objects import (
    FORMAT,
    WORKLOADS,
    containers_or_none,
    parse_objects,
)
from ingest.records import each_record
from ingest.snapshot import Membership, SourceState, replace_all
from ingest.source import Source, iter_yaml_documents

#: a Kubernetes API version: ``v1``, ``apps/v1``, ``networking.istio.io/v1beta1``...
_API_VERSION = r"(?:[a-z0-9.-]+/)?v\d+(?:(?:alpha|beta)\d+)?"
#: a top-level ``apiVersion`` line, and a top-level ``kind`` or ``items`` key beside it
_SNIFF_API = re.compile(rf"^apiVersion:\s*[\"']?(?P<v>{_API_VERSION})[\"']?\s*$", re.M)
_SNIFF_TOP = re.compile(r"^(?:kind:\s*[\"']?[A-Z][A-Za-z0-9]*[\"']?|items:)\s*$", re.M)
_SNIFF_JSON = re.compile(rf"\"apiVersion\"\s*:\s*\"(?P<v>{_API_VERSION})\"")
_SNIFF_JSON_TOP = re.compile(r"\"(?:kind|items)\"\s*:")
#: API groups of other formats that share the object shape
_FOREIGN_GROUPS = ("backstage.io/", "ccm.io/")


_BUILDERS = {"Service": k8s_map.service_facts, "ConfigMap": k8s_map.configmap_facts,
             "VirtualService": k8s_istio.virtualservice_facts,
             "ServiceEntry": k8s_istio.serviceentry_facts,
             **{k: k8s_map.workload_facts for k in WORKLOADS}}


def owned(kind: str) -> tuple[str, ...]:
    return k8s_map.OWNED["node"] if kind in COMPONENT_KINDS else k8s_map.OWNED.get(kind, ())


class KubernetesManifests:
    """The ``k8s`` format."""

    name = FORMAT
    description = "Kubernetes manifests: workloads, Services, ConfigMaps (YAML, List, JSON)"
    order = 20

    def sniff(self, src: Source, head: str) -> bool:
        """A document (or ``List``) whose top level has a Kubernetes ``apiVersion`` and a
        ``kind`` or ``items`` key, whatever the kind (a CRD or an unknown kind first)."""
        if src.named_like(".yaml", ".yml"):
            api, top = _SNIFF_API.search(head), _SNIFF_TOP.search(head)
        elif src.named_like(".json"):
            api, top = _SNIFF_JSON.search(head), _SNIFF_JSON_TOP.search(head)
        else:
            return False
        return api is not None and top is not None \
            and not api.group("v").startswith(_FOREIGN_GROUPS)

    def read(self, src: Source, ctx: Context) -> Iterator[Batch]:
        idx: Index = ctx.state.setdefault(FORMAT, Index(ctx))
        done = 0

        def count(n: int) -> None:
            nonlocal done
            done += n

        chunk: list[Obj] = []
        in_file: list[Obj] = []
        clean = True
        skipped: dict[str, int] = {}
        for doc in iter_yaml_documents(src, count):
            where = doc.where(src)
            try:
                if doc.error is not None:
                    raise doc.error
                objs = parse_objects(doc.value, where, skipped)
            except FactError as exc:
                clean = False
                yield Batch(where, 1, error=exc, bytes_done=done)
                continue
            for obj in objs:
                idx.add(obj, src)
            chunk.extend(objs)
            in_file.extend(objs)
            if len(chunk) >= ctx.batch_size:
                yield self._waiting(ctx, idx, src, chunk, done)
                chunk = []
            elif doc.index % 100 == 0:
                yield Batch(str(src), 0, bytes_done=done)  # progress only
        if chunk:
            yield self._waiting(ctx, idx, src, chunk, done)
        yield Batch(f"{src}", 0, bytes_done=done, after_stage=True, skipped=skipped or None,
                    redo=lambda: self._members(ctx, idx, src, in_file, clean))

    def _waiting(self, ctx: Context, idx: Index, src: Source, chunk: list[Obj],
                 done: int) -> Batch:
        objs = list(chunk)
        return Batch(_span(src, objs), len(objs), bytes_done=done, after_stage=True,
                     redo=lambda: self._build(ctx, idx, src, objs))

    def _build(self, ctx: Context, idx: Index, src: Source, objs: list[Obj]) -> Batch:
        where = _span(src, objs)
        spans: list[tuple[str, int]] = []
        rejects: list[FactError] = []

        stated: set[str] = set()

        def snapshot(_: str, obj: Obj) -> SourceState:
            built = _first_statements(_BUILDERS[obj.kind](ctx, idx, obj), stated)
            return SourceState(obj.source, built, k8s_map.object_time(ctx, obj), obj.where)

        try:
            ctx.resolver.prefetch({n for o in objs for n in _names_to_look_up(idx, o)})
            snapshots = [s for _, s in each_record(((o.where, o) for o in objs), snapshot,
                                                   rejects)]
            # what one version of a node no longer says but another still does stays
            facts, spans = _without(replace_all(ctx, snapshots, owned, spans), spans,
                                    lambda f: isinstance(f, Close) and f.fact_id in stated)
            kept = {s.source for s in snapshots}
            # changes of the objects built, after every record: written with the batch
            facts.extend(k8s_changes.merged(
                [f for obj in objs if obj.source in kept
                 for f in k8s_changes.change_facts_of(ctx, idx, obj)]))
        except FactError as exc:
            idx.unbuilt.refused(o.source for o in objs)
            return Batch(where, len(objs), error=exc)
        idx.unbuilt.built(kept)
        idx.unbuilt.refused(o.source for o in objs if o.source not in kept)
        idx.asserted.update(f.fact_id for f in facts if isinstance(f, (NodeFact, EdgeFact)))
        for o in objs:  # names other formats of the run may now use for these nodes
            if o.source in kept:
                for alias, ref in idx.aliases.get(o.source, {}).items():
                    ctx.resolver.add_aliases(ref, (alias,))
        batch = Batch(where, len(objs), facts, spans=spans, rejects=rejects)
        batch.redo = lambda: self._build(ctx, idx, src, objs)
        batch.on_rejected = lambda: idx.unbuilt.refused(o.source for o in objs)
        batch.on_dropped = lambda wheres: idx.unbuilt.refused(
            o.source for o in objs if o.where in wheres)
        return batch

    def _members(self, ctx: Context, idx: Index, src: Source, objs: list[Obj],
                 clean: bool) -> Batch:
        members = Membership(ctx, FORMAT, src.key)
        # an object whose batch was refused keeps what an earlier run saved of it (if
        # anything): later runs must not see it as ingested
        current = idx.unbuilt.summaries(members, {o.source: idx.summary(o) for o in objs})
        closes = members.vanished_closes(current, idx.objs, ctx.at, str(src)) if clean else []
        # a fact a vanished object stated that another object of the run states too (the
        # node and edges of a Service's other versions) stays
        closes = [c for c in closes if c.fact_id not in idx.asserted]
        summaries = current if clean else {**members.previous, **current}
        aliases: dict[str, set[str]] = {}
        for o in objs:
            if o.source not in idx.unbuilt:
                for a, ref in idx.aliases.get(o.source, {}).items():
                    aliases.setdefault(a, set()).add(ref)
        batch = Batch(f"{src}: objects no longer in it", 0, list(closes))

        def written() -> None:
            idx.unbuilt.save(members, summaries)
            ctx.resolver.save_aliases(members.record_key, aliases)

        batch.on_written = written
        batch.redo = lambda: self._members(ctx, idx, src, objs, clean)
        return batch


def _without(facts: list[Fact], spans: list[tuple[str, int]], drop: Callable[[Fact], bool]
             ) -> tuple[list[Fact], list[tuple[str, int]]]:
    """``facts`` less those ``drop`` picks, and the records' spans counted again."""
    out: list[Fact] = []
    counted: list[tuple[str, int]] = []
    start = 0
    for where, n in spans:
        part = [f for f in facts[start:start + n] if not drop(f)]
        start += n
        out.extend(part)
        counted.append((where, len(part)))
    out.extend(f for f in facts[start:] if not drop(f))
    return out, counted


def _first_statements(facts: list[Fact], stated: set[str]) -> list[Fact]:
    """``facts`` without the nodes and edges an earlier object of the batch stated: the
    workloads that are versions of one node state its node, config and edges once,
    as the first of them does (else each would restate them with its own evidence,
    annotations or values, and every ingest would version them again)."""
    out: list[Fact] = []
    for f in facts:
        if isinstance(f, (NodeFact, EdgeFact)):
            if f.fact_id in stated:
                continue
            stated.add(f.fact_id)
        out.append(f)
    return out


def _names_to_look_up(idx: Index, obj: Obj) -> Iterator[str]:
    """The names building ``obj`` may look up in the store: its own, its node's, and
    the hosts its containers' arguments name."""
    yield obj.name
    yield idx.members(obj)[0]
    if obj.kind in WORKLOADS:
        for c in containers_or_none(obj):
            for value, _ in k8s_map.flag_values(c):
                for ep in endpoints_in(value):
                    yield ep.name


def _span(src: Source, objs: list[Obj]) -> str:
    if not objs:
        return str(src)
    first, last = objs[0].where.split(" (")[0], objs[-1].where.split(" (")[0]
    return first if first == last else f"{first} to {last.split(': ', 1)[-1]}"


ADAPTERS = (KubernetesManifests(),)
