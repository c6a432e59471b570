"""Questions name their targets and symptoms as users and agents do: a reference, a bare
name, or an alias the graph knows (Bookinfo's ``reviews-v2``, Istio's ``ratings.default``),
through ``ccm predict``, ``ccm rca`` (subprocesses) and the API over HTTP."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.api_support import assert_problem, serve_store
from tests.helpers import FIXTURES
from tests.test_cli import ccm

BOOKINFO = FIXTURES / "real" / "kubernetes" / "bookinfo.yaml"
AT = "2026-03-01T00:10:00Z"
ALIASES = [("ratings.default", "service:ratings"), ("ratings", "service:ratings"),
           ("reviews-v2", "service:reviews"),
           ("reviews.default.svc.cluster.local", "service:reviews"),
           ("service:productpage", "service:productpage")]


@pytest.fixture(scope="module")
def bookinfo(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Bookinfo's manifests plus the dependencies Jaeger answers in Istio names."""
    root = tmp_path_factory.mktemp("names")
    store = str(root / "ccm.sqlite")
    ccm("ingest", str(BOOKINFO), "--store", store, "--at", "2026-03-01T00:00:00Z")
    deps = root / "dependencies.json"
    deps.write_text(json.dumps({"data": [
        {"parent": "productpage.default", "child": "reviews.default", "callCount": 120},
        {"parent": "reviews.default", "child": "ratings.default", "callCount": 80},
    ], "total": 2, "limit": 0, "offset": 0, "errors": None}))
    ccm("ingest", str(deps), "--store", store, "--at", "2026-03-01T00:05:00Z")
    return store


@pytest.mark.parametrize(("name", "ref"), ALIASES)
def test_ccm_predict_accepts_any_name_the_graph_knows(bookinfo, name, ref):
    out = json.loads(ccm("predict", "restart", name, "--store", bookinfo, "--at", AT,
                         "--samples", "50", "--json").stdout)
    assert out["action"]["target"] == ref


def test_ccm_predict_of_an_unknown_name_is_an_error_naming_it(bookinfo):
    proc = ccm("predict", "restart", "reviewz", "--store", bookinfo, check=False)
    assert proc.returncode != 0 and "'reviewz'" in proc.stderr, proc.stderr


def test_ccm_rca_symptoms_accept_aliases_with_a_signal(bookinfo):
    out = json.loads(ccm("rca", "--store", bookinfo, "--at", AT, "--symptom",
                         "ratings.default:latency", "--symptom", "reviews-v3",
                         "--json").stdout)
    assert {(s["ref"], s["signal"]) for s in out["symptoms"]} == {
        ("service:ratings", "latency"), ("service:reviews", "errors")}


def test_ccm_rca_of_an_unknown_symptom_is_an_error_naming_it(bookinfo):
    proc = ccm("rca", "--store", bookinfo, "--at", AT, "--symptom", "nosuch.default",
               check=False)
    assert proc.returncode != 0 and "'nosuch.default'" in proc.stderr, proc.stderr


@pytest.fixture(scope="module")
def api(bookinfo):
    from ccm.store import EmbeddedStore

    store = EmbeddedStore(Path(bookinfo))
    with serve_store(store) as running:
        yield running
    store.close()


@pytest.mark.parametrize(("name", "ref"), ALIASES)
def test_the_api_impact_target_may_be_an_alias(api, name, ref):
    with api.client("agent") as c:
        r = c.post("/v1/impact", json={"action": "restart", "target": name, "model": "m",
                                       "at": AT})
    assert r.status_code == 200, r.text
    assert r.json()["verdict"]["impact"]["node_probabilities"][ref] == pytest.approx(1.0)


def test_the_api_rca_symptom_may_be_an_alias(api):
    with api.client("sre") as c:
        r = c.post("/v1/rca", json={"at": AT, "symptoms": [{"ref": "reviews-v1"},
                                                           {"ref": "ratings.default"}]})
    assert r.status_code == 200, r.text
    assert {s["ref"] for s in r.json()["symptoms"]} == {"service:reviews", "service:ratings"}


def test_an_unknown_api_symptom_is_a_404_and_an_unknown_target_a_refusal_naming_it(api):
    with api.client("sre") as c:
        rca = c.post("/v1/rca", json={"at": AT, "symptoms": [{"ref": "nosuch"}]})
    with api.client("agent") as c:
        imp = c.post("/v1/impact", json={"action": "restart", "target": "nosuch.default",
                                         "model": "m", "at": AT})
    assert "'nosuch'" in assert_problem(rca, 404)["detail"]
    verdict = imp.json()["verdict"]
    assert verdict["decision"] == "refuse"
    assert any("nosuch.default" in r["reason"] for r in verdict["results"]), verdict
