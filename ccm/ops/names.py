"""The names a caller may give a question's target or symptom: a node reference, a bare
component name, or any alias the graph knows a component by (``reviews-v2``,
``ratings.default``, ``ratings.default.svc.cluster.local``, an ``app`` label), resolved
the way ``ccm ingest`` resolves the names its sources use (:class:`ingest.resolver.Resolver`)."""

from __future__ import annotations

from ccm.errors import NotFound
from ccm.store.base import Store
from graph_schema import NODE_KIND_MAP, SIGNALS
from ingest.resolver import Resolver

__all__ = ["known_name", "resolve_name", "split_signal"]


def known_name(store: Store, name: str) -> str | None:
    """The node reference ``name`` stands for: itself when it is a reference the store
    holds; else the component named or aliased ``name`` (or the reference's name part);
    None for a name the graph does not know."""
    resolver = Resolver(store)
    head, sep, tail = name.partition(":")
    is_ref = bool(sep) and head in NODE_KIND_MAP
    if is_ref and resolver.exists(name):
        return name
    return resolver.find(tail if is_ref else name)


def resolve_name(store: Store, name: str) -> str:
    """:func:`known_name`, an unknown name raising NotFound naming it."""
    found = known_name(store, name)
    if found is not None:
        return found
    raise NotFound(f"no node is named {name!r}: not a reference in the graph, nor the name "
                   "or the one alias of a component (e.g. service:cart, cart, "
                   "cart.default, cart-v2)")


def split_signal(text: str, default: str = "errors") -> tuple[str, str]:
    """``NAME`` or ``NAME:SIGNAL`` (a known signal) as (name, signal)."""
    head, sep, tail = text.rpartition(":")
    if sep and head and tail in SIGNALS:
        return head, tail
    return text, default
