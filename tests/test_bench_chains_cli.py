"""``ccm bench chains`` end to end, as a user runs it (a subprocess), on a CI slice."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ccm.bench.methods import all_methods
from tests.benchcases import write_case
from tests.test_cli import ccm

ROOT = Path(__file__).resolve().parents[1]
SYNTHETIC = ROOT / "benchmarks" / "cases" / "synthetic"
POSTMORTEMS = ROOT / "benchmarks" / "cases" / "postmortems"
#: two postmortem cases in native JSONL (they ingest with this build's adapters)
POSTMORTEM_SLICE = ("cloudflare-2022-06-21-mcp-bgp-policy",
                    "google-2020-12-14-user-id-service-quota")
METRICS = {"root@1", "root@3", "mrr", "chain_f1", "chain_exact"}


def synthetic_slice() -> list[Path]:
    """The first committed synthetic case of each application."""
    firsts: dict[str, Path] = {}
    for folder in sorted(p for p in SYNTHETIC.iterdir() if p.is_dir()):
        firsts.setdefault(folder.name.split("-")[0], folder)
    return list(firsts.values())


@pytest.fixture(scope="module")
def run(tmp_path_factory):  # type: ignore[no-untyped-def]
    out = tmp_path_factory.mktemp("bench")
    cases = [*synthetic_slice(), *(POSTMORTEMS / c for c in POSTMORTEM_SLICE)]
    args = [a for c in cases for a in ("--cases", str(c))]
    proc = ccm("bench", "chains", *args, "--json", str(out / "r.json"), "-v",
               "--report", str(out / "report"))
    return proc, json.loads((out / "r.json").read_text()), out, cases


def test_the_json_has_the_spec_shape(run):
    _, data, _, cases = run
    assert data["cases"] == len(cases) == 8
    assert set(data["methods"]) == set(all_methods())
    for row in data["methods"].values():
        assert set(row) >= METRICS and all(0.0 <= row[m] <= 1.0 for m in METRICS)
    assert len(data["per_case"]) == len(cases) * len(data["methods"])
    first = data["per_case"][0]
    assert {"id", "method", "rank", "root@1", "chain_f1", "predicted_chain"} <= set(first)
    assert {c.name for c in cases} == {r["id"] for r in data["per_case"]}
    assert set(data["categories"]) and data["timing"]["cases_per_s"] > 0


def test_the_scores_are_consistent_and_not_all_zero(run):
    _, data, _, _ = run
    for row in data["methods"].values():
        # ranks 2-3 add at most 1/2 to the reciprocal rank, later ranks at most 1/4
        top1, top3 = row["root@1"], row["root@3"]
        assert top1 <= top3
        assert top1 <= row["mrr"] <= top1 + (top3 - top1) / 2 + (1 - top3) / 4 + 1e-3
        assert row["errors"] == 0
    assert max(row["root@3"] for row in data["methods"].values()) > 0
    for r in data["per_case"]:
        assert r["root@1"] == int(r["rank"] == 1)
        assert r["root@1"] == int(bool(r["predicted_chain"])
                                  and r["predicted_root"] == r["truth_root"])


def test_the_table_per_method_and_the_verbose_rows_are_printed(run):
    proc, data, _, cases = run
    for method in data["methods"]:
        assert method in proc.stdout
    assert cases[0].name in proc.stdout


def test_the_report_has_a_table_and_a_png(run):
    _, data, out, _ = run
    md = (out / "report" / "report.md").read_text()
    assert "| method |" in md and "root@1 by category" in md and "root_at_1.png" in md
    assert (out / "report" / "root_at_1.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_hand_checked_baseline_scores_on_the_standard_case(tmp_path):
    write_case(tmp_path)
    out = json.loads(ccm("bench", "chains", "--cases", str(tmp_path), "--json", "-",
                         "--methods", "latest_change,alerting_service_change").stdout)
    # latest_change blames chg-7 (10:05) before chg-42 (10:00): rank 2
    assert out["methods"]["latest_change"]["root@1"] == 0.0
    assert out["methods"]["latest_change"]["mrr"] == 0.5
    # the earliest alert is on checkout, whose change is chg-42, on the truth chain exactly
    assert out["methods"]["alerting_service_change"]["root@1"] == 1.0
    assert out["methods"]["alerting_service_change"]["chain_exact"] == 1.0


def test_an_invalid_case_exits_1_naming_case_file_and_field(tmp_path):
    write_case(tmp_path, "good")
    write_case(tmp_path, "bad", case={"question_time": "noon-ish"})
    proc = ccm("bench", "chains", "--cases", str(tmp_path), check=False)
    assert proc.returncode == 1
    assert "case 'bad'" in proc.stderr and "case.yaml" in proc.stderr
    assert "question_time" in proc.stderr and "Traceback" not in proc.stderr


def test_keep_going_scores_the_valid_cases_and_lists_the_invalid_ones(tmp_path):
    write_case(tmp_path, "good")
    write_case(tmp_path, "bad", truth={"root_cause": "change:chg-42", "chain": "x"})
    proc = ccm("bench", "chains", "--cases", str(tmp_path), "--keep-going", "--json",
               str(tmp_path / "r.json"), "--methods", "latest_change", check=False)
    data = json.loads((tmp_path / "r.json").read_text())
    assert proc.returncode == 1 and data["cases"] == 1
    assert data["invalid"] == [{"case": "bad", "file": "truth.yaml", "field": "chain",
                                "problem": "expected a non-empty list, got 'x'"}]


def test_an_unknown_method_is_a_clear_error(tmp_path):
    write_case(tmp_path)
    proc = ccm("bench", "chains", "--cases", str(tmp_path), "--methods", "oracle",
               check=False)
    assert proc.returncode == 1 and "unknown method 'oracle'" in proc.stderr
