"""The notebooks run top to bottom on the embedded store, are committed without outputs,
and define no logic of their own (helpers belong in the packages, with tests)."""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat
import pytest
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

FOLDER = Path(__file__).resolve().parent.parent / "notebooks"
#: every notebook, with the figures it draws
FIGURES = {"rca_walkthrough.ipynb": 1, "blast_radius.ipynb": 4,
           "memory_and_calibration.ipynb": 2, "benchmark_results.ipynb": 2}
NOTEBOOKS = list(FIGURES)
#: seconds one notebook may take (a few seconds with the engine's kernels compiled; the
#: margin covers a first run that compiles them)
TIMEOUT = 300


def read(name: str) -> nbformat.NotebookNode:
    return nbformat.read(FOLDER / name, as_version=4)


def code(nb: nbformat.NotebookNode) -> list[str]:
    return [c.source for c in nb.cells if c.cell_type == "code"]


def test_every_notebook_in_the_folder_is_run_here():
    assert sorted(p.name for p in FOLDER.glob("*.ipynb")) == sorted(NOTEBOOKS)


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_the_notebook_is_committed_without_outputs_or_execution_counts(name):
    nb = read(name)
    nbformat.validate(nb)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{name} cell {i} has outputs"
            assert cell.execution_count is None, f"{name} cell {i} has an execution count"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_the_notebook_defines_no_functions_or_classes_and_imports_ccm(name):
    sources = code(read(name))
    for source in sources:
        for node in ast.walk(ast.parse(source)):
            assert not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef
                                  | ast.Lambda), f"{name} defines logic: {ast.unparse(node)[:80]}"
    assert any("from ccm." in s for s in sources)


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_the_notebook_runs_top_to_bottom_and_draws(name, tmp_path):
    nb = read(name)
    # the kernel listens on Unix sockets in tmp_path, not on TCP ports
    km = KernelManager(kernel_name="python3", transport="ipc", ip=str(tmp_path / "kernel"))
    NotebookClient(nb, km=km, timeout=TIMEOUT, resources={"metadata": {"path": str(FOLDER)}},
                   ).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) == FIGURES[name], f"{name} drew {len(images)} figures"
