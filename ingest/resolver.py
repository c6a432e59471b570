"""Name resolution: bare names from sources become node references (see the spec).

A name that contains ``<kind>:`` is already a reference. A bare name resolves to
the existing node of that name whatever its kind (components other than
``service`` win over ``service``); else to the node that has it as an *alias*
(another name sources call it by: ``reviews-v1``, ``reviews.default``,
``ratings.default.svc.cluster.local``), when exactly one node has that alias; a name
that matches nothing becomes ``<default kind>:<name>`` (``service:`` unless the
caller knows better).

Aliases are registered by adapters as they build nodes (:meth:`Resolver.add_aliases`,
found in the same run at once) and saved per source file as control-plane records
(:meth:`Resolver.save_aliases`, collection :data:`ALIASES`), which later runs read
in one query the first time a name is not found.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ccm.store.base import Store
from graph_schema import NODE_KIND_MAP

#: control-plane collection of saved aliases: one record per source file,
#: ``{"aliases": {alias: [ref, ...]}}``
ALIASES = "ingest.aliases"
_NONE: frozenset[str] = frozenset()
_PREFERENCE = {k: i for i, k in enumerate(
    ("datastore", "cache", "queue", "gateway", "external", "service"))}


def _best(refs: Iterable[str]) -> str | None:
    best = None
    for r in refs:
        kind = r.split(":", 1)[0]
        if kind not in _PREFERENCE:
            continue
        if best is None or (_PREFERENCE[kind], r) < (_PREFERENCE[best.split(":", 1)[0]], best):
            best = r
    return best


class Resolver:
    """Resolves names against the store and the batches being built or written.

    Nodes an adapter adds to the batch it is building are *pending*
    (:meth:`note`). When the batch is handed over to be written, the pipeline
    :meth:`seal`\\ s them under a token; they count as existing while the batch is in
    flight, become known for good on :meth:`commit` and are forgotten on
    :meth:`discard` (a rejected batch) without touching the other batches' nodes.
    Adapters call :meth:`prefetch` with a batch's names so that the store is asked
    once per batch, not once per name.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self._by_name: dict[str, set[str]] = {}
        self._looked_up: set[str] = set()
        self._pending: dict[str, set[str]] = {}
        self._sealed: dict[int, dict[str, set[str]]] = {}
        self._tokens = 0
        #: alias -> the references that have it (saved ones loaded on first use)
        self._aliases: dict[str, set[str]] = {}
        self._saved_aliases_read = False

    def prefetch(self, names: Iterable[str]) -> None:
        """Look names (bare names or references) up in the store in one query."""
        todo: set[str] = set()
        for n in names:
            head, sep, tail = n.partition(":")
            todo.add(tail if sep and head in NODE_KIND_MAP else n)
        todo -= self._looked_up
        if not todo:
            return
        found = self.store.find_refs(sorted(todo))
        self._looked_up |= todo
        for name, refs in found.items():
            self._by_name.setdefault(name, set()).update(refs)

    def note(self, ref: str) -> None:
        """Node ``ref`` is in the batch being built."""
        self._pending.setdefault(ref.split(":", 1)[1], set()).add(ref)

    def seal(self, nodes: Iterable[str] = ()) -> int:
        """The batch being built is handed over: a token for its pending nodes, and for
        ``nodes`` (every node of the batch, when the next batch is built before this one
        is written: it then sees what it would see once this one is)."""
        self._tokens += 1
        pending = self._pending
        for ref in nodes:
            pending.setdefault(ref.split(":", 1)[1], set()).add(ref)
        self._sealed[self._tokens] = pending
        self._pending = {}
        return self._tokens

    def drop_pending(self) -> None:
        """Forget the nodes of the batch being built (it is about to be built again)."""
        self._pending = {}

    def commit(self, token: int, written: Iterable[str] = ()) -> None:
        """The batch of ``token`` was written: its nodes, and ``written`` ones, exist."""
        for name, refs in self._sealed.pop(token, {}).items():
            self._by_name.setdefault(name, set()).update(refs)
        for ref in written:
            self._by_name.setdefault(ref.split(":", 1)[1], set()).add(ref)

    def discard(self, token: int) -> None:
        """The batch of ``token`` was not written: forget its nodes."""
        self._sealed.pop(token, None)

    def known(self, name: str) -> frozenset[str] | set[str]:
        """Every reference named ``name`` (written, in flight, or pending)."""
        if name not in self._looked_up:
            self.prefetch([name])
        found = self._by_name.get(name)
        extra = self._pending.get(name)
        for sealed in self._sealed.values():
            more = sealed.get(name)
            if more:
                extra = more if not extra else extra | more
        if not extra:
            return found if found is not None else _NONE
        return extra.union(found) if found else extra

    def exists(self, ref: str) -> bool:
        return ref in self.known(ref.split(":", 1)[1])

    def find(self, name: str) -> str | None:
        """The existing component named ``name`` (non-services preferred), else the one
        component that has ``name`` as an alias, or None."""
        refs = self.known(name)
        if len(refs) == 1:
            (only,) = refs
            if only[:only.find(":")] in _PREFERENCE:
                return only
        elif refs:
            best = _best(refs)
            if best is not None:
                return best
        return self.alias(name)

    def alias(self, name: str) -> str | None:
        """The component that has ``name`` as an alias, when exactly one has."""
        if name not in self._aliases and not self._saved_aliases_read:
            self._read_saved_aliases()
        refs = self._aliases.get(name)
        if refs is None or len(refs) != 1:
            return None
        (only,) = refs
        return only if only[:only.find(":")] in _PREFERENCE else None

    def add_aliases(self, ref: str, names: Iterable[str]) -> None:
        """Component ``ref`` is also called ``names`` (from now on, in this run)."""
        for name in names:
            if name != ref.split(":", 1)[1]:
                self._aliases.setdefault(name, set()).add(ref)

    def save_aliases(self, key: str, aliases: Mapping[str, Iterable[str]]) -> None:
        """Save the aliases a source file (record ``key``) gives (alias -> the
        references that have it), for later runs, replacing what it gave before."""
        self.store.put_record(ALIASES, key, {"aliases": {
            name: sorted(set(refs)) for name, refs in sorted(aliases.items())}})

    def _read_saved_aliases(self) -> None:
        self._saved_aliases_read = True
        run = self._aliases
        self._aliases = {}
        for rec in self.store.list_records(ALIASES):
            for name, refs in (rec.doc.get("aliases") or {}).items():
                self._aliases.setdefault(name, set()).update(refs)
        for name, refs in run.items():  # this run's own win over what was saved
            self._aliases[name] = set(refs)

    def resolve(self, name: str, default_kind: str = "service") -> str:
        """The reference for ``name`` (a bare name or a ``<kind>:<name>`` reference)."""
        head, sep, _ = name.partition(":")
        if sep and head in NODE_KIND_MAP:
            return name
        return self.find(name) or f"{default_kind}:{name}"
