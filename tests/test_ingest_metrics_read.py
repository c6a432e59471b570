"""Metric series read from Prometheus text, the Prometheus API's JSON and OTLP/JSON."""

from __future__ import annotations

import json

from graph_schema import FactError
from ingest.core import Source
from ingest.metrics_read import Series, read_series
from tests.helpers import FIXTURES


def series_of(data: bytes, name: str = "m.prom") -> list[Series | FactError]:
    out: list[Series | FactError] = []
    for _, item, _ in read_series(Source.from_bytes(data, name)):
        out.extend(item if isinstance(item, list) else [item])
    return out


def test_exposition_labels_are_unescaped_and_timestamps_become_microseconds():
    text = (b'istio_requests_total{source_workload="a\\"b",destination_workload="c\\\\d",'
            b'response_code="200",x="line\\nbreak"} 7 1772700000123\n'
            b'traces_service_graph_request_total{client="a",server="b",} 1.5e3\n')
    first, second = series_of(text)
    assert isinstance(first, Series) and isinstance(second, Series)
    assert first.labels == {"source_workload": 'a"b', "destination_workload": "c\\d",
                            "response_code": "200", "x": "line\nbreak"}
    assert first.points == [(1_772_700_000_123_000, 7.0)]
    assert (second.labels, second.points) == ({"client": "a", "server": "b"}, [(None, 1500.0)])


def test_api_answers_keep_every_sample_at_its_time():
    body = {"status": "success", "data": {"resultType": "matrix", "result": [
        {"metric": {"__name__": "istio_requests_total", "reporter": "source"},
         "values": [[1772700000, "1"], [1772700015.5, "3"]]}]}}
    (only,) = series_of(json.dumps(body).encode(), "q.json")
    assert isinstance(only, Series)
    assert (only.name, only.labels) == ("istio_requests_total", {"reporter": "source"})
    assert only.points == [(1_772_700_000_000_000, 1.0), (1_772_700_015_500_000, 3.0)]


def test_otlp_histograms_become_cumulative_buckets_named_as_prometheus_names_them():
    data = (FIXTURES / "real" / "metrics" / "servicegraph-extra-dimensions-queue-db.json"
            ).read_bytes()
    read = [s for s in series_of(data, "m.json") if isinstance(s, Series)]
    assert {s.name for s in read} == {"traces_service_graph_request_total",
                                      "traces_service_graph_request_server_seconds_bucket"}
    buckets = [(s.labels["le"], s.points[0][1]) for s in read if s.name.endswith("_bucket")]
    assert buckets == [("0.1", 1.0), ("1.0", 1.0), ("10.0", 1.0), ("+Inf", 1.0)]
    total = next(s for s in read if s.name.endswith("_total"))
    assert total.labels["failed"] == "false" and total.labels["server_db_system"] == "postgresql"
    assert total.points == [(2000, 1.0)]


def test_a_histogram_with_one_count_too_few_is_named():
    doc = {"resourceMetrics": [{"scopeMetrics": [{"metrics": [{
        "name": "traces_service_graph_request_server_seconds",
        "histogram": {"dataPoints": [{"bucketCounts": ["1"], "explicitBounds": [0.1]}]}}]}]}]}
    (error,) = series_of(json.dumps(doc).encode(), "m.json")
    assert isinstance(error, FactError)
    assert "resourceMetrics[0].scopeMetrics[0].metrics[0]" in str(error)
    assert "bucketCounts" in str(error)
