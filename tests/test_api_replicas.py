"""Two server processes over one store stay coherent: each reads the store's revision
on every question and patches in the facts written since, wherever they were written."""

from __future__ import annotations

import httpx

from ccm.bench.load import serve_subprocess
from graph_schema import EdgeFact, NodeFact, format_time
from graph_schema.timeutil import now_micros

AGENT = "ccm_test-agent-0123456789abcdef"
WRITER = "ccm_test-writer-0123456789abcdef"
HOUR = 3_600_000_000


def alert(service: str, fingerprint: str) -> dict:
    return {"version": "4", "status": "firing", "receiver": "ccm", "alerts": [
        {"status": "firing", "labels": {"alertname": "HighErrorRate", "service": service},
         "annotations": {}, "startsAt": format_time(now_micros() - 1_000_000),
         "endsAt": "0001-01-01T00:00:00Z", "fingerprint": fingerprint}]}


def test_a_write_through_one_server_is_in_the_next_answer_of_another(store):
    t = now_micros() - HOUR
    store.write([NodeFact("service", f"s{i}", {}, t) for i in range(4)]
                + [EdgeFact("DEPENDS_ON", "service:s0", f"service:s{i}", {}, t)
                   for i in (1, 2, 3)])
    ask, post = ({"Authorization": f"Bearer {AGENT}"},
                 {"Authorization": f"Bearer {WRITER}"})
    with serve_subprocess(store.uri, AGENT, writer_token=WRITER) as a, \
            serve_subprocess(store.uri, AGENT, writer_token=WRITER) as b:
        first = httpx.post(f"{b.url}/v1/rca", json={"symptoms": [{"ref": "service:s1"}]},
                           headers=ask, timeout=120).json()
        acks = [httpx.post(f"{a.url}/v1/alertmanager", json=alert(f"s{i}", f"fp{i}"),
                           headers=post, timeout=120).json() for i in (2, 3)]
        after = httpx.post(f"{b.url}/v1/rca", json={}, headers=ask, timeout=120).json()
        back = httpx.post(f"{a.url}/v1/rca", json={}, headers=ask, timeout=120).json()
    assert first["revision"] < acks[0]["revision"] < acks[1]["revision"] <= after["revision"]
    assert sorted(s["ref"] for s in after["symptoms"]) == ["service:s2", "service:s3"]
    assert back["revision"] == after["revision"] and back["symptoms"] == after["symptoms"]
