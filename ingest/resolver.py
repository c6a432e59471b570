"""Name resolution: bare names from sources become node references (see the spec).

A name that contains ``<kind>:`` is already a reference. A bare name resolves to
the existing node of that name whatever its kind (components other than
``service`` win over ``service``); a name that matches nothing becomes
``<default kind>:<name>`` (``service:`` unless the caller knows better).
"""

from __future__ import annotations

from collections.abc import Iterable

from ccm.store.base import Store
from graph_schema import NODE_KIND_MAP

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
        """The existing component named ``name`` (non-services preferred), or None."""
        refs = self.known(name)
        if len(refs) == 1:
            (only,) = refs
            return only if only[:only.find(":")] in _PREFERENCE else None
        return _best(refs)

    def resolve(self, name: str, default_kind: str = "service") -> str:
        """The reference for ``name`` (a bare name or a ``<kind>:<name>`` reference)."""
        head, sep, _ = name.partition(":")
        if sep and head in NODE_KIND_MAP:
            return name
        return self.find(name) or f"{default_kind}:{name}"
