"""Chains: where they end, the paths they follow, and the evidence on every link."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ccm.engine.model import EdgeTable
from ccm.engine.params import DEFAULT_PARAMS
from ccm.engine.rca import root_causes
from ccm.engine.snapshot import ChangeTable, NodeTable, build_snapshot
from ccm.engine.types import Symptom
from graph_schema import parse_time
from tests.engine_graphs import HOUR, T0

AT = parse_time("2026-03-05T10:00:00Z")
MINUTE = 60_000_000


def test_a_config_change_chain_runs_through_the_key_and_its_owner(demo_store):
    chain = root_causes(demo_store.snapshot(AT))[0]
    assert chain.cause == "change"
    assert [link.edge for link in chain.links] == [
        "change:chg-102 -[CHANGED]-> config:cartservice/REDIS_ADDR",
        "service:cartservice -[HAS_CONFIG]-> config:cartservice/REDIS_ADDR",
        "service:frontend -[DEPENDS_ON]-> service:cartservice",
    ]
    first = chain.links[0]
    assert first.times == {"change": "2026-03-02T09:10:00Z"}
    assert "72.5 h before the first symptom" in first.why
    assert first.p == pytest.approx(0.10 * DEFAULT_PARAMS.risky_key_factor)
    assert chain.links[-1].times == {"symptom_onset": "2026-03-05T09:42:00Z"}
    assert chain.links[-1].attrs["protocol"] == "grpc"


def test_chains_of_spontaneous_failures_start_at_the_failing_node(demo_store):
    chains = root_causes(demo_store.snapshot(AT)).chains
    spont = [c for c in chains if c.cause == "spontaneous"]
    assert spont and all(c.nodes[0] == c.root for c in spont)
    assert all(c.nodes[-1] == "service:frontend" for c in spont if c.explained)


def test_a_chain_ends_at_the_entrypoint_it_explains(demo_store):
    for chain in root_causes(demo_store.snapshot(AT)):
        if "service:frontend" in chain.explained:
            assert chain.symptom == "service:frontend"


def test_chains_serialise_to_json(demo_store):
    data = json.loads(json.dumps(root_causes(demo_store.snapshot(AT), k=3).to_dict()))
    assert [c["rank"] for c in data["chains"]] == [1, 2, 3]
    assert data["chains"][0]["chain"][0] == "change:chg-102"
    assert data["symptoms"][0]["time"].endswith("Z")


def two_routes(quiet_b: bool = True):
    """db <- a <- web and db <- b <- web (web is the entrypoint), the route through b the
    more probable by its edges; a change on db; alerts on db, a and web (and b is quiet,
    or alerting too when not ``quiet_b``)."""
    refs = ["datastore:db", "service:a", "service:b", "service:web"]
    nodes = NodeTable.build(refs, ["datastore", "service", "service", "service"],
                            entry=[False, False, False, True],
                            rps=[np.nan, np.nan, np.nan, 10.0])
    edges = EdgeTable.build([1, 3, 2, 3], [0, 1, 0, 2], learned=[0.6, 0.6, 0.9, 0.9])
    onset = T0 + 100 * HOUR
    changes = ChangeTable(["change:c1"], np.array([onset - 10 * MINUTE], np.int64), ["deploy"],
                          np.array([0], np.int32), np.array([0, 1], np.int64),
                          np.array([0], np.int32), [{"target": refs[0], "keys": [], "diff": []}])
    snap = build_snapshot(nodes, edges, changes=changes, valid_at=onset + HOUR)
    symptoms = [Symptom("datastore:db", "errors", onset),
                Symptom("service:a", "errors", onset + MINUTE),
                Symptom("service:web", "errors", onset + 2 * MINUTE)]
    if not quiet_b:
        symptoms.append(Symptom("service:b", "errors", onset + MINUTE))
    return snap, symptoms


def test_a_chain_runs_through_the_dependant_that_alerted_not_the_quiet_one():
    top = root_causes(*two_routes())[0]
    assert top.root == "change:c1"
    assert top.nodes == ["change:c1", "datastore:db", "service:a", "service:web"]
    assert "service:b" not in top.nodes


def test_between_routes_that_both_alerted_a_chain_takes_the_more_probable_one():
    top = root_causes(*two_routes(quiet_b=False))[0]
    assert top.nodes == ["change:c1", "datastore:db", "service:b", "service:web"]


def test_a_chain_ends_at_the_first_user_visible_symptom_it_explains():
    """db <- api <- web, db <- mobile (two entrypoints): mobile alerted first, though web
    is more hops away."""
    refs = ["datastore:db", "service:api", "service:web", "service:mobile"]
    nodes = NodeTable.build(refs, ["datastore", "service", "service", "service"],
                            entry=[False, False, True, True], rps=[np.nan, np.nan, 10.0, 10.0])
    snap = build_snapshot(nodes, EdgeTable.build([1, 2, 3], [0, 1, 0]), valid_at=T0 + HOUR)
    symptoms = [Symptom("datastore:db", "errors", T0),
                Symptom("service:mobile", "errors", T0 + MINUTE),
                Symptom("service:api", "errors", T0 + 2 * MINUTE),
                Symptom("service:web", "errors", T0 + 3 * MINUTE)]
    top = root_causes(snap, symptoms)[0]
    assert top.root == "datastore:db"
    assert top.nodes == ["datastore:db", "service:mobile"]
    later = [s if s.ref != "service:mobile" else Symptom(s.ref, s.signal, T0 + 4 * MINUTE)
             for s in symptoms]
    assert root_causes(snap, later)[0].nodes == ["datastore:db", "service:api", "service:web"]
