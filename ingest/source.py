"""Where ingest reads from, and reading it safely.

A :class:`Source` is a file or an in-memory payload (an API request body); every
adapter reads through it, so files and payloads share one code path. The readers
here never crash or hang on hostile input: lines are bounded, whole-file formats
have a size limit, text must be UTF-8 (a BOM is tolerated, UTF-16 is named), NUL
bytes mean binary data, and YAML is loaded with the safe loader with its alias
expansion bounded (no billion laughs).
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import orjson
import yaml

from ccm.errors import CCMError
from graph_schema import FactError

MAX_LINE_BYTES = 16 * 1024 * 1024
#: the largest whole-file input (JSON documents, YAML streams are read per document)
MAX_FILE_BYTES = 256 * 1024 * 1024
#: the largest YAML document
MAX_DOC_BYTES = 16 * 1024 * 1024
#: the most values a YAML document may expand to once its aliases are followed
MAX_YAML_VALUES = 1_000_000

_YAML_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_DOC_START = re.compile(r"^---(\s|$)")
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
#: ASCII digits (the only ones JSON numbers have) all read as "0", and 19 of them in a row
_DIGITS_AS_0 = bytes.maketrans(b"123456789", b"000000000")
_LONG_DIGITS = b"0" * 19


class IngestError(CCMError):
    """A file could not be ingested at all (unreadable, unrecognised, not text)."""


@dataclass(frozen=True)
class Source:
    """A file, or a payload held in memory, to ingest.

    ``name`` is what errors show; ``key`` identifies the source across runs (a
    file's absolute path, or the name given to a payload) for per-source state
    such as which objects a manifest held last time.
    """

    name: str
    key: str
    path: Path | None = None
    data: bytes | None = None

    @classmethod
    def from_path(cls, path: str | Path) -> Source:
        p = Path(path)
        try:
            key = str(p.resolve())
        except OSError:
            key = str(p)
        return cls(str(p), key, path=p)

    @classmethod
    def from_bytes(cls, data: bytes, name: str) -> Source:
        return cls(name, name, data=bytes(data))

    @property
    def suffix(self) -> str:
        return Path(self.name).suffix.lower()

    def named_like(self, *suffixes: str) -> bool:
        """Whether the name ends with one of ``suffixes``, or has no suffix at all (a
        payload named ``webhook`` is judged by its content alone)."""
        return self.suffix in suffixes or not self.suffix

    def exists(self) -> bool:
        return self.data is not None or (self.path is not None and self.path.exists())

    def size(self) -> int:
        if self.data is not None:
            return len(self.data)
        assert self.path is not None
        return self.path.stat().st_size

    def open(self) -> IO[bytes]:
        if self.data is not None:
            return io.BytesIO(self.data)
        assert self.path is not None
        return open(self.path, "rb")

    def __str__(self) -> str:
        return self.name


def _utf16_error(src: Source) -> IngestError:
    return IngestError(f"{src}: UTF-16 encoded text; save it as UTF-8 and retry")


def iter_lines(src: Source, on_bytes: Callable[[int], None] | None = None
               ) -> Iterator[tuple[int, str | FactError]]:
    """Yield ``(line number, text)`` of a UTF-8 text source, or ``(n, FactError)`` for a
    line that is too long, not UTF-8, or holds NUL bytes. Never holds more than
    :data:`MAX_LINE_BYTES` of one line in memory."""
    with src.open() as fh:
        n = 0
        while True:
            raw = fh.readline(MAX_LINE_BYTES + 1)
            if not raw:
                return
            n += 1
            if on_bytes:
                on_bytes(len(raw))
            if n == 1:
                if raw.startswith(_UTF16_BOMS):
                    raise _utf16_error(src)
                raw = raw.removeprefix(b"\xef\xbb\xbf")
            if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
                skipped = len(raw)
                while raw and not raw.endswith(b"\n"):
                    raw = fh.readline(MAX_LINE_BYTES)
                    skipped += len(raw)
                    if on_bytes:
                        on_bytes(len(raw))
                yield n, FactError(f"{src}:{n}", "(line)", f"{skipped} bytes",
                                   f"line longer than {MAX_LINE_BYTES // (1024 * 1024)} MiB")
                continue
            if b"\x00" in raw:
                yield n, FactError(f"{src}:{n}", "(line)", raw[:20].hex(),
                                   "binary data (NUL bytes), not text")
                continue
            try:
                yield n, raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                yield n, FactError(f"{src}:{n}", "(line)", f"byte {exc.start}",
                                   "not valid UTF-8 text")


def read_head(src: Source, size: int = 4096) -> str:
    """The first bytes of ``src`` as text (empty for binary data), for format detection."""
    with src.open() as fh:
        data = fh.read(size)
    if b"\x00" in data or data.startswith(_UTF16_BOMS):
        return ""
    return data.decode("utf-8", errors="replace").lstrip("\ufeff")


def read_text(src: Source, limit: int = MAX_FILE_BYTES) -> str:
    """The whole text of ``src`` (UTF-8, BOM tolerated) of at most ``limit`` bytes."""
    size = src.size()
    if size > limit:
        raise IngestError(f"{src}: {size} bytes is over the {limit // (1024 * 1024)} MiB "
                          "limit for this format")
    with src.open() as fh:
        data = fh.read(limit + 1)
    if data.startswith(_UTF16_BOMS):
        raise _utf16_error(src)
    if b"\x00" in data:
        raise IngestError(f"{src}: binary data (NUL bytes), not a text file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise IngestError(f"{src}: not valid UTF-8 text (line {line}, byte {exc.start})"
                          ) from None


def loads(text: str) -> Any:
    """``json.loads``, parsed by orjson (several times faster) where both agree: a text
    orjson refuses (NaN, Infinity, overflowing exponents, lone surrogates, deep nesting)
    or may read differently (orjson reads integers beyond 64 bits as floats: any run of
    19 digits) is parsed by ``json.loads``, so the result is always ``json.loads``'s."""
    if _LONG_DIGITS not in text.encode("utf-8", "surrogatepass").translate(_DIGITS_AS_0):
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            pass
    return json.loads(text)


def parse_json(text: str, where: str) -> Any:
    """``json.loads`` with errors as FactError naming ``where``."""
    try:
        return loads(text)
    except ValueError as exc:
        raise FactError(where, "(json)", text.strip()[:80], f"not JSON: {exc}") from None
    except RecursionError:
        raise FactError(where, "(json)", text.strip()[:80], "JSON nested too deeply") from None


def iter_json_records(src: Source, on_bytes: Callable[[int], None] | None = None
                      ) -> Iterator[tuple[str, Any]]:
    """``(where, value or FactError)`` for each JSON value of ``src``.

    A source whose first line is a complete JSON value is JSON Lines (one value per
    line); otherwise the whole source is one JSON document, and a top-level list
    yields its items.
    """
    if _first_line_is_json(src):
        for n, line in iter_lines(src, on_bytes):
            where = f"{src}:{n}"
            if isinstance(line, FactError):
                yield where, line
            elif line.strip():
                try:
                    yield where, parse_json(line, where)
                except FactError as exc:
                    yield where, exc
        return
    text = read_text(src)
    if on_bytes:
        on_bytes(src.size())
    doc = parse_json(text, str(src))
    items = doc if isinstance(doc, list) else [doc]
    for i, item in enumerate(items):
        yield (f"{src}[{i}]" if isinstance(doc, list) else str(src)), item


def _first_line_is_json(src: Source) -> bool:
    for _, line in iter_lines(src):
        if isinstance(line, FactError):
            return True
        if line.strip():
            try:
                json.loads(line)
            except (ValueError, RecursionError):
                return False
            return True
    return True


# -- YAML --------------------------------------------------------------------------------

@dataclass(frozen=True)
class YamlDoc:
    """One document of a YAML stream: its position, and its value or why it has none."""

    index: int
    line: int
    value: Any
    error: FactError | None = None

    def where(self, src: Source) -> str:
        return f"{src}: document {self.index} (line {self.line})"


def iter_yaml_documents(src: Source, on_bytes: Callable[[int], None] | None = None
                        ) -> Iterator[YamlDoc]:
    """The documents of a YAML stream, loaded one at a time with the safe loader.

    Empty documents (only comments) are skipped. A document that does not parse, is
    over :data:`MAX_DOC_BYTES`, or expands past :data:`MAX_YAML_VALUES` values comes
    with an error; the others are unaffected.
    """
    index, start, size = 0, 1, 0
    lines: list[str] = []
    bad: FactError | None = None
    for n, line in iter_lines(src, on_bytes):
        if isinstance(line, str) and _DOC_START.match(line) and (lines or bad):
            doc = _load_doc(src, index + 1, start, lines, bad)
            if doc is not None:
                index += 1
                yield doc
            lines, bad, size, start = [], None, 0, n
        if isinstance(line, FactError):
            bad = bad or line
            continue
        size += len(line)
        if size > MAX_DOC_BYTES:
            bad = bad or FactError(f"{src}:{n}", "(document)", f"{size} bytes",
                                   f"YAML document larger than {MAX_DOC_BYTES // 2**20} MiB")
            lines = []
        elif bad is None:
            lines.append(line)
    if lines or bad:
        doc = _load_doc(src, index + 1, start, lines, bad)
        if doc is not None:
            yield doc


def _load_doc(src: Source, index: int, line: int, lines: list[str],
              bad: FactError | None) -> YamlDoc | None:
    doc = YamlDoc(index, line, None)
    where = doc.where(src)
    if bad is not None:
        return YamlDoc(index, line, None, bad)
    text = "".join(lines)
    try:
        value = yaml.load(text, Loader=_YAML_LOADER)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        if mark is None:
            return YamlDoc(index, line, None, FactError(where, "(yaml)", "", f"not YAML: {problem}"))
        text = lines[mark.line].strip()[:60] if mark.line < len(lines) else ""
        return YamlDoc(index, line, None, FactError(
            where, "(yaml)", text, f"not YAML at line {line + mark.line}: {problem}"))
    except RecursionError:
        return YamlDoc(index, line, None,
                       FactError(where, "(yaml)", "...", "YAML nested too deeply"))
    if value is None:
        return None
    try:
        check_expansion(value, where)
    except FactError as exc:
        return YamlDoc(index, line, None, exc)
    return YamlDoc(index, line, value)


def check_expansion(value: Any, where: str, limit: int = MAX_YAML_VALUES) -> None:
    """Raise FactError if ``value`` (aliases followed) holds more than ``limit`` values,
    nests deeper than 100 levels, or contains itself."""
    count = 0
    stack: list[tuple[Any, int, frozenset[int]]] = [(value, 0, frozenset())]
    while stack:
        item, depth, path = stack.pop()
        count += 1
        if count > limit:
            raise FactError(where, "(yaml)", f"> {limit} values",
                            "YAML aliases expand too far (an alias bomb?)")
        if depth > 100:
            raise FactError(where, "(yaml)", "...", "YAML nested deeper than 100 levels")
        if isinstance(item, dict):
            children: Any = list(item.keys()) + list(item.values())
        elif isinstance(item, list):
            children = item
        else:
            continue
        if id(item) in path:
            raise FactError(where, "(yaml)", "...", "YAML value contains itself (recursive alias)")
        inner = path | {id(item)}
        stack.extend((c, depth + 1, inner) for c in children)


@dataclass
class ManifestObject:
    """One object of a YAML manifest or catalog (a Kubernetes object, a Backstage
    entity): its kind, namespace and name, the parsed body, and where it was read."""

    kind: str
    namespace: str
    name: str
    body: Mapping[str, Any]
    where: str

    @property
    def meta(self) -> Mapping[str, Any]:
        return self.body.get("metadata") or {}

    @property
    def spec(self) -> Mapping[str, Any]:
        spec = self.body.get("spec")
        return spec if isinstance(spec, Mapping) else {}

