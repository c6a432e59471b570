"""Chains: where they end, the paths they follow, and the evidence on every link."""

from __future__ import annotations

import json

import pytest

from ccm.engine.params import DEFAULT_PARAMS
from ccm.engine.rca import root_causes
from graph_schema import parse_time

AT = parse_time("2026-03-05T10:00:00Z")


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
