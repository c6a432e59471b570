"""The report: a markdown page and a PNG plot from a run's JSON."""

from __future__ import annotations

from ccm.bench.report import markdown, write_report

ROW = {"root@1": 0.5, "root@3": 1.0, "mrr": 0.75, "chain_f1": 0.6, "chain_exact": 0.5,
       "errors": 0, "mean_ms": 1.25}
DATA = {"cases": 2,
        "methods": {"ccm": ROW, "latest_change": {**ROW, "root@1": 0.0}},
        "categories": {"deploy": {"cases": 1, "methods": {"ccm": ROW, "latest_change": ROW}},
                       "config_change": {"cases": 1, "methods": {
                           "ccm": ROW, "latest_change": {**ROW, "root@1": 0.0}}}},
        "timing": {"wall_s": 0.5, "cases_per_s": 4.0},
        "invalid": [{"case": "x", "file": "truth.yaml", "field": "chain", "problem": "bad"}]}


def test_the_markdown_has_the_overall_and_per_category_tables():
    md = markdown(DATA, ["benchmarks/cases"])
    assert "2 cases from benchmarks/cases" in md
    assert "| `ccm` | 0.500 | 1.000 | 0.750 | 0.600 | 0.500 | 1.2 | 0 |" in md
    assert "| `latest_change` | 0.000 |" in md
    assert "| deploy | 1 | 0.50 | 0.50 |" in md and "| config_change | 1 | 0.50 | 0.00 |" in md
    assert "- `x`: truth.yaml: chain: bad" in md


def test_write_report_writes_markdown_and_a_png(tmp_path):
    md, png = write_report(DATA, tmp_path / "r")
    assert md.read_text().startswith("# Chain-match benchmark")
    assert png.read_bytes()[:4] == b"\x89PNG" and png.stat().st_size > 5000


CALIBRATED = {**DATA, "calibration": {"ccm": {
    "all": {"ece": 0.1, "cases": 2, "bins": [
        {"lo": 0.4, "hi": 0.5, "cases": 1, "confidence": 0.45, "accuracy": 0.0},
        {"lo": 0.9, "hi": 1.0, "cases": 1, "confidence": 0.95, "accuracy": 1.0}]},
    "deploy": {"ece": 0.05, "cases": 1, "bins": []}}}}


def test_the_report_shows_the_calibration_of_the_top_posterior_with_a_reliability_diagram(
        tmp_path):
    md = markdown(CALIBRATED)
    assert "| all (2) | 0.100 |" in md and "| deploy (1) | 0.050 |" in md
    assert "| 0.4-0.5 | 1 | 0.450 | 0.000 |" in md
    written = write_report(CALIBRATED, tmp_path / "r")
    assert [p.name for p in written] == ["report.md", "root_at_1.png", "reliability.png"]
    assert written[2].read_bytes()[:4] == b"\x89PNG"
