"""The write streams of the load benchmark (ccm.bench.writes)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ccm.bench.writes import Freshness, alert_post, deploy_event, edge_update, parse_writes
from ccm.errors import ConfigError
from graph_schema import EdgeFact, NodeFact, parse_time
from ingest import ingest_bytes

T = parse_time("2026-03-01T00:00:00Z")


def test_write_rates_parse_by_stream():
    assert parse_writes("alerts=10, deploys=1,edges=0.2") == {
        "alerts": 10.0, "deploys": 1.0, "edges": 0.2}
    assert parse_writes("") == {}


@pytest.mark.parametrize("text", ["pages=1", "alerts=0", "alerts=x", "deploys=-1"])
def test_a_bad_write_stream_or_rate_is_refused_by_name(text):
    with pytest.raises(ConfigError, match=text.split("=")[0]):
        parse_writes(text)


def services(store, n: int) -> None:
    store.write([NodeFact("service", f"s{i}", {}, T) for i in range(n)]
                + [EdgeFact("DEPENDS_ON", "service:s0", "service:s1", {"calls_per_s": 1.0}, T)])


def test_the_payloads_are_what_the_ingest_formats_read(embedded):
    services(embedded, 3)
    fired: dict = {}
    now = (T + 3_600_000_000) / 1e6
    for i in range(6):
        body = json.dumps(alert_post(i, 3, now + i, fired)).encode()
        assert ingest_bytes(embedded, "alertmanager", body, "alertmanager", None).ok
    deploy = json.dumps(deploy_event(0, 3, now)).encode()
    assert ingest_bytes(embedded, "cdevents", deploy, "cdevents", None).ok
    edge = json.dumps(edge_update(0, np.array([[0, 1]]))).encode()
    assert ingest_bytes(embedded, "jaeger", edge, "jaeger", T + 7_200_000_000).ok
    g = embedded.graph(T + 7_200_000_000)
    alerts = {r for r in g.nodes if r.startswith("alert:")}
    # six fired, the first one resolved by the sixth post
    assert len(alerts) == 5 and not any(r.startswith("alert:bench00000000@") for r in alerts)
    assert "change:bench-deploy-0" in g.nodes
    assert "call_count" in g.edges["service:s0|DEPENDS_ON|service:s1"].attrs


def test_freshness_is_the_first_answer_on_the_writes_revision_or_later():
    f = Freshness()
    f.ack(200, b'{"revision": 5}', 1.0)
    f.ack(200, b'{"revision": 6}', 2.0)
    f.answer(200, b'{"revision": 4}', 0.9, 1.2)   # done after the ack, older revision
    f.answer(200, b'{"verdict": {"impact": {"revision": 5}}}', 1.1, 1.5)
    f.answer(200, b'{"revision": 7}', 2.2, 2.25)
    report = f.report()
    assert report["method"] == "revision" and report["writes"] == 2
    assert (report["p50_ms"], report["max_ms"], report["unseen"]) == (375.0, 500.0, 0)


def test_without_revisions_freshness_is_the_first_request_sent_after_the_ack():
    f = Freshness()
    f.ack(200, b'{"ok": true}', 1.0)
    f.answer(200, b"{}", 0.5, 1.5)
    f.answer(200, b"{}", 1.2, 1.7)
    report = f.report()
    assert report["method"] == "request sent after the ack"
    assert report["max_ms"] == pytest.approx(700.0)
