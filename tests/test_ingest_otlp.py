"""OTLP/JSON traces -> service edges with call counts, error rates and latencies."""

from __future__ import annotations

import pytest

from graph_schema import parse_time
from ingest import ingest_bytes, ingest_paths
from tests.helpers import FIXTURES, LATER, attrs_of, deps

TRACES = FIXTURES / "otlp" / "traces.jsonl"
WINDOW_START = parse_time("2026-03-05T09:41:00Z")


def test_client_server_pairs_db_and_messaging_spans_become_edges(store):
    report = ingest_paths(store, [TRACES])
    assert report.ok and report.files[0].format == "otlp", report.to_dict()
    g = store.graph(LATER)
    assert deps(g) == {
        ("service:frontend", "service:cartservice"),        # CLIENT -> SERVER child
        ("service:cartservice", "cache:redis-cart"),        # db.system=redis
        ("service:checkoutservice", "queue:orders"),        # PRODUCER, kafka topic
        ("service:emailservice", "queue:orders"),           # CONSUMER of it
        ("service:checkoutservice", "service:paymentservice"),  # peer.service, no server span
    }
    cart = attrs_of(g, "service:frontend|DEPENDS_ON|service:cartservice")
    assert cart == {"call_count": 2, "error_rate": 0.5, "protocol": "grpc",
                    "p50_ms": 30.0, "p95_ms": 48.0, "p99_ms": 49.6, "evidence": "otlp traces"}
    assert attrs_of(g, "service:cartservice|DEPENDS_ON|cache:redis-cart")["protocol"] == "redis"
    orders = attrs_of(g, "service:checkoutservice|DEPENDS_ON|queue:orders")
    assert orders["async"] is True and orders["protocol"] == "kafka"


def test_facts_are_valid_from_the_earliest_span(embedded):
    ingest_paths(embedded, [TRACES])
    assert embedded.history("service:frontend").edges[0].valid_from == WINDOW_START
    assert embedded.graph(WINDOW_START - 1).edges == {}


def test_one_object_per_file_is_read_too_and_twice_is_a_no_op(embedded):
    single = FIXTURES / "otlp" / "traces-single.json"
    first = ingest_paths(embedded, [single]).files[0]
    assert first.format == "otlp" and first.ok
    # frontend's client spans have no server child here: server.address names the callee
    assert deps(embedded.graph(LATER)) == {("service:frontend", "service:cartservice")}
    assert ingest_paths(embedded, [single]).totals()["added"] == 0


def test_a_broken_line_is_rejected_and_the_other_spans_count(embedded):
    lines = TRACES.read_bytes().splitlines(keepends=True)
    broken = lines[0] + b'{"resourceSpans": [{"resource": \n' + b"".join(lines[1:])
    report = ingest_bytes(embedded, None, broken, "traces.jsonl")
    error, = report.errors
    assert "traces.jsonl:2" in error and "not JSON" in error
    assert ("service:cartservice", "cache:redis-cart") in deps(embedded.graph(LATER))


def test_a_span_with_a_bad_time_names_its_path(embedded):
    bad = b'{"resourceSpans": [{"resource": {"attributes": []}, "scopeSpans": [{"spans": [' \
          b'{"traceId": "a", "spanId": "b", "kind": 3, "startTimeUnixNano": "soon", ' \
          b'"endTimeUnixNano": "1"}]}]}]}\n'
    report = ingest_bytes(embedded, "otlp", bad, "t.jsonl")
    error, = report.errors
    assert "resourceSpans[0].scopeSpans[0].spans[0]" in error and "startTimeUnixNano" in error


_EARLY_SPAN = (b'{"traceId": "e", "spanId": "1", "kind": 3, "startTimeUnixNano": '
               b'"1772000000000000000", "endTimeUnixNano": "1772000000005000000", '
               b'"attributes": [{"key": "peer.service", "value": {"stringValue": "pay"}}]}')
_BAD_REQUESTS = {
    # a good span, then a bad one: before, the good one was kept (an edge to pay, and
    # the earliest span, so every fact's valid time, taken from a rejected line)
    "startTimeUnixNano": b'"scopeSpans": [{"spans": [' + _EARLY_SPAN + b', {"spanId": "2", '
                         b'"startTimeUnixNano": "soon"}]}]',
    # before, these raised out of the run and lost every line
    "resource": b'"resource": "web", "scopeSpans": []',
    "(scopeSpans item)": b'"scopeSpans": ["web"]',
    "spans": b'"scopeSpans": [{"spans": 5}]',
}


@pytest.mark.parametrize("field", sorted(_BAD_REQUESTS))
@pytest.mark.parametrize("batch_size", [1, 1000])
def test_a_bad_line_adds_none_of_its_spans_and_the_others_count(embedded, field, batch_size):
    lines = TRACES.read_bytes().splitlines(keepends=True)
    bad = b'{"resourceSpans": [{' + _BAD_REQUESTS[field] + b'}]}\n'
    report = ingest_bytes(embedded, None, b"".join(lines[:2]) + bad + b"".join(lines[2:]),
                          "traces.jsonl", batch_size=batch_size)
    (error,) = report.errors
    assert "traces.jsonl:3 resourceSpans[0]" in error and f"field '{field}'" in error
    assert report.rejected == 1
    g = embedded.graph(LATER)
    assert len(deps(g)) == 5 and not [d for d in deps(g) if d[1] == "service:pay"]
    assert embedded.history("service:frontend").edges[0].valid_from == WINDOW_START
    again = ingest_bytes(embedded, None, b"".join(lines[:2]) + bad + b"".join(lines[2:]),
                         "traces.jsonl", batch_size=batch_size)
    assert (again.added, again.closed, again.rejected) == (0, 0, 1)


REAL = FIXTURES / "real" / "traces"


@pytest.mark.parametrize("name", ["jaeger-v3-gettrace.json", "tempo-trace-otlp-example.json",
                                  "otlp-examples-trace.json"])
def test_jaeger_v3_and_tempo_envelopes_of_a_lone_server_span_are_read_without_edges(
        embedded, name):
    report = ingest_paths(embedded, [REAL / name]).files[0]
    assert (report.format, report.errors, report.added) == ("otlp", [], 0)


def test_older_tempo_batches_give_the_edge_the_servicegraph_connector_derives(embedded):
    # the connector's own test trace: a kafka client span in foo-server, its server
    # child (db.system postgresql) in bar-requester
    report = ingest_paths(embedded, [REAL / "tempo-batches-servicegraph-trace.json"])
    assert report.ok and report.files[0].format == "otlp"
    assert deps(embedded.graph(parse_time("2027-02-01T00:00:00Z"))) == {
        ("service:foo-server", "service:bar-requester")}   # spans of 2027-01-15


def test_a_query_api_error_envelope_is_named_not_taken_for_traces(embedded):
    body = b'{"error": {"httpCode": 404, "message": "trace not found"}}\n'
    report = ingest_bytes(embedded, "otlp", body, "v3.json")
    error, = report.errors
    assert "v3.json" in error and "'error'" in error and "trace not found" in error
