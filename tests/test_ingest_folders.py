"""Folders as repositories ship them: non-data files skipped with a note, Helm charts
and Kustomize folders rendered (with the tool on PATH) or noted (without)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from ccm.cli import cli
from ingest import ingest_paths
from tests.helpers import AT1, FIXTURES, deps, errors_of

CAT = shutil.which("cat")
REAL = FIXTURES / "real" / "kubernetes"
CHART = REAL / "online-boutique-helm-chart"
MANIFESTS = REAL / "online-boutique-v0.10.6-kubernetes-manifests"
KUSTOMIZE = REAL / "online-boutique-v0.10.6-kustomize"
LISTED = {"adservice", "cartservice", "checkoutservice", "currencyservice", "emailservice",
          "frontend", "paymentservice", "productcatalogservice", "recommendationservice",
          "shippingservice"}


@pytest.fixture
def bare_path(tmp_path, monkeypatch) -> Path:
    """PATH is a folder of our own: no helm, no kubectl unless a test puts one there."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", str(bin_dir))
    return bin_dir


def fake_tool(bin_dir: Path, name: str, output: Path | None, status: int = 0) -> Path:
    """An executable ``name`` that records its arguments and prints ``output``."""
    args = bin_dir / f"{name}.args"
    script = bin_dir / name
    body = f'#!/bin/sh\necho "$@" > "{args}"\n'
    body += f'{CAT} "{output}"\n' if output else 'echo "Error: chart is broken" >&2\n'
    script.write_text(body + f"exit {status}\n")
    script.chmod(0o755)
    return args


def test_a_manifests_folder_reads_what_its_kustomization_lists_and_notes_the_rest(
        embedded, bare_path):
    report = ingest_paths(embedded, [MANIFESTS], at=AT1)
    assert report.ok, errors_of(report)
    read = {Path(f.path).stem for f in report.files if f.format == "k8s"}
    assert read == LISTED
    notes = " ".join(n for f in report.files for n in f.notes)
    assert "skipped README.md, loadgenerator.yaml (not listed)" in notes
    assert "kubectl kustomize" in notes
    g = embedded.graph(AT1 + 1)
    assert {r.split(":", 1)[1] for r in g.nodes if r.startswith("service:")} == LISTED
    assert ("service:frontend", "service:cartservice") in deps(g)


def test_files_of_a_folder_that_no_format_reads_are_skipped_with_a_note(embedded, tmp_path):
    folder = tmp_path / "repo"
    folder.mkdir()
    shutil.copy(MANIFESTS / "cartservice.yaml", folder)
    shutil.copy(MANIFESTS / "README.md", folder)
    (folder / "LICENSE").write_text("Apache License\nVersion 2.0, January 2004\n")
    (folder / ".helmignore").write_text(".git\n")
    report = ingest_paths(embedded, [folder], at=AT1)
    assert report.ok, errors_of(report)
    assert [(Path(f.path).name, f.format) for f in report.files] == [
        ("cartservice.yaml", "k8s"), ("LICENSE", "-"), ("README.md", "-")]
    assert report.files[2].notes == [f"{folder / 'README.md'}: skipped: not a format CCM reads"]
    assert "service:cartservice" in embedded.graph(AT1 + 1).nodes


def test_a_file_named_on_the_command_line_that_no_format_reads_is_an_error(embedded):
    report = ingest_paths(embedded, [MANIFESTS / "README.md"], at=AT1)
    (error,) = errors_of(report)
    assert "README.md: unrecognised format" in error


def test_a_helm_chart_without_helm_is_noted_with_how_to_render_it(embedded, bare_path):
    report = ingest_paths(embedded, [CHART], at=AT1)
    assert report.ok, errors_of(report)
    (only,) = report.files
    (note,) = only.notes
    assert f"`helm template online-boutique-helm-chart {CHART}" in note
    assert "not on PATH" in note and "templates are not YAML" in note
    assert not embedded.graph(AT1 + 1).nodes


def test_a_helm_chart_is_rendered_by_helm_on_path_and_read_as_manifests(embedded, bare_path):
    args = fake_tool(bare_path, "helm", MANIFESTS / "cartservice.yaml")
    report = ingest_paths(embedded, [CHART], at=AT1)
    assert report.ok, errors_of(report)
    (only,) = report.files
    assert (only.path, only.format) == (f"{CHART} (helm template)", "k8s")
    assert only.notes == [f"{CHART}: a Helm chart (its templates are not YAML), rendered with "
                          f"`helm template online-boutique-helm-chart {CHART}`"]
    assert args.read_text().split() == ["template", "online-boutique-helm-chart", str(CHART)]
    g = embedded.graph(AT1 + 1)
    assert {"service:cartservice", "cache:redis-cart"} <= set(g.nodes)
    assert ("service:cartservice", "cache:redis-cart") in deps(g)
    again = ingest_paths(embedded, [CHART], at=AT1)
    assert (again.totals()["added"], again.totals()["closed"]) == (0, 0)


def test_a_render_that_fails_is_an_error_naming_the_command(embedded, bare_path):
    fake_tool(bare_path, "helm", None, status=1)
    report = ingest_paths(embedded, [CHART], at=AT1)
    (error,) = errors_of(report)
    assert f"`helm template online-boutique-helm-chart {CHART}` exited with status 1" in error
    assert "chart is broken" in error


def test_a_kustomization_with_more_than_resources_is_noted_without_kubectl(
        embedded, bare_path):
    report = ingest_paths(embedded, [KUSTOMIZE], at=AT1)
    assert report.ok, errors_of(report)
    (only,) = report.files
    assert f"`kubectl kustomize {KUSTOMIZE} > rendered.yaml" in only.notes[0]


def test_a_kustomize_folder_is_rendered_by_kubectl_on_path(embedded, bare_path):
    args = fake_tool(bare_path, "kubectl", MANIFESTS / "frontend.yaml")
    report = ingest_paths(embedded, [MANIFESTS], at=AT1)
    assert report.ok, errors_of(report)
    assert [(f.path, f.format) for f in report.files] == [
        (f"{MANIFESTS} (kubectl kustomize)", "k8s")]
    assert args.read_text().split() == ["kustomize", str(MANIFESTS)]
    assert "service:frontend" in embedded.graph(AT1 + 1).nodes


def test_the_cli_exits_0_on_a_chart_folder_and_1_on_a_named_readme(tmp_path, bare_path):
    store = str(tmp_path / "s.sqlite")
    chart = CliRunner().invoke(cli, ["ingest", str(CHART), "--store", store])
    readme = CliRunner().invoke(cli, ["ingest", str(MANIFESTS / "README.md"), "--store", store])
    assert (chart.exit_code, readme.exit_code) == (0, 1)


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not on PATH")
def test_a_real_kubectl_kustomize_gives_the_graph_its_listed_files_give(tmp_path, embedded,
                                                                         monkeypatch):
    from ccm.store.embedded import EmbeddedStore

    rendered = ingest_paths(embedded, [MANIFESTS], at=AT1)
    assert [f.format for f in rendered.files] == ["k8s"], errors_of(rendered)
    monkeypatch.setenv("PATH", str(tmp_path))
    plain_store = EmbeddedStore(tmp_path / "plain.sqlite")
    try:
        plain = ingest_paths(plain_store, [MANIFESTS], at=AT1)
        assert plain.ok, errors_of(plain)
        g, h = embedded.graph(AT1 + 1), plain_store.graph(AT1 + 1)
        assert set(g.nodes) == set(h.nodes) and deps(g) == deps(h)
    finally:
        plain_store.close()
