"""Benchmark cases on disk: finding them, reading ``case.yaml``, checking the layout.

A case is a folder (see ``spec/benchmark-cases.md``)::

    <case-id>/case.yaml  topology/  changes/  alerts/  truth.yaml

:func:`load_case` reads everything a method may see (``case.yaml`` and the list of
input files); ``truth.yaml`` is read only by :mod:`ccm.bench.truth`, for scoring.
Every problem raises :class:`~ccm.errors.CaseInvalid` naming the case, the file and
the field. Hidden files (``.gitkeep``) and empty files are skipped, as ``ccm ingest``
skips them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ccm.errors import CaseInvalid
from graph_schema import TimeParseError, parse_duration, parse_time
from ingest.adapters import registry
from ingest.core import detect, expand
from ingest.source import Source

CASE_FILE = "case.yaml"
TRUTH_FILE = "truth.yaml"
SECTIONS = ("topology", "changes", "alerts")
#: how far back changes are considered when case.yaml gives no ``window``
DEFAULT_WINDOW = "P7D"
_MARKERS = (CASE_FILE, TRUTH_FILE, *SECTIONS)

__all__ = ["CASE_FILE", "DEFAULT_WINDOW", "SECTIONS", "TRUTH_FILE", "Case", "cases_digest",
           "find_case_dirs", "load_case", "load_cases", "read_yaml"]


@dataclass(frozen=True, slots=True)
class Case:
    """What a method may know about a case: its metadata and its input files.

    ``question_time`` and ``window`` are microseconds; ``files`` are the topology,
    changes and alerts files, in that order. ``category`` comes from case.yaml
    (``uncategorised`` when absent) and is used only to break results down.
    """

    id: str
    path: Path
    title: str
    source: str
    question_time: int
    window: int
    category: str
    files: tuple[Path, ...]
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def synthetic(self) -> bool:
        return self.source == "synthetic"


def read_yaml(case: str, path: Path) -> Any:
    """The parsed YAML document at ``path``, or CaseInvalid naming the file."""
    if not path.is_file():
        raise CaseInvalid(case, path.name, "", "missing (every case needs one)")
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise CaseInvalid(case, path.name, "", f"not valid YAML: {exc}") from None


def _text(case: str, doc: Mapping[str, Any], key: str, *, required: bool = True) -> str:
    value = doc.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not value.strip():
        problem = "missing" if value is None else f"expected a non-empty string, got {value!r}"
        raise CaseInvalid(case, CASE_FILE, key, problem)
    return value


def _time(case: str, doc: Mapping[str, Any], key: str) -> int:
    value = doc.get(key)
    if value is None:
        raise CaseInvalid(case, CASE_FILE, key, "missing")
    try:
        return parse_time(value)
    except TimeParseError as exc:
        raise CaseInvalid(case, CASE_FILE, key, f"{exc} (use ISO 8601 UTC like "
                          "2026-03-04T10:20:00Z)") from None


def _window(case: str, doc: Mapping[str, Any]) -> int:
    value = doc.get("window", DEFAULT_WINDOW)
    try:
        micros = parse_duration(value)
    except TimeParseError as exc:
        raise CaseInvalid(case, CASE_FILE, "window", f"{exc}") from None
    if micros <= 0:
        raise CaseInvalid(case, CASE_FILE, "window", f"must be positive, got {value!r}")
    return micros


def _check_layout(case: str, folder: Path) -> None:
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.name in (CASE_FILE, TRUTH_FILE) and entry.is_file():
            continue
        if entry.name in SECTIONS and entry.is_dir():
            continue
        raise CaseInvalid(case, entry.name, "", "unknown extra file (a case folder holds only "
                          f"{CASE_FILE}, {TRUTH_FILE} and the folders {', '.join(SECTIONS)})")


def _blank(path: Path) -> bool:
    with open(path, "rb") as fh:
        return not fh.read(4096).strip()


def _detectable(path: Path, adapters: Mapping[str, Any]) -> bool:
    """Whether ``ccm ingest`` recognises the format of ``path``."""
    return detect(Source.from_path(path), adapters) is not None


def _input_files(case: str, folder: Path) -> tuple[Path, ...]:
    adapters = registry()
    files: list[Path] = []
    for section in SECTIONS:
        part = folder / section
        if not part.is_dir():
            continue
        for path in expand([part]):
            rel = str(path.relative_to(folder))
            if _blank(path):
                continue  # an empty file holds no facts
            if not _detectable(path, adapters):
                raise CaseInvalid(case, rel, "", "unknown extra file: not in any format "
                                  f"ccm ingest reads (known: {', '.join(adapters)})")
            files.append(path)
    return tuple(files)


def load_case(folder: str | Path) -> Case:
    """Read and check the case in ``folder`` (not its truth; see ccm.bench.truth)."""
    folder = Path(folder)
    case = folder.name
    _check_layout(case, folder)
    doc = read_yaml(case, folder / CASE_FILE)
    if not isinstance(doc, Mapping):
        raise CaseInvalid(case, CASE_FILE, "", f"expected a mapping of fields, got {doc!r}")
    case_id = doc.get("id")
    if case_id != case:
        raise CaseInvalid(case, CASE_FILE, "id", f"must equal the folder name {case!r}, "
                          f"got {case_id!r}")
    if not (folder / TRUTH_FILE).is_file():
        raise CaseInvalid(case, TRUTH_FILE, "", "missing (every case needs one)")
    known = {"id", "title", "source", "question_time", "window", "category"}
    category = doc.get("category", "uncategorised")
    if not isinstance(category, str) or not category:
        raise CaseInvalid(case, CASE_FILE, "category", f"expected a string, got {category!r}")
    return Case(
        id=case, path=folder, title=_text(case, doc, "title"),
        source=_text(case, doc, "source"), question_time=_time(case, doc, "question_time"),
        window=_window(case, doc), category=category, files=_input_files(case, folder),
        extra={k: v for k, v in doc.items() if k not in known})


def _is_case_dir(folder: Path) -> bool:
    return any((folder / m).exists() for m in _MARKERS)


def find_case_dirs(root: str | Path) -> list[Path]:
    """Case folders under ``root`` (``root`` itself when it is one), sorted by path.

    A folder is a case when it holds case.yaml, truth.yaml or a topology/changes/alerts
    folder; other folders are collections and are searched recursively.
    """
    root = Path(root)
    if not root.is_dir():
        raise CaseInvalid(root.name, str(root), "", "no such folder of cases")
    if _is_case_dir(root):
        return [root]
    out: list[Path] = []
    for sub in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        out.extend(find_case_dirs(sub))
    return out


def load_cases(roots: Iterable[str | Path], *, categories: Iterable[str] = (),
               limit: int | None = None, errors: list[CaseInvalid] | None = None
               ) -> list[Case]:
    """Every case under ``roots``, checked; filtered by category, then cut to ``limit``.

    Case ids must be unique across the roots. The first invalid case raises
    CaseInvalid, unless ``errors`` is given: then every invalid case is appended to it
    and left out.
    """
    wanted = set(categories)
    cases: list[Case] = []
    seen: dict[str, Path] = {}
    for root in roots:
        for folder in find_case_dirs(root):
            try:
                case = load_case(folder)
                if case.id in seen:
                    raise CaseInvalid(case.id, CASE_FILE, "id",
                                      f"duplicate id (also in {seen[case.id]})")
            except CaseInvalid as exc:
                if errors is None:
                    raise
                errors.append(exc)
                continue
            seen[case.id] = folder
            if not wanted or case.category in wanted:
                cases.append(case)
    return cases[:limit] if limit is not None else cases


def cases_digest(cases: Sequence[Case]) -> str:
    """sha256 over every file of ``cases`` (case id, path in the case, content), in order:
    names exactly which case set a result comes from."""
    h = hashlib.sha256()
    for case in sorted(cases, key=lambda c: c.id):
        for path in sorted(p for p in case.path.rglob("*") if p.is_file()):
            h.update(f"{case.id}/{path.relative_to(case.path).as_posix()}\n".encode())
            h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()
