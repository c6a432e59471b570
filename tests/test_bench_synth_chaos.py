"""The chaos fault mix: faults no change explains among routine changes, prompt changes,
and changes that bite late, each with the evidence a real one leaves."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import yaml

from ccm.bench.cases import load_case
from ccm.bench.synth import load_topologies
from ccm.bench.synth.chaos import CHAOS_FAULTS, neighbours
from ccm.bench.synth.faults import HOUR
from ccm.bench.synth.generate import generate, scenario_for
from ccm.bench.truth import load_truth
from ccm.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]
N = 60


@pytest.fixture(scope="module")
def topologies():  # type: ignore[no-untyped-def]
    return load_topologies([ROOT / "benchmarks" / "topologies"])


@pytest.fixture(scope="module")
def scenarios(topologies):  # type: ignore[no-untyped-def]
    return [scenario_for(topologies[i % len(topologies)], 5, i, "chaos")[1] for i in range(N)]


def test_the_mix_has_every_cause_in_about_its_share(scenarios):
    causes = Counter(s.category for s in scenarios)
    assert set(causes) == {"no_change_fault", "prompt_change", "late_change"}
    assert 0.3 <= causes["no_change_fault"] / N <= 0.6


def test_a_fault_with_no_change_record_has_its_node_as_root_and_no_culprit_change(scenarios):
    for s in (s for s in scenarios if s.category == "no_change_fault"):
        assert s.fault.change is None and s.fault.fault in CHAOS_FAULTS
        kinds, _ = CHAOS_FAULTS[s.fault.fault]
        assert s.world.topo.kinds[s.fault.node] in kinds
        chain = s.truth_chain()
        assert chain[0] == s.world.topo.ref(s.fault.node)
        assert chain[-1] == s.world.topo.ref(s.symptom)


def test_routine_changes_land_near_faults_with_no_change_record(scenarios):
    near_in_time_and_place = 0
    for s in (s for s in scenarios if s.category == "no_change_fault"):
        near = {s.world.topo.ref(n) for n in [s.fault.node, *neighbours(s.world, s.fault.node)]}
        near_in_time_and_place += any(
            c.target in near and s.fault.onset - 6 * HOUR <= c.time < s.fault.onset
            for c in s.changes)
    assert near_in_time_and_place >= 5


def test_a_late_change_fails_hours_to_days_after_it_and_says_what_it_touched(scenarios):
    late = [s for s in scenarios if s.category == "late_change"]
    assert late
    for s in late:
        change = s.fault.change
        assert change is not None and s.fault.delayed
        assert 2 * HOUR <= s.fault.onset - change.time <= 72 * HOUR + 1
        if change.kind in ("config_change", "cert_or_dns"):
            assert change.keys, "the key it set is the evidence"
            assert s.truth_chain()[1].startswith("config:")


def test_chaos_cases_are_valid_cases_with_their_category(topologies, tmp_path):
    written = generate(topologies, tmp_path / "chaos", 12, seed=3, mix="chaos")
    for folder in written:
        case = load_case(folder)
        truth = load_truth(case)
        doc = yaml.safe_load((folder / "case.yaml").read_text())
        assert case.category == doc["category"]
        assert truth.chain[0] == truth.root_cause


def test_an_unknown_mix_is_refused(topologies, tmp_path):
    with pytest.raises(ConfigError, match="mix"):
        generate(topologies, tmp_path / "x", 1, seed=1, mix="weird")
