"""``ccm ingest``: summary table, JSON for machines, exit status, formats in --help."""

from __future__ import annotations

import json

from click.testing import CliRunner

from ccm.cli import cli
from ingest import registry
from tests.helpers import FIXTURES


def run(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_help_lists_every_format():
    result = run("ingest", "--help")
    assert result.exit_code == 0
    for name, adapter in registry().items():
        assert f"  {name} " in result.output and adapter.description in result.output


def test_a_folder_ends_with_a_summary_table(tmp_path):
    store = tmp_path / "s.sqlite"
    result = run("ingest", str(FIXTURES / "k8s" / "shop" / "v1.yaml"),
                 str(FIXTURES / "alertmanager" / "firing.json"), "--store", str(store),
                 "--at", "2026-02-01T00:00:00Z")
    assert result.exit_code == 0, result.stderr
    assert "Ingest summary" in result.stdout
    for col in ("added", "unchanged", "closed", "rejected"):
        assert col in result.stdout
    assert "k8s" in result.stdout and "alertmanager" in result.stdout and "total" in result.stdout


def test_json_output_and_exit_status_one_when_something_was_rejected(tmp_path):
    bad = tmp_path / "deploys.csv"
    bad.write_text("id,time,service\nd1,2026-03-01T00:00:00Z,a\nd2,never,b\n")
    result = run("ingest", str(bad), "--store", str(tmp_path / "s.sqlite"), "--json",
                 "--batch-size", "1")
    assert result.exit_code == 1
    out = json.loads(result.stdout)
    assert out["ok"] is False and out["totals"]["added"] > 0
    assert out["totals"]["rejected"] == 1
    assert "row 2" in out["files"][0]["errors"][0]


def test_an_unknown_format_is_a_usage_error(tmp_path):
    result = run("ingest", str(FIXTURES / "csv" / "deploys.csv"), "--format", "excel",
                 "--store", str(tmp_path / "s.sqlite"))
    assert result.exit_code == 2 and "unknown format 'excel'" in result.stderr


def test_a_signal_table_file_overrides_signals(tmp_path):
    table = tmp_path / "signals.yaml"
    table.write_text("HighRequestErrorRate: saturation\n")
    store = tmp_path / "s.sqlite"
    result = run("ingest", str(FIXTURES / "alertmanager" / "firing.json"), "--store", str(store),
                 "--signals", str(table), "--json")
    assert result.exit_code == 0
    graph = run("graph", "--store", str(store), "--at", "2026-03-05T10:00:00Z", "--json",
                "--kind", "alert")
    signals = {n["attrs"]["alertname"]: n["attrs"]["signal"]
               for n in json.loads(graph.stdout)["nodes"] if n["kind"] == "alert"}
    assert signals["HighRequestErrorRate"] == "saturation"


BOOKINFO = FIXTURES / "real" / "kubernetes" / "bookinfo.yaml"


def test_the_summary_ends_with_the_coverage_of_the_graph(tmp_path):
    result = run("ingest", str(BOOKINFO), "--store", str(tmp_path / "s.sqlite"))
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    at = lines.index("Components without any dependency (4):")
    assert lines[at - 1].startswith("Coverage of the graph at ")
    assert lines[at - 1].endswith(": 4 components, 0 dependencies")
    assert lines[at + 1:] == ["  service:details", "  service:productpage",
                              "  service:ratings", "  service:reviews"]


def test_the_json_summary_carries_the_coverage_and_skipped_totals(tmp_path):
    result = run("ingest", str(BOOKINFO), "--store", str(tmp_path / "s.sqlite"), "--json",
                 "--at", "2026-03-01T00:00:00Z")
    out = json.loads(result.stdout)
    assert out["coverage"]["without_dependencies"] == [
        "service:details", "service:productpage", "service:ratings", "service:reviews"]
    assert (out["coverage"]["components"], out["coverage"]["placeholders"]) == (4, [])
    assert out["skipped"] == {"k8s ServiceAccount": 4}


class _Skipper:
    """An adapter that reads one node and skips records, as real adapters report what
    they do not model (Batch.skipped, Batch.notes)."""

    name, description, order = "skipper", "test adapter that skips records", 20

    def sniff(self, src, head):  # type: ignore[no-untyped-def]
        return False

    def read(self, src, ctx):  # type: ignore[no-untyped-def]
        from graph_schema import NodeFact
        from ingest import Batch

        yield Batch(str(src), 4, [NodeFact("service", "cart", {}, ctx.at)],
                    skipped={"k8s Role": 2, "k8s ServiceAccount": 1},
                    notes=["Helm chart: render it first"])


def test_what_each_file_skipped_is_printed_with_totals_by_kind(tmp_path, monkeypatch):
    import ingest.adapters

    monkeypatch.setattr(ingest.adapters, "ADAPTERS", (*ingest.adapters.ADAPTERS, _Skipper()))
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_text("x: 1\n")
    b.write_text("x: 2\n")
    store = str(tmp_path / "s.sqlite")
    out = run("ingest", str(a), str(b), "--format", "skipper", "--store", store).stdout
    lines = out.splitlines()
    at = lines.index("Skipped (read, not modelled):")
    assert lines[at + 1:at + 7] == [
        f"  {a}: 2 k8s Role, 1 k8s ServiceAccount",
        f"  {b}: 2 k8s Role, 1 k8s ServiceAccount",
        "  total: 4 k8s Role, 2 k8s ServiceAccount",
        "Notes:",
        f"  {a}: Helm chart: render it first",
        f"  {b}: Helm chart: render it first"]
    data = json.loads(run("ingest", str(a), "--format", "skipper", "--store", store,
                          "--json").stdout)
    assert data["skipped"] == {"k8s Role": 2, "k8s ServiceAccount": 1}
    assert data["files"][0]["notes"] == ["Helm chart: render it first"]
def test_an_alert_targets_file_changes_how_labels_name_components(tmp_path, monkeypatch):
    targets = tmp_path / "targets.yaml"
    targets.write_text("order:\n  - {label: ccm_node, as: explicit}\n  - {label: namespace, "
                       "as: explicit}\n")
    store = tmp_path / "s.sqlite"
    monkeypatch.setenv("CCM_ALERT_TARGETS", str(targets))
    result = run("ingest", str(FIXTURES / "alertmanager" / "firing.json"), "--store",
                 str(store), "--json")
    assert result.exit_code == 0, result.output
    graph = run("graph", "--store", str(store), "--at", "2026-03-05T10:00:00Z", "--json")
    symptom_of = {e["to"] for e in json.loads(graph.stdout)["edges"] if e["kind"] == "SYMPTOM_OF"}
    # only the alert with a namespace label names a node; the others have no label the
    # order reads and are skipped
    assert symptom_of == {"service:boutique"}
    assert json.loads(result.stdout)["files"][0]["skipped"] == {"alert without target": 3}


def test_a_bad_alert_targets_file_is_a_usage_error_naming_it(tmp_path):
    targets = tmp_path / "targets.yaml"
    targets.write_text("order: nope\n")
    result = run("ingest", str(FIXTURES / "alertmanager" / "firing.json"), "--store",
                 str(tmp_path / "s.sqlite"), "--alert-targets", str(targets))
    assert result.exit_code != 0 and "targets.yaml" in result.output + result.stderr


def test_skipped_alerts_and_unresolved_ones_are_printed(tmp_path):
    real = FIXTURES / "real" / "alerts" / "webhook-kube-prometheus-stack.json"
    result = run("ingest", str(real), "--store", str(tmp_path / "s.sqlite"))
    assert result.exit_code == 0
    assert f"  {real}: 1 alert without target" in result.stdout
    # an empty store: none of the four has a component to land on
    assert f"  {real}: 4 alerts: component not resolved" in result.stdout
