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
    """Resolves names against the store and the batch being built.

    Nodes of the batch being built are *pending*: they count once the batch is
    written (:meth:`commit`) and are forgotten if it is rejected (:meth:`discard`).
    Adapters call :meth:`prefetch` with a batch's names so that the store is asked
    once per batch, not once per name.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self._by_name: dict[str, set[str]] = {}
        self._looked_up: set[str] = set()
        self._pending: dict[str, set[str]] = {}

    def prefetch(self, names: Iterable[str]) -> None:
        """Look names (bare names or references) up in the store in one query."""
        todo = {n.split(":", 1)[1] if _is_ref(n) else n for n in names}
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

    def commit(self, written: Iterable[str] = ()) -> None:
        """The batch was written: its pending nodes, and ``written`` ones, now exist."""
        for ref in written:
            self.note(ref)
        for name, refs in self._pending.items():
            self._by_name.setdefault(name, set()).update(refs)
        self._pending.clear()

    def discard(self) -> None:
        self._pending.clear()

    def known(self, name: str) -> set[str]:
        """Every reference named ``name`` (written or pending)."""
        if name not in self._looked_up:
            self.prefetch([name])
        return self._by_name.get(name, set()) | self._pending.get(name, set())

    def exists(self, ref: str) -> bool:
        return ref in self.known(ref.split(":", 1)[1])

    def find(self, name: str) -> str | None:
        """The existing component named ``name`` (non-services preferred), or None."""
        return _best(self.known(name))

    def resolve(self, name: str, default_kind: str = "service") -> str:
        """The reference for ``name`` (a bare name or a ``<kind>:<name>`` reference)."""
        if _is_ref(name):
            return name
        return self.find(name) or f"{default_kind}:{name}"


def _is_ref(name: str) -> bool:
    head, sep, _ = name.partition(":")
    return bool(sep) and head in NODE_KIND_MAP

