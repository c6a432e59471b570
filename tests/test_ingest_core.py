"""The ingest pipeline: files and payloads alike, stage order, retries, rejection."""

from __future__ import annotations

import json

import pytest

from ccm.store import EmbeddedStore
from ingest import IngestError, ingest_bytes, ingest_paths
from tests.helpers import AT1, LATER, deps, errors_of


def jsonl(*records: dict) -> str:
    return "".join(json.dumps(r) + "\n" for r in records)


def node(kind: str, name: str, **attrs) -> dict:
    return {"type": "node", "kind": kind, "name": name, "attrs": attrs}


def edge(a: str, b: str, **attrs) -> dict:
    return {"type": "edge", "kind": "DEPENDS_ON", "from": a, "to": b, "attrs": attrs}


TOPOLOGY = jsonl(node("service", "frontend", entrypoint=True), node("service", "cart"),
                 node("cache", "redis-cart"), edge("frontend", "cart"),
                 edge("cart", "redis-cart", protocol="redis"))


def test_a_payload_ingests_exactly_like_the_same_file(tmp_path, clock):
    (tmp_path / "topology.jsonl").write_text(TOPOLOGY)
    a = EmbeddedStore(tmp_path / "a.sqlite", clock=clock)
    b = EmbeddedStore(tmp_path / "b.sqlite", clock=clock)
    from_file = ingest_paths(a, [tmp_path / "topology.jsonl"]).files[0]
    from_bytes = ingest_bytes(b, None, TOPOLOGY.encode(), "topology.jsonl")
    assert (from_file.format, from_file.added) == (from_bytes.format, from_bytes.added) == (
        "native", 5)
    assert a.graph(LATER).to_dict() == b.graph(LATER).to_dict()
    assert from_bytes.path == "topology.jsonl"


def test_a_folder_is_read_topology_then_changes_then_alerts(tmp_path, embedded):
    tmp_path = tmp_path / "in"
    tmp_path.mkdir()
    (tmp_path / "a-alerts.jsonl").write_text(jsonl(
        {"id": "a1", "time": "2026-03-05T09:41:00Z", "service": "redis-cart",
         "signal": "latency"}))
    (tmp_path / "b-changes.jsonl").write_text(jsonl(
        {"id": "chg-1", "time": "2026-03-02T09:10:00Z", "kind": "config_change",
         "target": "cart", "changes": [{"key": "REDIS_TIMEOUT_MS", "old": "500", "new": "50"}]}))
    (tmp_path / "c-topology.jsonl").write_text(TOPOLOGY)
    report = ingest_paths(embedded, [tmp_path])
    assert [f.format for f in report.files] == ["native", "native-changes", "native-alerts"]
    g = embedded.graph(LATER)
    # the alert's bare name found the cache the topology defines, not a new service
    assert "service:redis-cart" not in g.nodes
    assert g.edges["alert:a1|SYMPTOM_OF|cache:redis-cart"].attrs == {"signal": "latency"}
    assert g.nodes["config:cart/REDIS_TIMEOUT_MS"].attrs["value"] == "50"


def test_ingesting_the_same_input_twice_adds_nothing(tmp_path, embedded):
    (tmp_path / "t.jsonl").write_text(TOPOLOGY)
    assert ingest_paths(embedded, [tmp_path / "t.jsonl"]).totals()["added"] == 5
    again = ingest_paths(embedded, [tmp_path / "t.jsonl"]).totals()
    assert again == {"added": 0, "unchanged": 5, "closed": 0, "rejected": 0}


def test_a_bad_record_is_rejected_alone_and_named_by_line_field_and_value(tmp_path, embedded):
    lines = [node("service", f"s{i}") for i in range(6)]
    lines[4] = node("service", "s4", rps="fast")
    (tmp_path / "t.jsonl").write_text(jsonl(*lines))
    report = ingest_paths(embedded, [tmp_path / "t.jsonl"], batch_size=2)
    f = report.files[0]
    assert (f.added, f.rejected, f.batches) == (5, 1, 3)
    assert not report.ok
    error, = f.errors
    assert "t.jsonl:5" in error and "attrs.rps" in error and "'fast'" in error
    assert set(embedded.graph(LATER).nodes) == {"service:s0", "service:s1", "service:s2",
                                                "service:s3", "service:s5"}


def test_an_edge_to_a_node_of_a_later_file_of_the_stage_is_retried(tmp_path, embedded):
    tmp_path = tmp_path / "in"
    tmp_path.mkdir()
    (tmp_path / "a.jsonl").write_text(jsonl(node("service", "a"), edge("a", "service:b")))
    (tmp_path / "b.jsonl").write_text(jsonl(node("service", "b")))
    report = ingest_paths(embedded, [tmp_path])
    assert report.ok, errors_of(report)
    assert deps(embedded.graph(LATER)) == {("service:a", "service:b")}


def test_an_edge_to_a_node_nothing_defines_is_rejected_at_the_end(tmp_path, embedded):
    (tmp_path / "a.jsonl").write_text(jsonl(node("service", "a"), edge("a", "service:ghost")))
    report = ingest_paths(embedded, [tmp_path / "a.jsonl"])
    error, = errors_of(report)
    assert "field 'to'" in error and "service:ghost" in error and "unknown node" in error


def test_unknown_unreadable_and_unrecognised_inputs_are_named(tmp_path, embedded):
    with pytest.raises(IngestError, match="unknown format 'nope'"):
        ingest_paths(embedded, [tmp_path], fmt="nope")
    (tmp_path / "notes.txt").write_text("just some words\n")
    report = ingest_paths(embedded, [tmp_path / "notes.txt", tmp_path / "missing.jsonl"])
    assert [e.split(": ", 1)[1] for e in errors_of(report)] == [
        "unrecognised format (name one with --format; known: " + ", ".join(
            __import__("ingest").registry()) + ")", "no such file"]


def test_progress_reports_bytes_read_up_to_the_size(tmp_path, embedded):
    path = tmp_path / "t.jsonl"
    path.write_text(jsonl(*[node("service", f"s{i}") for i in range(10)]))
    seen: list[tuple[int, int]] = []
    ingest_paths(embedded, [path], batch_size=3,
                 progress=lambda p, done, total: seen.append((done, total)))
    total = path.stat().st_size
    assert len(seen) == 4 and all(t == total for _, t in seen)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen) and seen[-1][0] == total


class CountingStore(EmbeddedStore):
    """The real store, counting name lookups."""

    lookups = 0

    def find_refs(self, names):  # type: ignore[no-untyped-def]
        self.lookups += 1
        return super().find_refs(names)


def test_names_are_looked_up_once_per_batch(tmp_path, clock):
    store = CountingStore(tmp_path / "c.sqlite", clock=clock)
    records = [node("service", f"s{i}") for i in range(50)]
    records += [edge(f"s{i}", f"s{i + 1}") for i in range(49)]
    (tmp_path / "t.jsonl").write_text(jsonl(*records))
    report = ingest_paths(store, [tmp_path / "t.jsonl"], batch_size=100)
    assert report.totals()["added"] == 99
    assert store.lookups == 1


def test_facts_without_a_time_take_the_at_time(tmp_path, embedded):
    (tmp_path / "t.jsonl").write_text(TOPOLOGY)
    ingest_paths(embedded, [tmp_path / "t.jsonl"], at=AT1)
    # native records without "time" are valid from the beginning (the spec's rule)
    assert embedded.history("service:cart").node[0].valid_from == 0


def test_batches_whose_edges_name_each_other_s_nodes_are_written_together(tmp_path, embedded):
    d = tmp_path / "in"
    d.mkdir()
    (d / "a.jsonl").write_text(jsonl(node("service", "a"), edge("a", "service:b")))
    (d / "b.jsonl").write_text(jsonl(node("service", "b"), edge("b", "service:a")))
    report = ingest_paths(embedded, [d])
    assert report.ok, errors_of(report)
    assert [(f.added, f.rejected) for f in report.files] == [(2, 0), (2, 0)]
    assert deps(embedded.graph(LATER)) == {("service:a", "service:b"), ("service:b", "service:a")}


def test_a_cycle_too_big_for_one_transaction_is_written_nodes_first(tmp_path, embedded,
                                                                      monkeypatch):
    import ingest.waiting

    monkeypatch.setattr(ingest.waiting, "MAX_TOGETHER", 3)
    d = tmp_path / "in"
    d.mkdir()
    (d / "a.jsonl").write_text(jsonl(node("service", "a"), edge("a", "service:b")))
    (d / "b.jsonl").write_text(jsonl(node("service", "b"), edge("b", "service:a")))
    report = ingest_paths(embedded, [d])
    assert report.ok, errors_of(report)
    assert [(f.added, f.unchanged, f.rejected) for f in report.files] == [(2, 0, 0), (2, 0, 0)]
    assert deps(embedded.graph(LATER)) == {("service:a", "service:b"), ("service:b", "service:a")}


@pytest.mark.parametrize("path, fmt", [
    ("k8s/shop/v1.yaml", "k8s"), ("backstage/catalog-info.yaml", "backstage"),
    ("jaeger/dependencies.json", "jaeger"), ("otlp/traces.jsonl", "otlp"),
    ("cdevents/events.jsonl", "cdevents"), ("alertmanager/firing.json", "alertmanager"),
    ("incident/cart-redis-timeout.yaml", "incident"), ("csv/deploys.csv", "deploys-csv"),
    ("csv/incidents.csv", "incidents-csv"),
])
def test_every_format_reports_progress_up_to_its_size(path, fmt, embedded):
    from tests.helpers import FIXTURES

    source = FIXTURES / path
    seen: list[int] = []
    report = ingest_paths(embedded, [source], progress=lambda p, done, total: seen.append(done))
    assert report.files[0].format == fmt
    assert seen and seen == sorted(seen) and seen[-1] == source.stat().st_size


def test_a_batch_sealed_with_its_nodes_lets_the_next_batch_see_them_until_discarded(embedded):
    from ingest import Resolver

    r = Resolver(embedded)
    r.note("datastore:orders")
    token = r.seal(["datastore:orders", "cache:sessions"])  # every node of the batch
    assert r.resolve("sessions") == "cache:sessions" and r.resolve("orders") == "datastore:orders"
    r.note("queue:jobs")
    r.drop_pending()  # the batch being built is built again
    assert r.resolve("jobs") == "service:jobs"
    r.discard(token)
    assert r.resolve("sessions") == "service:sessions"


def test_get_time_reads_a_time_and_names_the_field_of_a_bad_or_missing_one():
    from graph_schema import FactError
    from ingest.core import get_time

    doc = {"at": "2024-01-01T00:00:00Z", "blank": "", "bad": "soon"}
    assert get_time(doc, "at", "f line 1") == 1_704_067_200_000_000
    assert get_time(doc, "blank", "f line 1") is None
    assert get_time(doc, "gone", "f line 1") is None
    for key, required in (("gone", True), ("blank", True), ("bad", False)):
        with pytest.raises(FactError) as err:
            get_time(doc, key, "f line 1", required=required)
        assert (err.value.where, err.value.field) == ("f line 1", key)
