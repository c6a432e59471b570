"""Backstage Location entities: the catalog files they point at.

A Location (``kind: Location``) names other catalog files in ``spec.target`` and
``spec.targets``. CCM follows the targets that are files relative to the
Location's own file (``./components/x.yaml``, ``../apis/y.yaml``, globs such as
``./*/catalog-info.yaml``), so that ingesting a catalog's root ``all.yaml`` reads
the whole catalog. The rules:

- a target must stay inside the folder of the file given to ``ccm ingest`` that
  led to it (the *root*): ``../`` that leaves it, or a symbolic link that points
  out of it, is an error naming the Location, the field and the value;
- absolute paths are errors (a catalog moved to another machine would read other
  files); URLs (``https://...``, or ``spec.type: url``) are not fetched: a note
  says so;
- a file is read once per run, however many Locations (or inputs) name it, so
  Locations that name each other end;
- a target that names no file is an error; the Location's other targets and
  entities are kept.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graph_schema import FactError
from ingest.source import Source

_GLOB = set("*?[")


@dataclass
class Targets:
    """What one Location document names: files to read, errors, notes."""

    sources: list[Source] = field(default_factory=list)
    errors: list[FactError] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def location_targets(value: Mapping[str, Any], where: str, src: Source,
                     root: Path | None) -> Targets:
    """The catalog files a Location document of ``src`` names (see the module doc)."""
    out = Targets()
    spec = value.get("spec")
    if not isinstance(spec, Mapping):
        out.errors.append(FactError(where, "spec", spec, "expected a map with target(s)"))
        return out
    items: list[tuple[str, Any]] = []
    if "target" in spec:
        items.append(("spec.target", spec["target"]))
    targets = spec.get("targets")
    if targets is not None and not isinstance(targets, list):
        out.errors.append(FactError(where, "spec.targets", targets, "expected a list"))
    elif targets:
        items.extend((f"spec.targets[{i}]", t) for i, t in enumerate(targets))
    remote = str(spec.get("type") or "").lower() == "url"
    for name, text in items:
        if not isinstance(text, str) or not text.strip():
            out.errors.append(FactError(where, name, text, "expected a file path"))
        elif remote or "://" in text:
            out.notes.append(f"{where}: {name} {text!r} not followed (CCM reads files, "
                             "not URLs: ingest that file itself)")
        elif src.path is None:
            out.notes.append(f"{where}: {name} {text!r} not followed (a payload has no "
                             "folder to read it from)")
        else:
            _add(out, src.path, text.strip(), root, where, name)
    return out


def _add(out: Targets, location: Path, text: str, root: Path | None, where: str,
         name: str) -> None:
    if Path(text).is_absolute():
        out.errors.append(FactError(where, name, text, "an absolute path: name the file "
                                    "relative to the Location's file"))
        return
    base = location.parent
    if _GLOB & set(text):
        found = sorted(p for p in base.glob(text) if p.is_file())
        if not found:
            out.notes.append(f"{where}: {name} {text!r} matches no file")
    else:
        found = [base / text]
    for path in found:
        path = Path(os.path.normpath(path))
        real = path.resolve()
        if root is not None and not real.is_relative_to(root):
            out.errors.append(FactError(where, name, text, f"leaves {root}, the folder of "
                                        "the file ingested: CCM reads no file outside it"))
        elif not real.is_file():
            out.errors.append(FactError(where, name, text, f"no such file ({path})"))
        else:
            out.sources.append(Source.from_path(path))
