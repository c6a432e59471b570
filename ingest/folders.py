"""Folders as repositories ship them: what to read in them, and what to say instead.

``ccm ingest manifests/`` walks the folder (hidden files and folders skipped). A
file found there that no format recognises (a README, a LICENSE, NOTES.txt, a
Helm ``values.yaml``) is skipped with a note; a file named on the command line
that no format recognises is an error.

Two kinds of folder are not read file by file, because their files are not the
manifests they stand for:

- a **Helm chart** (a folder with ``Chart.yaml``): its templates are Go templates,
  not YAML. With ``helm`` on PATH, CCM renders it (``helm template NAME DIR``,
  NAME the folder's name) and reads the output as Kubernetes manifests; without,
  the chart is skipped with a note saying how to render it.
- a **Kustomize folder** (``kustomization.yaml``, ``kustomization.yml`` or
  ``Kustomization``): with ``kubectl`` on PATH, CCM renders it (``kubectl
  kustomize DIR``); without, a kustomization that only lists files of its folder
  under ``resources`` (nothing to patch, generate or rename) is read as those
  files, the folder's other files skipped with a note; any other is skipped with
  a note saying how to render it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ingest.source import Source

CHART = "Chart.yaml"
KUSTOMIZATIONS = ("kustomization.yaml", "kustomization.yml", "Kustomization")
#: the longest a render may take (seconds)
RENDER_TIMEOUT = 300
#: the keys of a kustomization that only lists resources
_PLAIN_KEYS = {"apiVersion", "kind", "resources", "components"}

__all__ = ["Input", "find_inputs", "input_of"]


@dataclass
class Input:
    """One thing to ingest: a file, a rendered chart, or only a note about a folder."""

    #: what the report names
    path: str
    #: what to read (None: nothing; the report holds only ``notes`` and ``error``)
    source: Source | None = None
    #: named on the command line: unrecognised is an error, not a note
    named: bool = False
    #: the format it is read as (None: detected)
    fmt: str | None = None
    notes: list[str] = field(default_factory=list)
    error: str | None = None


def input_of(src: Source) -> Input:
    """A source given as such (a named file, a payload)."""
    return Input(str(src), src, named=True)


def find_inputs(paths: Iterable[str | Path]) -> list[Input]:
    """What to ingest for ``paths`` (files and folders), in path order within each."""
    out: list[Input] = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(_walk(p))
        else:
            out.append(Input(str(p), Source.from_path(p), named=True))
    return out


def _walk(top: Path) -> list[Input]:
    out: list[Input] = []
    for root, dirs, files in os.walk(top):
        here = Path(root)
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        names = sorted(f for f in files if not f.startswith("."))
        folder = _folder(here, names)
        if folder is not None:
            inputs, only = folder
            out.extend(inputs)
            dirs[:] = []  # nothing under it is read but what it lists
            if only is None:  # rendered or skipped whole
                continue
            names = [n for n in names if n in only]
        out.extend(Input(str(here / f), Source.from_path(here / f)) for f in names)
    return out


def _folder(here: Path, names: list[str]) -> tuple[list[Input], set[str] | None] | None:
    """For a Helm chart or Kustomize folder: its inputs, and the files of the folder
    still to read as they are (None: none, nor its subfolders). None: a plain folder."""
    if CHART in names:
        return [_render(here, "helm", ["template", _release(here), str(here)],
                        "a Helm chart (its templates are not YAML)")], None
    kust = next((k for k in KUSTOMIZATIONS if k in names), None)
    if kust is None:
        return None
    why = "a Kustomize folder"
    if shutil.which("kubectl"):
        return [_render(here, "kubectl", ["kustomize", str(here)], why)], None
    resources = _plain_resources(here / kust, names)
    if resources is None:
        return [_render(here, "kubectl", ["kustomize", str(here)], why)], None
    skipped = sorted(set(names) - resources - {kust})
    note = Input(str(here), notes=[
        f"{here}: a Kustomize folder that only lists resources: read {len(resources)} "
        f"file(s) as they are" + (f", skipped {', '.join(skipped)} (not listed)"
                                  if skipped else "")
        + f"; `kubectl kustomize {here}` renders it exactly"])
    return [note], resources


def _release(chart: Path) -> str:
    """A Helm release name for the chart folder (lower-case letters, digits, dashes)."""
    name = re.sub(r"[^a-z0-9-]+", "-", chart.resolve().name.lower()).strip("-")[:53]
    return name.strip("-") or "release"


def _plain_resources(kustomization: Path, names: list[str]) -> set[str] | None:
    """The files a kustomization lists, when it lists only files of its own folder and
    does nothing else to them; else None."""
    try:
        doc: Any = yaml.safe_load(kustomization.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    if not isinstance(doc, dict) or set(doc) - _PLAIN_KEYS or doc.get("components"):
        return None
    resources = doc.get("resources") or []
    if not isinstance(resources, list) or not all(isinstance(r, str) for r in resources):
        return None
    listed = set(resources)
    return listed if listed <= set(names) else None


def _render(here: Path, tool: str, args: list[str], what: str) -> Input:
    """``tool args`` run on the folder, its output to read as Kubernetes manifests; or,
    without the tool, a note saying how to render it."""
    command = " ".join([tool, *args])
    exe = shutil.which(tool)
    if exe is None:
        return Input(str(here), notes=[
            f"{here}: {what}: not read; `{tool}` is not on PATH. Render it and ingest the "
            f"output: `{command} > rendered.yaml && ccm ingest rendered.yaml`"])
    try:
        done = subprocess.run([exe, *args], capture_output=True, timeout=RENDER_TIMEOUT,
                              check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Input(str(here), error=f"{here}: `{command}` failed: {exc}")
    if done.returncode != 0:
        lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
        return Input(str(here), error=f"{here}: `{command}` exited with status "
                                      f"{done.returncode}: {lines[-1] if lines else ''}")
    name, key = f"{here} ({tool} {args[0]})", f"{here.resolve()} ({tool} {args[0]})"
    return Input(name, Source(name, key, data=done.stdout), fmt="k8s",
                 notes=[f"{here}: {what}, rendered with `{command}`"])
