"""CSV exports of deploys and incidents."""

from __future__ import annotations

import pytest

from graph_schema import NodeFact, parse_time
from ingest import ingest_bytes, ingest_paths
from tests.helpers import FIXTURES, LATER, attrs_of, edges


def test_a_deploy_export_gives_changes_of_the_named_services(store):
    store.write([NodeFact("service", "frontend", {}, 0)])
    report = ingest_paths(store, [FIXTURES / "csv" / "deploys.csv"])
    assert report.ok and report.files[0].format == "deploys-csv", report.to_dict()
    g = store.graph(LATER)
    assert {(n.name, n.attrs["change_kind"], n.attrs["target"]) for n in g.nodes_of("change")} \
        == {("dep-201", "deploy", "service:frontend"),
            ("dep-202", "deploy", "service:productcatalogservice"),
            ("dep-203", "rollback", "service:cartservice")}
    assert attrs_of(g, "change:dep-201")["description"] == "frontend v0.10.2: currency formatting fix"
    assert attrs_of(g, "change:dep-201")["author"] == "ci-bot"
    # a service a deploy introduces exists from its first deploy
    assert store.history("service:cartservice").node[0].valid_from == parse_time(
        "2026-03-05T11:00:00Z")


def test_an_incident_export_gives_incidents_and_chains(store):
    store.write([NodeFact("service", n, {}, 0) for n in (
        "paymentservice", "checkoutservice", "frontend", "currencyservice")])
    report = ingest_paths(store, [FIXTURES / "csv" / "incidents.csv"])
    assert report.ok and report.files[0].format == "incidents-csv", report.to_dict()
    g = store.graph(LATER)
    assert edges(g, "CAUSED") == {
        ("service:paymentservice", "CAUSED", "service:checkoutservice"),
        ("service:checkoutservice", "CAUSED", "service:frontend")}
    assert attrs_of(g, "incident:INC-7")["root_cause"] == "service:paymentservice"
    assert attrs_of(g, "incident:INC-8")["status"] == "open"
    assert ("incident:INC-8", "INVOLVES", "service:currencyservice") in edges(g)


def test_chunks_follow_the_batch_size_and_a_bad_row_is_rejected_alone(embedded):
    rows = "".join(f"d{i},2026-03-0{1 + i % 5}T00:00:00Z,svc{i},1.{i}\n" for i in range(6))
    rows = rows.replace("d3,2026-03-04T00:00:00Z", "d3,someday")
    report = ingest_bytes(embedded, None, ("id,time,service,version\n" + rows).encode(),
                          "deploys.csv", batch_size=2)
    assert report.batches == 3 and report.rejected == 1
    error, = report.errors
    assert "deploys.csv: row 4" in error and "field 'time'" in error and "'someday'" in error
    assert sorted(embedded.refs("change")) == ["change:d0", "change:d1", "change:d2",
                                               "change:d4", "change:d5"]


@pytest.mark.parametrize("batch_size", [1, 2, 1000])
def test_a_row_with_more_fields_than_the_header_is_rejected_alone(embedded, batch_size):
    rows = [f"d{i},2026-03-0{1 + i}T00:00:00Z,svc{i},1.{i}" for i in range(5)]
    rows[1] = "d1,2026-03-02T00:00:00Z,svc1,1.1,unquoted, comma"    # 6 fields of 4
    rows[3] = rows[3].replace("2026-03-04T00:00:00Z", "someday")     # numbered after it
    body = ("id,time,service,version\n" + "\n".join(rows) + "\n").encode()
    report = ingest_bytes(embedded, None, body, "deploys.csv", batch_size=batch_size)
    # before, pandas refused the whole file: every row after the bad one was lost
    wide, *_ = [e for e in report.errors if "row 2 " in e]
    assert "deploys.csv: row 2 (line 3): field '(row)'" in wide \
        and "expected at most 4 fields" in wide and "(got 6)" in wide
    # the bad time is rejected alone, naming its row
    assert len(report.errors) == 2 and "deploys.csv: row 4: field 'time'" in report.errors[1]
    assert sorted(embedded.refs("change")) == ["change:d0", "change:d2", "change:d4"]
    again = ingest_bytes(embedded, None, body, "deploys.csv", batch_size=batch_size)
    assert (again.added, again.closed) == (0, 0) and again.errors == report.errors


def test_missing_columns_and_broken_csv_are_named(embedded):
    report = ingest_bytes(embedded, "deploys-csv", b"id,when\n1,2\n", "d.csv")
    assert "missing column(s) time, service" in report.errors[0]
    report = ingest_bytes(embedded, "deploys-csv",
                          b'id,time,service\n"unterminated,2026-03-01T00:00:00Z,a\n', "d.csv")
    assert "not a valid CSV file" in report.errors[0]


def test_quoted_values_may_span_lines_and_blank_lines_are_skipped(embedded):
    body = (b'id,time,service,description\n\n'
            b'd1,2026-03-01T00:00:00Z,cart,"two\nlines, one comma"\n   \n'
            b'd2,2026-03-02T00:00:00Z,cart\n'
            b'd3,someday,cart\n')
    report = ingest_bytes(embedded, None, body, "deploys.csv", batch_size=1)
    assert attrs_of(embedded.graph(LATER), "change:d1")["description"] == "two\nlines, one comma"
    assert "change:d2" in embedded.refs("change")
    # rows count from the first row after the header, blank lines left out
    (error,) = report.errors
    assert "deploys.csv: row 3" in error and "'someday'" in error
