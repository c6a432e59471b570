"""Synthetic cases: reproducible from a seed, valid, and with walkable truth chains."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from ccm.bench.cases import load_case
from ccm.bench.question import ask
from ccm.bench.replay import replayed
from ccm.bench.synth import generate, load_topologies
from ccm.bench.truth import load_truth
from ccm.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]
TOPOLOGIES = ROOT / "benchmarks" / "topologies"


def digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def topologies():  # type: ignore[no-untyped-def]
    return load_topologies([TOPOLOGIES])


@pytest.fixture(scope="module")
def cases(topologies, tmp_path_factory):  # type: ignore[no-untyped-def]
    out = tmp_path_factory.mktemp("synth") / "cases"
    generate(topologies, out, 18, seed=11, formats=("native", "alertmanager", "cdevents"))
    return out


def test_the_same_seed_writes_byte_identical_cases(topologies, cases, tmp_path):
    generate(topologies, tmp_path / "again", 18, seed=11,
             formats=("native", "alertmanager", "cdevents"))
    assert digest(tmp_path / "again") == digest(cases)


def test_another_seed_writes_other_cases(topologies, cases, tmp_path):
    generate(topologies, tmp_path / "other", 18, seed=12,
             formats=("native", "alertmanager", "cdevents"))
    assert digest(tmp_path / "other") != digest(cases)


def test_a_smaller_run_is_a_prefix_of_a_larger_one(topologies, cases, tmp_path):
    generate(topologies, tmp_path / "few", 6, seed=11,
             formats=("native", "alertmanager", "cdevents"))
    few = digest(tmp_path / "few")
    assert few and all(digest(cases)[k] == v for k, v in few.items())


def test_every_topology_is_used_round_robin(cases):
    apps = sorted({p.name.split("-")[0] for p in cases.iterdir()})
    assert apps == ["boutique", "hotel", "media", "social", "sockshop", "trainticket"]


def test_generating_into_a_folder_with_cases_needs_overwrite(topologies, tmp_path):
    generate(topologies, tmp_path / "c", 2, seed=1)
    with pytest.raises(ConfigError, match="not empty"):
        generate(topologies, tmp_path / "c", 2, seed=1)
    generate(topologies, tmp_path / "c", 2, seed=2, overwrite=True)


def test_an_unknown_format_is_refused(topologies, tmp_path):
    with pytest.raises(ConfigError, match="formats"):
        generate(topologies, tmp_path / "c", 1, seed=1, formats=("native", "csv"))


def _links_ok(q, chain: tuple[str, ...]) -> list[str]:  # type: ignore[no-untyped-def]
    changed = {(e.src, e.dst) for e in q.graph.edges_of("CHANGED")}
    has_config = {(e.src, e.dst) for e in q.graph.edges_of("HAS_CONFIG")}
    depends = {(e.src, e.dst) for e in q.graph.edges_of("DEPENDS_ON")}
    bad = []
    for a, b in zip(chain, chain[1:], strict=False):
        ok = ((a, b) in changed if a.startswith("change:") else
              (b, a) in has_config if a.startswith("config:") else (b, a) in depends)
        if not ok:
            bad.append(f"{a} -> {b}")
    return bad


def test_native_cases_have_truth_chains_walkable_in_the_graph_at_the_question(topologies,
                                                                              tmp_path):
    generate(topologies, tmp_path / "n", 12, seed=5)
    for folder in sorted((tmp_path / "n").iterdir()):
        case, truth = load_case(folder), load_truth(load_case(folder))
        with replayed(case) as store:
            q = ask(store, case.id, case.question_time, case.window)
        assert _links_ok(q, truth.chain) == [], case.id
        assert truth.symptom in {a.node for a in q.alerts}, case.id
        assert truth.root_cause in {c.ref for c in q.changes}, case.id
        assert q.graph.nodes[truth.symptom].attrs.get("entrypoint"), case.id


#: how the committed slice benchmarks/cases/synthetic was written (see its README)
SLICE = {"cases": 36, "seed": 7, "formats": ("native",)}


def test_the_committed_slice_is_what_the_generator_writes_today(topologies, tmp_path):
    committed = ROOT / "benchmarks" / "cases" / "synthetic"
    generate(topologies, tmp_path / "slice", SLICE["cases"], seed=SLICE["seed"],
             formats=SLICE["formats"])
    ours = {k: v for k, v in digest(committed).items() if "/" in k}  # case files, no README
    assert ours == digest(tmp_path / "slice"), (
        "the generator changed: regenerate the slice and the full set (README there)")
