"""YAML configuration files (action registries, policies): load, and point errors at
the file, line and field that are wrong."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from ccm.errors import ConfigError


class YamlDoc:
    """A parsed YAML document that remembers where every value came from."""

    def __init__(self, text: str, source: str) -> None:
        self.source = source
        try:
            self.data: Any = yaml.safe_load(text)
            self._root = yaml.compose(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = f":{mark.line + 1}" if mark is not None else ""
            problem = getattr(exc, "problem", None) or str(exc)
            raise ConfigError(f"{source}{line}: not valid YAML ({problem})") from None

    @classmethod
    def read(cls, path: str | Path) -> YamlDoc:
        p = Path(path).expanduser()
        try:
            text = p.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read {p}: {exc.strerror}") from None
        return cls(text, str(p))

    def line(self, loc: Sequence[Any]) -> int | None:
        """The 1-based line of the value at ``loc`` (keys and list indexes), or of the
        deepest part of it that exists."""
        node = self._root
        best = node.start_mark.line + 1 if node is not None else None
        for part in loc:
            if isinstance(node, yaml.MappingNode):
                nxt = next((v for k, v in node.value if getattr(k, "value", None) == str(part)),
                           None)
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) \
                    and 0 <= part < len(node.value):
                nxt = node.value[part]
            else:
                nxt = None
            if nxt is None:
                break
            node = nxt
            best = node.start_mark.line + 1
        return best

    def error(self, loc: Sequence[Any], message: str, value: Any = None) -> ConfigError:
        """A ConfigError naming the file, line, field and value."""
        field = ".".join(str(p) for p in loc) or "(document)"
        line = self.line(loc)
        where = f"{self.source}:{line}" if line else self.source
        shown = "" if value is None else f" (value {value!r})"
        return ConfigError(f"{where}: {field}{shown}: {message}")


def pydantic_error(doc: YamlDoc, base: Sequence[Any], exc: Any) -> ConfigError:
    """Turn the first error of a pydantic ValidationError into a ConfigError."""
    err = exc.errors()[0]
    loc = list(base)
    node: Any = doc.data
    for part in base:
        node = node[part] if isinstance(node, dict | list) else None
    parts = list(err["loc"])
    for i, part in enumerate(parts):
        # pydantic adds union/discriminator tags to the location: keep real keys only
        if isinstance(node, dict) and part in node or isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        elif isinstance(node, dict) and isinstance(part, str) and i < len(parts) - 1:
            continue
        else:
            node = None
        loc.append(part)
    value = err.get("input")
    if isinstance(value, dict | list):
        value = None
    return doc.error(loc, err["msg"], value)
