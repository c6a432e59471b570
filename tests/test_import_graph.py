"""The import graph of ccm, ingest and graph_schema has no cycle and no private import.

The graph is read with :mod:`ast`, so every import counts: at module level, inside a
function and under ``TYPE_CHECKING``. A module is a node; a package is ``ingest``,
``graph_schema`` or ``ccm.X`` (the second level of ccm).
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

ROOT = Path(__file__).resolve().parent.parent
TOP = ("ccm", "ingest", "graph_schema")

# engine: being changed in the rca branch; to remove after it lands
ENGINE_CYCLES = {frozenset({"ccm.engine.chains", "ccm.engine.rca", "ccm.engine.separate"})}
ENGINE_PRIVATE = {
    ("ccm.bench.graphs", "ccm.engine.kernels", "_noisy_or_dense"),
    ("ccm.bench.perf", "ccm.engine.kernels", "_noisy_or_dense"),
    ("ccm.bench.perf", "ccm.engine.kernels", "_reach"),
    ("ccm.engine.chains", "ccm.engine.kernels", "_max_product"),
    ("ccm.engine.chains", "ccm.engine.kernels", "_noisy_or_sparse"),
    ("ccm.engine.impact", "ccm.engine.kernels", "_cascades"),
    ("ccm.engine.impact", "ccm.engine.kernels", "_cascades_serial"),
    ("ccm.engine.impact", "ccm.engine.kernels", "_coin_table"),
    ("ccm.engine.impact", "ccm.engine.kernels", "_max_product"),
    ("ccm.engine.impact", "ccm.engine.kernels", "_noisy_or_dense"),
    ("ccm.engine.impact", "ccm.engine.kernels", "_walk_back"),
    ("ccm.engine.rca", "ccm.engine.kernels", "_latest_cause_time"),
    ("ccm.engine.rca", "ccm.engine.kernels", "_score_hypotheses"),
    ("ccm.engine.snapshot", "ccm.engine.kernels", "_topo_rank"),
}
#: the kernels package and its private submodules share their private names
ENGINE_PRIVATE_PACKAGE = "ccm.engine.kernels"


def modules() -> dict[str, Path]:
    """Every module of the three packages, by dotted name."""
    out: dict[str, Path] = {}
    for top in TOP:
        for path in sorted((ROOT / top).rglob("*.py")):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            out[name.removesuffix(".__init__")] = path
    return out


def package(module: str) -> str:
    """The package a module belongs to: ``ccm.X`` inside ccm, else the top level."""
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "ccm" and len(parts) > 1 else parts[0]


def imports(name: str, path: Path, known: set[str]) -> list[tuple[str, str | None]]:
    """(module imported, name taken from it or None) for every import in ``path``."""
    out: list[tuple[str, str | None]] = []
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.extend((a.name, None) for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".")
                base = base[:len(base) - node.level + (1 if is_package else 0)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            for alias in node.names:
                sub = f"{mod}.{alias.name}"
                out.append((sub, None) if sub in known else (mod, alias.name))
    return out


def graphs() -> tuple[nx.DiGraph, nx.DiGraph, set[tuple[str, str, str]]]:
    """The module graph, the package graph and the private names imported across modules."""
    mods = modules()
    known = set(mods)
    by_module: nx.DiGraph = nx.DiGraph()
    by_package: nx.DiGraph = nx.DiGraph()
    private: set[tuple[str, str, str]] = set()
    for name, path in mods.items():
        for target, taken in imports(name, path, known):
            if target not in known or target == name:
                continue
            by_module.add_edge(name, target)
            if package(name) != package(target):
                by_package.add_edge(package(name), package(target))
            if taken and taken.startswith("_") and not taken.startswith("__"):
                private.add((name, target, taken))
    return by_module, by_package, private


def package_of(module: str) -> str:
    return module if module == ENGINE_PRIVATE_PACKAGE else module.rpartition(".")[0]


def cycles(graph: nx.DiGraph) -> set[frozenset[str]]:
    return {frozenset(c) for c in nx.strongly_connected_components(graph) if len(c) > 1}


def test_the_analysis_sees_imports_inside_functions_and_under_type_checking(tmp_path):
    src = tmp_path / "m.py"
    src.write_text("from typing import TYPE_CHECKING\n"
                   "if TYPE_CHECKING:\n    from ccm.store.base import Store\n"
                   "def f():\n    from ingest.core import _hidden\n", encoding="utf-8")
    found = imports("ccm.m", src, {"ccm.store.base", "ingest.core"})
    assert ("ccm.store.base", "Store") in found
    assert ("ingest.core", "_hidden") in found


def test_relative_imports_resolve_from_a_module_and_from_a_package(tmp_path):
    (tmp_path / "__init__.py").write_text("from .a import x\n", encoding="utf-8")
    (tmp_path / "b.py").write_text("from . import a\nfrom .a import y\n", encoding="utf-8")
    known = {"ccm.p", "ccm.p.a", "ccm.p.b"}
    assert imports("ccm.p", tmp_path / "__init__.py", known) == [("ccm.p.a", "x")]
    assert imports("ccm.p.b", tmp_path / "b.py", known) == [("ccm.p.a", None),
                                                             ("ccm.p.a", "y")]


def test_no_two_modules_import_each_other_even_through_others():
    by_module, _, _ = graphs()
    assert cycles(by_module) - ENGINE_CYCLES == set()


def test_no_two_packages_import_each_other_even_through_others():
    _, by_package, _ = graphs()
    assert cycles(by_package) == set()


def test_no_module_imports_a_private_name_of_another():
    _, _, private = graphs()
    left = {p for p in private
            if p not in ENGINE_PRIVATE and package_of(p[0]) != ENGINE_PRIVATE_PACKAGE}
    assert left == set()


def test_the_engine_allow_list_names_only_imports_that_still_exist():
    by_module, _, private = graphs()
    assert private >= ENGINE_PRIVATE
    for cycle in ENGINE_CYCLES:
        assert cycle in cycles(by_module)
