"""servicegraph, Istio and Linkerd request metrics -> DEPENDS_ON edges with call and error rates."""

from __future__ import annotations

import json

import pytest

from graph_schema import NodeFact, parse_time
from ingest import ingest_bytes, ingest_paths
from ingest.adapters import registry
from ingest.core import Source, detect, expand
from tests.helpers import AT1, FIXTURES, attrs_of, deps

REAL = FIXTURES / "real"
METRICS = REAL / "metrics"
FOREVER = parse_time("2100-01-01T00:00:00Z")
T0 = 1_772_700_000   # 2026-03-05T08:40:00Z, in seconds as the Prometheus API writes times


@pytest.mark.parametrize("name", ["servicegraph-failed-label.json",
                                  "servicegraph-failed-label.prom"])
def test_servicegraph_counters_give_calls_errors_and_latency_percentiles(embedded, name):
    # the connector's golden metrics: 2 good and 1 failed call foo -> bar, counted both
    # by the failed="true" label and by request_failed_total (counted once), all three
    # server durations in the (0.8 s, 1 s] bucket
    report = ingest_paths(embedded, [METRICS / name], at=AT1).files[0]
    assert (report.format, report.errors, report.added) == ("callgraph-metrics", [], 3)
    g = embedded.graph(FOREVER)
    assert deps(g) == {("service:foo", "service:bar")}
    assert attrs_of(g, "service:foo|DEPENDS_ON|service:bar") == {
        "call_count": 3, "error_rate": pytest.approx(1 / 3), "evidence": "servicegraph metrics",
        "p50_ms": 900.0, "p95_ms": 990.0, "p99_ms": 998.0}


def test_servicegraph_metrics_and_the_trace_they_came_from_give_the_same_edge(embedded):
    metrics = ingest_paths(embedded, [METRICS / "servicegraph-extra-dimensions-queue-db.json"])
    from_metrics = deps(embedded.graph(FOREVER))
    trace = ingest_paths(embedded, [REAL / "traces" / "tempo-batches-servicegraph-trace.json"])
    assert metrics.ok and trace.ok
    assert from_metrics == deps(embedded.graph(FOREVER)) == {
        ("service:foo-server", "service:bar-requester")}


def test_servicegraph_virtual_nodes_are_skipped_and_counted_not_made_components(embedded):
    report = ingest_paths(embedded, [METRICS / "servicegraph-virtual-node-label.json"]).files[0]
    assert (report.errors, report.added) == ([], 0)
    assert report.skipped == {"servicegraph virtual node (uninstrumented peer)": 2}


def test_istio_counts_a_request_once_though_both_proxies_report_it(embedded):
    # istio/proxy's own test label sets; destination_service_name of the client report
    # is an address (127.0.0.1:port), not a name
    report = ingest_paths(embedded, [METRICS / "istio-proxy-requests.prom"], at=AT1).files[0]
    assert (report.format, report.errors, report.added, report.unchanged) == (
        "callgraph-metrics", [], 3, 0)
    g = embedded.graph(AT1 + 1)
    assert deps(g) == {("service:productpage-v1", "service:ratings")}
    assert attrs_of(g, "service:productpage-v1|DEPENDS_ON|service:ratings") == {
        "call_count": 10, "error_rate": 0.0, "protocol": "http", "evidence": "istio metrics"}


def _istio(source: str, dest: str, code: str, values: list[tuple[int, int]],
           reporter: str = "destination") -> dict[str, object]:
    return {"metric": {"__name__": "istio_requests_total", "reporter": reporter,
                       "source_workload": source, "source_workload_namespace": "default",
                       "destination_workload": dest, "destination_workload_namespace": "default",
                       "destination_service_name": dest.rsplit("-", 1)[0],
                       "request_protocol": "http", "response_code": code},
            "values": [[T0 + dt, str(v)] for dt, v in values]}


MATRIX = {"status": "success", "data": {"resultType": "matrix", "result": [
    _istio("unknown", "productpage-v1", "200", [(0, 900), (60, 960)]),
    _istio("productpage-v1", "reviews-v2", "200", [(0, 100), (30, 130), (60, 160)]),
    _istio("productpage-v1", "reviews-v2", "503", [(0, 4), (60, 10)]),
    _istio("productpage-v1", "reviews-v2", "200", [(0, 100), (60, 190)], reporter="source"),
    _istio("reviews-v2", "ratings-v1", "200", [(0, 500), (30, 20), (60, 50)]),   # a restart
]}}


def test_a_matrix_answer_gives_rates_over_its_window(embedded):
    report = ingest_bytes(embedded, None, json.dumps(MATRIX).encode(), "query_range.json")
    assert (report.format, report.errors) == ("callgraph-metrics", [])
    assert report.skipped == {"istio request from an unknown source (ingress traffic)": 1}
    g = embedded.graph(FOREVER)
    # reviews-v2 is one node (named by its service) whether it calls or is called
    assert deps(g) == {("service:productpage-v1", "service:reviews"),
                       ("service:reviews", "service:ratings")}
    reviews = attrs_of(g, "service:productpage-v1|DEPENDS_ON|service:reviews")
    assert (reviews["call_count"], reviews["calls_per_s"]) == (66, 1.1)
    assert reviews["error_rate"] == pytest.approx(6 / 66)
    ratings = attrs_of(g, "service:reviews|DEPENDS_ON|service:ratings")
    assert (ratings["call_count"], ratings["calls_per_s"]) == (50, round(50 / 60, 6))
    # valid from the window's start
    assert embedded.history("service:reviews").edges[0].valid_from == T0 * 1_000_000


def test_a_vector_answer_uses_the_counters_as_weights_at_its_time(embedded):
    vector = {"status": "success", "data": {"resultType": "vector", "result": [
        {"metric": r["metric"], "value": r["values"][-1]}
        for r in MATRIX["data"]["result"]]}}   # type: ignore[index]
    report = ingest_bytes(embedded, None, json.dumps(vector).encode(), "query.json")
    assert report.errors == []
    g = embedded.graph(FOREVER)
    reviews = attrs_of(g, "service:productpage-v1|DEPENDS_ON|service:reviews")
    assert reviews["call_count"] == 170 and "calls_per_s" not in reviews
    assert embedded.history("service:reviews").edges[0].valid_from == (T0 + 60) * 1_000_000


def test_pairs_that_resolve_to_one_edge_add_up(embedded):
    embedded.write([NodeFact("service", n, {}, 0) for n in ("productpage", "reviews")])
    scrape = "".join(
        f'istio_requests_total{{reporter="destination",source_workload="productpage-v1",'
        f'source_canonical_service="productpage",destination_workload="{w}",'
        f'destination_canonical_service="reviews",response_code="{code}"}} {n}\n'
        for w, code, n in [("reviews-v2", "200", 5), ("reviews-v3", "200", 6),
                           ("reviews-v3", "503", 1)])
    report = ingest_bytes(embedded, None, scrape.encode(), "istio.prom", at=AT1)
    assert (report.errors, report.added) == ([], 1)
    edge = attrs_of(embedded.graph(AT1 + 1), "service:productpage|DEPENDS_ON|service:reviews")
    assert (edge["call_count"], edge["error_rate"]) == (12, pytest.approx(1 / 12))


LINKERD = b"""\
# TYPE response_total counter
response_total{direction="outbound",deployment="web",namespace="emojivoto",dst_deployment="voting",dst_namespace="emojivoto",classification="success",status_code="200",tls="true"} 90
response_total{direction="outbound",deployment="web",namespace="emojivoto",dst_deployment="voting",dst_namespace="emojivoto",classification="failure",status_code="500",tls="true"} 10
response_total{direction="outbound",deployment="web",namespace="emojivoto",dst_deployment="emoji",dst_namespace="emojivoto",classification="success",status_code="200",tls="true"} 40
response_total{direction="inbound",deployment="voting",namespace="emojivoto",classification="success",status_code="200",tls="true",client_id="web.emojivoto.serviceaccount.identity.linkerd.cluster.local"} 90
# TYPE request_total counter
request_total{direction="outbound",deployment="web",namespace="emojivoto",dst_deployment="voting",dst_namespace="emojivoto",tls="true"} 100
request_total{direction="outbound",deployment="vote-bot",namespace="emojivoto",dst_deployment="web",dst_namespace="emojivoto",tls="true"} 7
# TYPE response_latency_ms histogram
response_latency_ms_bucket{direction="outbound",deployment="web",namespace="emojivoto",dst_deployment="voting",dst_namespace="emojivoto",classification="success",status_code="200",tls="true",le="10"} 50
response_latency_ms_bucket{direction="outbound",deployment="web",namespace="emojivoto",dst_deployment="voting",dst_namespace="emojivoto",classification="success",status_code="200",tls="true",le="20"} 100
response_latency_ms_bucket{direction="outbound",deployment="web",namespace="emojivoto",dst_deployment="voting",dst_namespace="emojivoto",classification="success",status_code="200",tls="true",le="+Inf"} 100
"""


def test_linkerd_outbound_responses_give_edges_and_inbound_series_are_not_counted_twice(
        embedded):
    report = ingest_bytes(embedded, None, LINKERD, "linkerd.prom", at=AT1)
    assert (report.format, report.errors) == ("callgraph-metrics", [])
    assert report.skipped == {
        "linkerd inbound series (its caller's outbound series count it)": 1}
    g = embedded.graph(AT1 + 1)
    assert {(e.src, e.dst, e.attrs["call_count"]) for e in g.edges_of("DEPENDS_ON")} == {
        ("service:web", "service:voting", 100),      # response_total, not request_total too
        ("service:web", "service:emoji", 40),
        ("service:vote-bot", "service:web", 7),      # request_total when nothing else
    }
    voting = attrs_of(g, "service:web|DEPENDS_ON|service:voting")
    assert (voting["error_rate"], voting["p50_ms"]) == (0.1, 10.0)


def test_a_bad_sample_line_is_rejected_alone_naming_its_line_and_field(embedded):
    text = (METRICS / "istio-proxy-requests.prom").read_bytes()
    bad = b"# TYPE x counter\nistio_requests_total{reporter=\"source\"} many\n" + text
    report = ingest_bytes(embedded, None, bad, "scrape.prom", at=AT1)
    error, = report.errors
    assert "scrape.prom:2" in error and "'value'" in error and "many" in error
    assert deps(embedded.graph(AT1 + 1)) == {("service:productpage-v1", "service:ratings")}


def test_a_bad_api_result_is_rejected_alone_naming_its_index(embedded):
    body = json.loads(json.dumps(MATRIX))
    body["data"]["result"][1]["values"][1] = [T0 + 30, "lots"]
    report = ingest_bytes(embedded, None, json.dumps(body).encode(), "range.json")
    error, = report.errors
    assert "range.json" in error and "data.result[1]" in error and "'values'" in error
    assert ("service:reviews", "service:ratings") in deps(embedded.graph(FOREVER))


def test_a_failed_query_answer_is_an_error_naming_its_status(embedded):
    body = b'{"status": "error", "errorType": "bad_data", "error": "parse error", ' \
           b'"data": {"resultType": "vector", "result": [{"metric": ' \
           b'{"__name__": "istio_requests_total"}, "value": [1, "1"]}]}}'
    report = ingest_bytes(embedded, "callgraph-metrics", body, "q.json")
    error, = report.errors
    assert "q.json" in error and "'status'" in error and "parse error" in error


def test_an_expression_answer_without_metric_names_is_skipped_and_counted(embedded):
    body = b'{"status": "success", "data": {"resultType": "vector", "result": [{"metric": ' \
           b'{"client": "a", "server": "b"}, "value": [1772700000, "4.5"]}]}} '
    report = ingest_bytes(embedded, "callgraph-metrics", body, "q.json")
    assert (report.errors, report.added) == ([], 0)
    assert list(report.skipped.values()) == [1]


def test_detection_takes_only_call_graph_metrics_and_no_other_format_s_files():
    adapters = registry()
    taken = {str(p.relative_to(FIXTURES)) for p in expand([FIXTURES])
             if (a := detect(Source.from_path(p), adapters)) and a.name == "callgraph-metrics"}
    assert taken == {str(p.relative_to(FIXTURES)) for p in METRICS.iterdir()}
    other_scrape = b"# TYPE ccm_http_requests_total counter\nccm_http_requests_total 5\n"
    assert detect(Source.from_bytes(other_scrape, "metrics.prom"), adapters) is None


BOOKINFO = REAL / "kubernetes" / "bookinfo.yaml"
BOOKINFO_EDGES = {("service:productpage", "service:details"),
                  ("service:productpage", "service:reviews"),
                  ("service:reviews", "service:ratings")}


def test_istio_metrics_in_workload_names_meet_the_bookinfo_manifests_nodes(embedded):
    scrape = "".join(
        f'istio_requests_total{{reporter="destination",source_workload="{s}",'
        f'source_workload_namespace="default",destination_workload="{d}",'
        f'destination_workload_namespace="default",response_code="200"}} 5\n'
        for s, d in [("productpage-v1", "details-v1"), ("productpage-v1", "reviews-v2"),
                     ("productpage-v1", "reviews-v3"), ("reviews-v2", "ratings-v1"),
                     ("reviews-v3", "ratings-v1"), ("unknown", "productpage-v1")])
    ingest_paths(embedded, [BOOKINFO], at=AT1)
    report = ingest_bytes(embedded, None, scrape.encode(), "istio.prom", at=AT1 + 1)
    assert report.errors == []
    assert deps(embedded.graph(AT1 + 2)) == BOOKINFO_EDGES


def test_jaeger_dependencies_in_istio_names_meet_the_bookinfo_manifests_nodes(embedded):
    body = json.dumps({"data": [
        {"parent": "productpage.default", "child": "details.default", "callCount": 9},
        {"parent": "productpage.default", "child": "reviews.default", "callCount": 9},
        {"parent": "reviews.default", "child": "ratings.default", "callCount": 6}]})
    ingest_paths(embedded, [BOOKINFO], at=AT1)
    report = ingest_bytes(embedded, "jaeger", body.encode(), "deps.json", at=AT1 + 1)
    assert report.errors == []
    assert deps(embedded.graph(AT1 + 2)) == BOOKINFO_EDGES


def test_other_metrics_lines_and_openmetrics_exemplars_do_not_get_in_the_way(embedded):
    scrape = (b'# TYPE http_server_duration histogram\n'
              b'http_server_duration_bucket{le="0.1"} 3 # {trace_id="abc"} 0.05 1700000000\n'
              b'weird line that is not a sample\n'
              b'traces_service_graph_request_total{client="a",server="b"} 4 '
              b'# {trace_id="def"} 1.0\n# EOF\n')
    report = ingest_bytes(embedded, None, scrape, "scrape.txt", at=AT1)
    assert (report.format, report.errors) == ("callgraph-metrics", [])
    g = embedded.graph(AT1 + 1)
    assert attrs_of(g, "service:a|DEPENDS_ON|service:b")["call_count"] == 4
