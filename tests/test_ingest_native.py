"""Native JSONL (the spec's shapes) keeps working through the shared mappings."""

from __future__ import annotations

from ccm.cli.demo import demo_data_dir
from graph_schema import parse_time
from ingest import ingest_bytes, ingest_paths
from tests.helpers import LATER, attrs_of, edges


def test_the_bundled_demo_loads_with_its_planted_fault(store):
    report = ingest_paths(store, sorted(demo_data_dir().glob("*.jsonl")))
    assert report.ok, report.to_dict()
    assert [f.format for f in report.files] == ["native", "native", "native-changes",
                                                "native-alerts"]
    h = store.history("config:cartservice/REDIS_ADDR").node
    assert [(v.valid_from, v.attrs["value"]) for v in h] == [
        (0, "redis-cart:6379"),
        (parse_time("2026-03-02T09:10:00Z"), "redis-cart:6379,syncTimeout=50")]
    g = store.graph(parse_time("2026-03-05T12:00:00Z"))
    assert {e.dst for e in g.edges_of("SYMPTOM_OF")} == {
        "service:cartservice", "service:frontend", "service:checkoutservice"}
    assert ingest_paths(store, sorted(demo_data_dir().glob("*.jsonl"))).totals()["added"] == 0


def test_a_change_record_changes_its_target_and_config_keys(embedded):
    line = (b'{"id": "chg-9", "time": "2026-03-02T09:10:00Z", "kind": "config_change", '
            b'"target": "service:cart", "changes": [{"key": "DB_PASSWORD", "old": "a", '
            b'"new": "b"}]}\n')
    assert ingest_bytes(embedded, None, line, "c.jsonl").format == "native-changes"
    g = embedded.graph(LATER)
    assert edges(g, "CHANGED") == {("change:chg-9", "CHANGED", "service:cart"),
                                   ("change:chg-9", "CHANGED", "config:cart/DB_PASSWORD")}
    assert "value" not in attrs_of(g, "config:cart/DB_PASSWORD")
    assert attrs_of(g, "change:chg-9")["diff"] == [{"key": "DB_PASSWORD", "old": "<secret>",
                                                    "new": "<secret>"}]


def test_an_alert_that_ended_is_history(embedded):
    line = (b'{"id": "a1", "time": "2026-03-05T09:41:00Z", "ends_at": "2026-03-05T10:00:00Z", '
            b'"service": "cart", "signal": "errors"}\n')
    ingest_bytes(embedded, None, line, "a.jsonl")
    assert "alert:a1" in embedded.graph(parse_time("2026-03-05T09:50:00Z")).nodes
    assert "alert:a1" not in embedded.graph(parse_time("2026-03-05T10:01:00Z")).nodes


def test_unknown_change_kinds_are_named(embedded):
    report = ingest_bytes(embedded, "native-changes",
                          b'{"id": "x", "time": "2026-03-01T00:00:00Z", "kind": "yolo", '
                          b'"target": "a"}\n', "c.jsonl")
    assert "field 'kind'" in report.errors[0] and "'yolo'" in report.errors[0]


def test_an_alert_signal_may_be_a_word_and_an_unknown_word_counts_as_errors(embedded):
    report = ingest_bytes(embedded, "native-alerts",
                          b'{"id": "x", "time": "2026-03-01T00:00:00Z", "service": "a", '
                          b'"signal": "timeouts"}\n'
                          b'{"id": "y", "time": "2026-03-01T00:00:00Z", "service": "a", '
                          b'"signal": "vibes"}\n', "a.jsonl")
    assert report.ok and report.added == 5
    g = embedded.graph(LATER)
    assert {(e.src, e.attrs["signal"]) for e in g.edges_of("SYMPTOM_OF")} == {
        ("alert:x", "latency"), ("alert:y", "errors")}
    note, = report.notes
    assert "a.jsonl:2" in note and "'vibes'" in note
