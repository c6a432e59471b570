"""``ccm doctor``: what the graph in a store lacks, as text or JSON; a report (exit 0)
unless --strict."""

from __future__ import annotations

import json

from click.testing import CliRunner

from ccm.cli import cli
from tests.helpers import FIXTURES

REAL = FIXTURES / "real" / "kubernetes"
# one node per Service (its workloads are its versions); hosts are in the images
BOOKINFO_SERVICES = ["service:details", "service:productpage", "service:ratings",
                     "service:reviews"]


def run(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def store_of(tmp_path, *paths):  # type: ignore[no-untyped-def]
    store = str(tmp_path / "s.sqlite")
    result = run("ingest", *map(str, paths), "--store", store, "--at", "2026-03-01T00:00:00Z",
                 "--json")
    assert result.exit_code == 0, result.stderr
    return store


def test_help_says_what_it_reports():
    result = run("doctor", "--help")
    assert result.exit_code == 0
    for option in ("--store", "--at", "--known-at", "--strict", "--json", "--limit"):
        assert option in result.output


def test_bookinfo_lists_its_four_services_without_dependencies_and_exits_0(tmp_path):
    store = store_of(tmp_path, REAL / "bookinfo.yaml")
    result = run("doctor", "--store", store)
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert "4 components, 0 dependencies" in lines[0]
    assert lines[1:] == ["Components without any dependency (4):",
                         *(f"  {ref}" for ref in BOOKINFO_SERVICES)]


def test_strict_exits_1_when_something_is_lacking(tmp_path):
    store = store_of(tmp_path, REAL / "bookinfo.yaml")
    assert run("doctor", "--store", store, "--strict").exit_code == 1


def test_strict_exits_0_on_the_online_boutique(tmp_path):
    store = store_of(tmp_path, REAL / "online-boutique-v0.10.6.yaml")
    result = run("doctor", "--store", store, "--strict")
    assert result.exit_code == 0
    assert "12 components, 16 dependencies" in result.stdout
    assert "nothing lacking" in result.stdout


def test_json_lists_the_placeholders_with_the_record_that_named_them(tmp_path):
    dex = REAL / "argocd-dex-server.yaml"
    store = store_of(tmp_path, dex)
    out = json.loads(run("doctor", "--store", store, "--json", "--at",
                         "2026-06-01T00:00:00Z").stdout)
    origin = f"{dex}: document 2 (line 26) (Deployment default/argocd-dex-server)"
    keys = ("dexserver.connector.failure.continue", "dexserver.disable.tls",
            "dexserver.log.format", "dexserver.log.level", "log.format.timestamp")
    assert out == {
        "valid_at": "2026-06-01T00:00:00Z", "known_at": None, "components": 1,
        "dependencies": 0, "without_dependencies": ["service:argocd-dex-server"],
        "placeholders": [{"ref": f"config:argocd-cmd-params-cm/{k}", "source": "placeholder",
                          "origin": origin} for k in keys],
        "unresolved": [], "unresolved_alerts": 0, "lacking": True,
    }


def test_text_names_where_each_placeholder_was_named_and_cuts_long_lists(tmp_path):
    dex = REAL / "argocd-dex-server.yaml"
    store = store_of(tmp_path, dex)
    out = run("doctor", "--store", store, "--limit", "2").stdout
    assert ("  config:argocd-cmd-params-cm/dexserver.connector.failure.continue  named in "
            f"{dex}: document 2 (line 26) (Deployment default/argocd-dex-server)") in out
    assert "Placeholders (named, not defined by a manifest, catalog or native node) (5):" in out
    assert "  ... and 3 more (--json lists every one)" in out


def test_alerts_on_an_unresolved_placeholder_are_listed(tmp_path):
    graph = tmp_path / "graph.jsonl"
    graph.write_text('{"type": "node", "kind": "external", "name": "unresolved", '
                     '"attrs": {"unresolved": true}}\n')
    alerts = tmp_path / "alerts.jsonl"
    alerts.write_text('{"id": "a1", "time": "2026-03-05T09:41:00Z", '
                      '"service": "external:unresolved", "signal": "errors"}\n')
    store = store_of(tmp_path, graph, alerts)
    result = run("doctor", "--store", store, "--at", "2026-03-06T00:00:00Z")
    assert result.stdout.splitlines()[1:] == [
        "Unresolved placeholders with 1 alert(s) attached (1):",
        "  external:unresolved  1 alert(s): alert:a1"]
    assert run("doctor", "--store", store, "--at", "2026-03-06T00:00:00Z",
               "--strict").exit_code == 1


def test_the_graph_before_anything_was_true_lacks_nothing(tmp_path):
    store = store_of(tmp_path, REAL / "bookinfo.yaml")
    result = run("doctor", "--store", store, "--at", "2026-01-01T00:00:00Z", "--strict")
    assert result.exit_code == 0 and "0 components, 0 dependencies" in result.stdout
