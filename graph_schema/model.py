"""The building blocks of the schema declaration: attributes, node kinds, edge kinds.

Everything else (validation, SQLite DDL, Neo4j constraints, the docs) is
derived from instances of these frozen classes, declared once in
:mod:`graph_schema.kinds`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from graph_schema.errors import FactError

#: attribute value types understood by the schema
ATTR_TYPES = ("str", "int", "float", "bool", "time", "str_list", "json")

_NAME_RE = re.compile(r"^[^\s:|\ud800-\udfff][^\s|\ud800-\udfff]*$")
#: a lone UTF-16 surrogate (JSON's "\\ud800" escape) is not text: no store can encode it
_SURROGATE = re.compile(r"[\ud800-\udfff]")
MAX_NAME_LEN = 512
MAX_STR_LEN = 65536
MAX_JSON_LEN = 262144


@dataclass(frozen=True, slots=True)
class Attr:
    """One typed attribute a node or edge kind may carry."""

    name: str
    type: str
    doc: str
    choices: tuple[str, ...] = ()
    min: float | None = None
    max: float | None = None
    #: learned by CCM (memory), not stated by sources: a new version of the fact that
    #: does not set it keeps the value of the version it replaces (so re-ingesting a
    #: manifest neither loses what memory learned nor versions the fact again)
    carried: bool = False

    def __post_init__(self) -> None:
        if self.type not in ATTR_TYPES:
            raise ValueError(f"attribute {self.name!r}: unknown type {self.type!r}")

    def check(self, value: Any, where: str) -> Any:
        """Return ``value`` normalised to this attribute's type, or raise FactError."""
        t = self.type
        # fast paths for values already of the right type (the common case)
        vt = type(value)
        if t == "str" and vt is str and not self.choices and len(value) <= MAX_STR_LEN and (
                value.isascii() or not _SURROGATE.search(value)):
            return value
        if t == "bool" and vt is bool:
            return value
        numeric = (t in ("int", "time") and vt is int) or (
            t == "float" and vt is float and math.isfinite(value))
        if numeric and (self.min is None or value >= self.min) and (
                self.max is None or value <= self.max):
            return value
        if t == "json" and vt is dict and _flat_ascii_strings(value):
            return value  # a label or annotation map: nothing to check further
        return self._check_slow(value, where)

    def _check_slow(self, value: Any, where: str) -> Any:
        field_name = f"attrs.{self.name}"
        if value is None:
            return None
        t = self.type
        if t == "bool":
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.lower() in ("true", "false"):
                return value.lower() == "true"
            raise FactError(where, field_name, value, "expected a boolean")
        if t in ("int", "time"):
            if isinstance(value, bool):
                raise FactError(where, field_name, value, "expected an integer")
            if isinstance(value, int):
                out: Any = value
            elif (isinstance(value, float) and value.is_integer()) or (
                    isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip())):
                out = int(value)
            else:
                what = "a time in microseconds" if t == "time" else "an integer"
                raise FactError(where, field_name, value, f"expected {what}")
            self._check_range(out, where)
            return out
        if t == "float":
            if isinstance(value, bool):
                raise FactError(where, field_name, value, "expected a number")
            try:
                out = float(value)
            except (TypeError, ValueError):
                raise FactError(where, field_name, value, "expected a number") from None
            if not math.isfinite(out):
                raise FactError(where, field_name, value, "expected a finite number")
            self._check_range(out, where)
            return out
        if t == "str":
            if isinstance(value, bool) or not isinstance(value, (str, int, float)):
                raise FactError(where, field_name, value, "expected a string")
            out = str(value)
            _check_text(out, where, field_name)
            if len(out) > MAX_STR_LEN:
                raise FactError(where, field_name, out[:40] + "...",
                                f"longer than {MAX_STR_LEN} characters")
            if self.choices and out not in self.choices:
                raise FactError(where, field_name, out,
                                "expected one of " + ", ".join(self.choices))
            return out
        if t == "str_list":
            if isinstance(value, str) or not isinstance(value, (list, tuple)):
                raise FactError(where, field_name, value, "expected a list of strings")
            items = []
            for item in value:
                if not isinstance(item, (str, int, float)) or isinstance(item, bool):
                    raise FactError(where, field_name, item, "expected a list of strings")
                items.append(str(item))
                _check_text(items[-1], where, field_name)
            return items
        # json: any JSON-compatible structure; size-bounded
        _check_json(value, where, field_name)
        return value

    def _check_range(self, value: float, where: str) -> None:
        if self.min is not None and value < self.min:
            raise FactError(where, f"attrs.{self.name}", value, f"must be >= {self.min:g}")
        if self.max is not None and value > self.max:
            raise FactError(where, f"attrs.{self.name}", value, f"must be <= {self.max:g}")


def _flat_ascii_strings(value: dict[Any, Any]) -> bool:
    """Whether ``value`` maps ASCII strings to ASCII strings (no surrogate, no nesting:
    the JSON check has nothing to find in it)."""
    for k, v in value.items():
        if type(k) is not str or type(v) is not str or not (k.isascii() and v.isascii()):
            return False
    return True


def _check_text(value: str, where: str, field_name: str) -> None:
    if not value.isascii() and _SURROGATE.search(value):
        raise FactError(where, field_name, value.encode("utf-8", "backslashreplace").decode(),
                        "contains a lone UTF-16 surrogate, which is not text")


def _check_json(value: Any, where: str, field_name: str, depth: int = 0) -> None:
    if depth > 20:
        raise FactError(where, field_name, "...", "nested deeper than 20 levels")
    if isinstance(value, str):
        _check_text(value, where, field_name)
        return
    if value is None or isinstance(value, (bool, int)):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise FactError(where, field_name, value, "expected a finite number")
        return
    if isinstance(value, Mapping):
        for k, v in value.items():
            if not isinstance(k, str):
                raise FactError(where, field_name, k, "object keys must be strings")
            _check_text(k, where, field_name)
            _check_json(v, where, field_name, depth + 1)
        return
    if isinstance(value, (list, tuple)):
        for v in value:
            _check_json(v, where, field_name, depth + 1)
        return
    raise FactError(where, field_name, repr(value)[:60], "not JSON-compatible")


@dataclass(frozen=True, slots=True)
class NodeKind:
    """A kind of node; nodes are addressed ``<kind>:<name>``."""

    name: str
    doc: str
    attrs: tuple[Attr, ...]
    #: a regular expression the node name must match (beyond the general rules)
    name_pattern: str | None = None
    name_hint: str = ""
    attr_map: Mapping[str, Attr] = field(init=False, repr=False, compare=False)
    #: names of the carried attributes (see :attr:`Attr.carried`)
    carried: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "attr_map", {a.name: a for a in self.attrs})
        object.__setattr__(self, "carried", tuple(a.name for a in self.attrs if a.carried))

    @property
    def label(self) -> str:
        """The Neo4j label for this kind (``service`` -> ``Service``)."""
        return "".join(part.capitalize() for part in self.name.split("_"))

    def check_name(self, name: Any, where: str) -> str:
        if not isinstance(name, str) or not name:
            raise FactError(where, "name", name, "expected a non-empty string")
        if len(name) > MAX_NAME_LEN:
            raise FactError(where, "name", name[:40] + "...",
                            f"longer than {MAX_NAME_LEN} characters")
        if not _NAME_RE.match(name):
            raise FactError(where, "name", name.encode("utf-8", "backslashreplace").decode(),
                            "must not contain whitespace, '|' or a lone UTF-16 surrogate, "
                            "nor start with ':'")
        if self.name_pattern and not re.fullmatch(self.name_pattern, name):
            raise FactError(where, "name", name, f"a {self.name} name must be {self.name_hint}")
        return name


@dataclass(frozen=True, slots=True)
class EdgeKind:
    """A kind of directed edge between two nodes."""

    name: str
    doc: str
    sources: tuple[str, ...]
    targets: tuple[str, ...]
    attrs: tuple[Attr, ...] = ()
    attr_map: Mapping[str, Attr] = field(init=False, repr=False, compare=False)
    #: names of the carried attributes (see :attr:`Attr.carried`)
    carried: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "attr_map", {a.name: a for a in self.attrs})
        object.__setattr__(self, "carried", tuple(a.name for a in self.attrs if a.carried))
