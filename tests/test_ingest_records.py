"""Per-record rejection: one bad record among good ones, in every format, at batch size 1
and at the default, is rejected alone and named; the good records are written."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from graph_schema import FactError, NodeFact
from ingest import ingest_paths
from ingest.core import Batch
from ingest.records import per_record, ready
from tests.helpers import AT1, FIXTURES, errors_of

REAL = FIXTURES / "real"
HUGE = "x" * 70_000  # over the 65,536 characters an attribute may hold


@dataclass
class Case:
    """An input with one bad record: the good nodes it must write, the node the bad
    record would have written, and what the error must name."""

    name: str
    write: Callable[[Path], Path]
    good: set[str]
    bad: str
    where: str
    field: str
    #: components the input names that another source defines (written first)
    needs: tuple[str, ...] = ()


def _text(name: str, text: str) -> Callable[[Path], Path]:
    def write(folder: Path) -> Path:
        (folder / name).write_text(text)
        return folder / name
    return write


def _lines(*recs: dict) -> str:
    return "".join(json.dumps(r) + "\n" for r in recs)


def _k8s() -> str:
    bad = ("---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: bad-settings}\n"
           f"data: {{MODE: fast, BANNER: {HUGE}}}\n")
    return (REAL / "kubernetes" / "online-boutique-v0.10.6.yaml").read_text() + bad


def _backstage() -> str:
    docs = [(REAL / "backstage" / "components" / f).read_text() for f in (
        "artist-lookup-component.yaml", "petstore-component.yaml",
        "playback-order-component.yaml")]
    bad = ("apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: bad-one\n"
           f"  description: {HUGE}\nspec: {{type: service, lifecycle: production, owner: x}}\n")
    return "---\n".join([docs[0], docs[1], bad, docs[2]])


def _jaeger() -> str:
    items = json.loads((REAL / "traces" / "jaeger-ui-dependencies-small.json").read_text())
    items.insert(2, {"parent": "Service1", "child": "bad name", "callCount": 3})
    return json.dumps(items)


def _cdevents() -> str:
    real = json.loads((REAL / "cdevents" / "v0.4.1" / "service_deployed.json").read_text())
    out = []
    for i, subject in enumerate(["cart", "bad name", "checkout"]):
        ev = json.loads(json.dumps(real))
        ev["context"]["id"] = f"ev-{i}"
        ev["subject"]["id"] = subject
        out.append(ev)
    return _lines(*out)


def _otlp() -> str:
    lines = (FIXTURES / "otlp" / "traces.jsonl").read_text().splitlines()
    # frontend's spans again, in traces of their own, from a service named "bad name"
    bad = lines[0].replace('"stringValue":"frontend"', '"stringValue":"bad name"', 1)
    bad = bad.replace('"traceId":"', '"traceId":"f').replace('"spanId":"', '"spanId":"f')
    return "\n".join([*lines, bad]) + "\n"


def _alertmanager() -> str:
    payload = json.loads((FIXTURES / "alertmanager" / "firing.json").read_text())
    payload["alerts"][1]["annotations"]["summary"] = HUGE
    return json.dumps(payload)


def _incidents() -> str:
    def incident(name: str, status: str) -> str:
        return (f"kind: Incident\nid: {name}\ntitle: t\nstarted_at: 2026-03-05T09:00:00Z\n"
                f"status: {status}\ninvolves: [cartservice]\n")
    return "---\n".join([incident("INC-1", "open"), incident("INC-bad", "half-open"),
                         incident("INC-2", "open")])


def _deploys_csv() -> str:
    text = (FIXTURES / "csv" / "deploys.csv").read_text()
    head, *rows = text.splitlines()
    rows.insert(1, "dep-bad,yesterday,frontend,v9,deploy,bad time,ci-bot")
    return "\n".join([head, *rows]) + "\n"


def _incidents_csv() -> str:
    text = (FIXTURES / "csv" / "incidents.csv").read_text()
    head, *rows = text.splitlines()
    rows.insert(1, "INC-bad,Broken,2026-03-06T12:00:00Z,2026-03-06T11:00:00Z,SEV4,,,")
    return "\n".join([head, *rows]) + "\n"


CASES = [
    Case("native", _text("topology.jsonl", _lines(
        {"type": "node", "kind": "service", "name": "a"},
        {"type": "node", "kind": "service", "name": "b", "attrs": {"rps": "lots"}},
        {"type": "node", "kind": "service", "name": "c"},
        {"type": "edge", "kind": "DEPENDS_ON", "from": "a", "to": "service:c"})),
        {"service:a", "service:c"}, "service:b", "topology.jsonl:2", "attrs.rps"),
    Case("native-changes", _text("changes.jsonl", _lines(
        {"id": "c1", "time": "2026-03-01T00:00:00Z", "kind": "deploy", "target": "cart"},
        {"id": "c2", "time": "2026-03-01T00:00:00Z", "kind": "explosion", "target": "cart"},
        {"id": "c3", "time": "2026-03-02T00:00:00Z", "kind": "deploy", "target": "cart"})),
        {"change:c1", "change:c3", "service:cart"}, "change:c2", "changes.jsonl:2", "kind"),
    Case("native-alerts", _text("alerts.jsonl", _lines(
        {"id": "a1", "time": "2026-03-01T00:00:00Z", "service": "cart", "signal": "errors"},
        {"id": "a2", "time": "not a time", "service": "cart", "signal": "errors"},
        {"id": "a3", "time": "2026-03-01T00:00:00Z", "service": "cart", "signal": "latency"})),
        {"alert:a1", "alert:a3"}, "alert:a2", "alerts.jsonl:2", "time"),
    Case("k8s", _text("boutique.yaml", _k8s()),
         {"service:frontend", "service:cartservice", "cache:redis-cart",
          "service:checkoutservice"}, "config:bad-settings/MODE", "document 36",
         "attrs.value"),
    Case("backstage", _text("catalog-info.yaml", _backstage()),
         {"service:artist-lookup", "service:petstore", "service:playback-order"},
         "service:bad-one", "document 3", "attrs.description"),
    Case("jaeger", _text("dependencies.json", _jaeger()),
         {"service:Service1", "service:Service2", "service:Service6", "service:Service8"},
         "service:bad name", "dependencies.json: data[2]", "name"),
    Case("cdevents", _text("events.jsonl", _cdevents()),
         {"change:ev-0", "change:ev-2", "service:cart", "service:checkout"}, "change:ev-1",
         "events.jsonl:2", "name"),
    Case("otlp", _text("traces.jsonl", _otlp()),
         {"service:frontend", "service:cartservice"}, "service:bad name", "bad name",
         "name"),
    Case("alertmanager", _text("webhook.json", _alertmanager()),
         {"alert:3f6c9a1b2d4e7f80@2026-03-05T09:41:00Z"},
         "alert:8a1d0c6e5f4b3a29@2026-03-05T09:41:30Z", "alerts[1]", "attrs.summary",
         ("frontend", "cartservice")),
    Case("incident", _text("incidents.yaml", _incidents()),
         {"incident:INC-1", "incident:INC-2"}, "incident:INC-bad", "document 2", "status",
         ("cartservice",)),
    Case("deploys-csv", _text("deploys.csv", _deploys_csv()),
         {"change:dep-201", "change:dep-202", "change:dep-203"}, "change:dep-bad",
         "deploys.csv: row 2", "time"),
    Case("incidents-csv", _text("incidents.csv", _incidents_csv()),
         {"incident:INC-7", "incident:INC-8"}, "incident:INC-bad", "incidents.csv: row 2",
         "resolved_at", ("paymentservice", "checkoutservice", "frontend", "currencyservice")),
]


@pytest.mark.parametrize("batch_size", [1, 1000])
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_one_bad_record_is_rejected_alone_and_named_and_the_good_ones_are_written(
        embedded, tmp_path, case, batch_size):
    embedded.write([NodeFact("service", name, {}, 0) for name in case.needs])
    path = case.write(tmp_path)
    report = ingest_paths(embedded, [path], at=AT1, batch_size=batch_size)
    (f,) = report.files
    assert f.format == case.name
    errors = errors_of(report)
    assert errors and all(case.where in e and f"field '{case.field}" in e for e in errors), errors
    nodes = set(embedded.graph(AT1 + 10**15).nodes)
    assert case.good <= nodes and case.bad not in nodes
    assert f.rejected == len(errors) and not report.ok


def test_a_record_whose_edge_names_a_node_of_a_rejected_record_is_rejected_naming_it(
        embedded, tmp_path):
    path = tmp_path / "t.jsonl"
    path.write_text(_lines(
        {"type": "node", "kind": "service", "name": "a"},
        {"type": "node", "kind": "datastore", "name": "db", "attrs": {"rps": "lots"}},
        {"type": "edge", "kind": "DEPENDS_ON", "from": "a", "to": "datastore:db"},
        {"type": "node", "kind": "service", "name": "c"}))
    report = ingest_paths(embedded, [path], at=AT1)
    bad, edge = errors_of(report)
    assert "t.jsonl:2" in bad and "attrs.rps" in bad
    assert "t.jsonl:3" in edge and "field 'to'" in edge and "datastore:db" in edge
    assert report.files[0].rejected == 2
    assert set(embedded.graph(AT1 + 1).nodes) == {"service:a", "service:c"}


def test_records_refused_while_built_are_named_and_the_others_kept():
    def build(where: str, name: str) -> list:
        if name == "boom":
            raise FactError(where, "name", name, "not wanted")
        return [NodeFact("service", name, {}, 0, origin=where)]

    built = per_record([("f:1", "a"), ("f:2", "boom"), ("f:3", FactError("f:3", "(line)", "",
                                                                         "not JSON")),
                        ("f:4", "d")], build)
    assert [f.ref for f in built.facts] == ["service:a", "service:d"]
    assert built.spans == [("f:1", 1), ("f:4", 1)]
    assert [(e.where, e.field) for e in built.rejects] == [("f:2", "name"), ("f:3", "(line)")]


def test_a_fact_the_store_refuses_drops_its_record_and_no_other():
    facts = [NodeFact("service", n, {}, 0, origin=f"f:{i}") for i, n in enumerate("abc")]
    rd = ready(Batch("f", 3, list(facts), spans=[("f:0", 1), ("f:1", 1), ("f:2", 1)]))
    assert rd.drop(FactError("f:1", "to", "x", "unknown node"), 1)
    assert [f.ref for f in rd.facts] == ["service:a", "service:c"]
    assert rd.spans == [("f:0", 1), ("f:2", 1)] and rd.lost == {"service:b"}
    assert not rd.drop(FactError("f", "x", "x", "after every record"), 5)


def test_batches_written_together_for_a_cycle_still_reject_their_bad_records_alone(
        embedded, tmp_path):
    # batch 1 needs b of batch 2, batch 2 needs a of batch 1: written together; batch 2
    # also holds a bad record and an edge to a node nothing defines
    path = tmp_path / "cycle.jsonl"
    path.write_text(_lines(
        {"type": "node", "kind": "service", "name": "a"},
        {"type": "edge", "kind": "DEPENDS_ON", "from": "service:a", "to": "service:b"},
        {"type": "node", "kind": "service", "name": "c", "attrs": {"rps": "lots"}},
        {"type": "node", "kind": "service", "name": "b"},
        {"type": "edge", "kind": "DEPENDS_ON", "from": "service:b", "to": "service:a"},
        {"type": "edge", "kind": "DEPENDS_ON", "from": "service:b", "to": "service:ghost"}))
    report = ingest_paths(embedded, [path], at=AT1, batch_size=3)
    bad, ghost = sorted(errors_of(report))
    assert "cycle.jsonl:3" in bad and "attrs.rps" in bad
    assert "cycle.jsonl:6" in ghost and "field 'to'" in ghost and "service:ghost" in ghost
    g = embedded.graph(AT1 + 1)
    assert set(g.nodes) == {"service:a", "service:b"}
    assert {(e.src, e.dst) for e in g.edges_of("DEPENDS_ON")} == {
        ("service:a", "service:b"), ("service:b", "service:a")}
    assert report.files[0].rejected == 2


def test_records_naming_one_missing_node_are_dropped_in_one_write_attempt(
        embedded, tmp_path, monkeypatch):
    recs = [{"type": "node", "kind": "service", "name": f"s{i}"} for i in range(50)]
    recs += [{"type": "edge", "kind": "DEPENDS_ON", "from": f"service:s{i}",
              "to": "service:ghost"} for i in range(0, 50, 2)]
    path = tmp_path / "t.jsonl"
    path.write_text(_lines(*recs))
    writes = []
    real = embedded.write
    monkeypatch.setattr(embedded, "write", lambda facts, **kw: writes.append(1) or real(facts,
                                                                                        **kw))
    report = ingest_paths(embedded, [path], at=AT1)
    errors = errors_of(report)
    assert len(errors) == 25 and all("'service:ghost'" in e and "field 'to'" in e
                                     for e in errors)
    assert {e.split(": field")[0].rsplit(":", 1)[1] for e in errors} == {
        str(n) for n in range(51, 76)}
    assert len(set(embedded.graph(AT1 + 1).nodes)) == 50
    # once read, once retried at the end of the stage and at the end of the run, where
    # the 25 edges are dropped together and the rest written: not one attempt per edge
    assert len(writes) <= 5
