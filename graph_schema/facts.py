"""Facts: what ingest produces and stores keep, validated against the schema.

A fact is a node or an edge with attributes, true over ``[valid_from,
valid_to)`` (``valid_to`` None while still true). A :class:`Close` says a fact
stopped being true at an instant. Facts are plain frozen values; stores add
``recorded_at`` when they learn them.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from graph_schema.errors import FactError
from graph_schema.kinds import EDGE_KIND_MAP, NODE_KIND_MAP
from graph_schema.timeutil import OPEN, TimeParseError, format_time, parse_time

MIN_TIME = -(2**62)


def ref(kind: str, name: str) -> str:
    """The stable reference of a node: ``<kind>:<name>``."""
    return f"{kind}:{name}"


#: references already found valid, with their kind (validation is pure: safe to remember)
_VALID_REFS: dict[str, str] = {}
_VALID_REFS_MAX = 500_000


def _remember(ref_: str, kind: str) -> None:
    if len(_VALID_REFS) >= _VALID_REFS_MAX:
        _VALID_REFS.clear()
    _VALID_REFS[ref_] = kind


def parse_ref(value: Any, where: str = "", field_name: str = "ref") -> tuple[str, str]:
    """Split ``<kind>:<name>`` and check the kind exists; raise FactError if not."""
    if type(value) is str and value in _VALID_REFS:
        return _VALID_REFS[value], value.split(":", 1)[1]
    if not isinstance(value, str) or ":" not in value:
        raise FactError(where, field_name, value, "expected a node reference '<kind>:<name>'")
    kind, name = value.split(":", 1)
    nk = NODE_KIND_MAP.get(kind)
    if nk is None:
        raise FactError(where, field_name, value,
                        f"unknown node kind {kind!r} (known: {', '.join(NODE_KIND_MAP)})")
    nk.check_name(name, where)
    _remember(value, kind)
    return kind, name


def edge_id(kind: str, src: str, dst: str) -> str:
    """The fact id of an edge: ``<src>|<KIND>|<dst>``."""
    return f"{src}|{kind}|{dst}"


def content_hash(payload: Any) -> str:
    """A short stable hash of a JSON-compatible payload (attrs are compared by it)."""
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.blake2b(text.encode("utf-8"), digest_size=8).hexdigest()


@dataclass(frozen=True, slots=True)
class NodeFact:
    """A node ``<kind>:<name>`` with attributes, true from ``valid_from``."""

    kind: str
    name: str
    attrs: Mapping[str, Any] = field(default_factory=dict)
    valid_from: int = 0
    valid_to: int | None = None
    source: str = ""
    origin: str = ""

    @property
    def ref(self) -> str:
        return f"{self.kind}:{self.name}"

    @property
    def fact_id(self) -> str:
        return f"{self.kind}:{self.name}"

    def describe(self) -> str:
        return f"node {self.kind}:{self.name}"


@dataclass(frozen=True, slots=True)
class EdgeFact:
    """A directed edge ``src -[KIND]-> dst`` between node references."""

    kind: str
    src: str
    dst: str
    attrs: Mapping[str, Any] = field(default_factory=dict)
    valid_from: int = 0
    valid_to: int | None = None
    source: str = ""
    origin: str = ""

    @property
    def fact_id(self) -> str:
        return f"{self.src}|{self.kind}|{self.dst}"

    def describe(self) -> str:
        return f"edge {self.src} -[{self.kind}]-> {self.dst}"


@dataclass(frozen=True, slots=True)
class Close:
    """The fact ``fact_id`` stopped being true at ``at`` (a removal).

    Closing a node also closes the edges to and from it that are open at ``at``.
    """

    fact_id: str
    at: int
    source: str = ""
    origin: str = ""

    def describe(self) -> str:
        return f"close of {self.fact_id}"


Fact = NodeFact | EdgeFact | Close


def _where(fact: Any, index: int | None) -> str:
    origin = getattr(fact, "origin", "")
    if origin:
        return origin
    try:
        what = fact.describe()
    except Exception:  # not a fact at all
        what = type(fact).__name__
    return f"fact {index} ({what})" if index is not None else what


def _check_opt_time(value: Any, where: str, field_name: str) -> int | None:
    return None if value is None else _check_time(value, where, field_name)


def _check_time(value: Any, where: str, field_name: str) -> int:
    if type(value) is int and MIN_TIME <= value < OPEN:
        return value
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, (str, float)) or hasattr(value, "tzinfo"):
            try:
                value = parse_time(value)
            except TimeParseError as exc:
                raise FactError(where, field_name, value, str(exc)) from None
        else:
            raise FactError(where, field_name, value, "expected a time")
    if not MIN_TIME <= value < OPEN:
        raise FactError(where, field_name, value, "time out of range")
    return value


def _checked_attrs(spec: Mapping[str, Any], attrs: Any, where: str, kind: str
                   ) -> dict[str, Any] | None:
    """Validate ``attrs`` against a kind's attribute map: the normalised attrs, or None
    when they equal ``attrs`` (the common case, found without building a new dict)."""
    if attrs is None:
        return {}
    if type(attrs) is not dict:
        if not isinstance(attrs, Mapping):
            raise FactError(where, "attrs", attrs, "expected an object of attributes")
        attrs = dict(attrs)
    out: dict[str, Any] | None = None
    for i, (key, value) in enumerate(attrs.items()):
        attr = spec.get(key)
        if attr is None:
            known = ", ".join(sorted(spec)) or "none"
            raise FactError(where, f"attrs.{key}", value,
                            f"unknown attribute for {kind} (known: {known})")
        checked = attr.check(value, where)
        if out is None:
            if checked is value and checked is not None:
                continue
            out = dict(itertools.islice(attrs.items(), i))  # the values before: unchanged
        if checked is not None:
            out[key] = checked
    # normalised values equal to the given ones (3.0 for an int) keep the given attrs
    return None if out is None or out == attrs else out


def _ref_kind(value: Any, where: str, field_name: str) -> str:
    kind = _VALID_REFS.get(value) if type(value) is str else None
    return kind if kind is not None else parse_ref(value, where, field_name)[0]


def validate(fact: Any, index: int | None = None) -> Fact:
    """Return ``fact`` with normalised attributes and times, or raise FactError.

    The error names where (the fact's origin, or its index in the batch), the
    field and the value.
    """
    where = _where(fact, index)
    if isinstance(fact, EdgeFact):
        ek = EDGE_KIND_MAP.get(fact.kind) if isinstance(fact.kind, str) else None
        if ek is None:
            raise FactError(where, "kind", fact.kind,
                            f"unknown edge kind (known: {', '.join(EDGE_KIND_MAP)})")
        src_kind = _ref_kind(fact.src, where, "from")
        dst_kind = _ref_kind(fact.dst, where, "to")
        if src_kind not in ek.sources:
            raise FactError(where, "from", fact.src,
                            f"{ek.name} cannot start at a {src_kind} "
                            f"(allowed: {', '.join(ek.sources)})")
        if dst_kind not in ek.targets:
            raise FactError(where, "to", fact.dst,
                            f"{ek.name} cannot end at a {dst_kind} "
                            f"(allowed: {', '.join(ek.targets)})")
        attrs = _checked_attrs(ek.attr_map, fact.attrs, where, fact.kind)
    elif isinstance(fact, NodeFact):
        nk = NODE_KIND_MAP.get(fact.kind) if isinstance(fact.kind, str) else None
        if nk is None:
            raise FactError(where, "kind", fact.kind,
                            f"unknown node kind (known: {', '.join(NODE_KIND_MAP)})")
        if type(fact.name) is not str or f"{fact.kind}:{fact.name}" not in _VALID_REFS:
            nk.check_name(fact.name, where)
            _remember(f"{fact.kind}:{fact.name}", fact.kind)
        attrs = _checked_attrs(nk.attr_map, fact.attrs, where, fact.kind)
    elif isinstance(fact, Close):
        if not isinstance(fact.fact_id, str) or not fact.fact_id:
            raise FactError(where, "fact_id", fact.fact_id, "expected a fact id")
        at = _check_time(fact.at, where, "at")
        return fact if at == fact.at else replace(fact, at=at)
    else:
        raise FactError(where, "type", type(fact).__name__, "not a fact (NodeFact, EdgeFact, Close)")
    vf = _check_time(fact.valid_from, where, "valid_from")
    vt = None if fact.valid_to is None else _check_time(fact.valid_to, where, "valid_to")
    if vt is not None and vt <= vf:
        raise FactError(where, "valid_to", vt, "must be after valid_from")
    if attrs is None and vf == fact.valid_from and vt == fact.valid_to:
        return fact
    return replace(fact, attrs=fact.attrs if attrs is None else attrs, valid_from=vf,
                   valid_to=vt)


def present_attrs(kind: str, attrs: Mapping[str, Any]) -> dict[str, Any]:
    """``attrs`` of a node or edge ``kind`` for people and JSON: times as ISO 8601."""
    spec = NODE_KIND_MAP.get(kind) or EDGE_KIND_MAP.get(kind)
    if spec is None:
        return dict(attrs)
    out = dict(attrs)
    for key, value in attrs.items():
        attr = spec.attr_map.get(key)
        if attr is not None and attr.type == "time" and isinstance(value, int):
            out[key] = format_time(value)
    return out


def fact_hash(fact: NodeFact | EdgeFact) -> str:
    """The content hash of a fact's attributes (time and provenance excluded)."""
    return content_hash(dict(fact.attrs))


def node_from_dict(raw: Mapping[str, Any], where: str = "") -> NodeFact:
    """Build a validated NodeFact from the native JSON shape
    ``{"type": "node", "kind", "name", "attrs", "time"}``."""
    if not isinstance(raw, Mapping):
        raise FactError(where, "(record)", raw, "expected an object")
    for required in ("kind", "name"):
        if required not in raw:
            raise FactError(where, required, None, "missing")
    t = raw.get("time", raw.get("valid_from"))
    vf = 0 if t is None else _check_time(t, where, "time")
    fact = NodeFact(raw["kind"], raw["name"], raw.get("attrs") or {}, vf,
                    _check_opt_time(raw.get("valid_to"), where, "valid_to"),
                    origin=where)
    return validate(fact)  # type: ignore[return-value]


def edge_from_dict(raw: Mapping[str, Any], where: str = "") -> EdgeFact:
    """Build a validated EdgeFact from ``{"type": "edge", "kind", "from", "to", ...}``."""
    if not isinstance(raw, Mapping):
        raise FactError(where, "(record)", raw, "expected an object")
    for required in ("kind", "from", "to"):
        if required not in raw:
            raise FactError(where, required, None, "missing")
    t = raw.get("time", raw.get("valid_from"))
    vf = 0 if t is None else _check_time(t, where, "time")
    fact = EdgeFact(raw["kind"], raw["from"], raw["to"], raw.get("attrs") or {}, vf,
                    _check_opt_time(raw.get("valid_to"), where, "valid_to"),
                    origin=where)
    return validate(fact)  # type: ignore[return-value]
