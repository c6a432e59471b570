"""Proposals are signed by the agent's key; the action id follows from the content."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ccm.errors import ConfigError
from ccm.policy.proposal import Proposal, approval_payload
from tests.controlkit import AGENT_KEY, OTHER_AGENT_KEY


def make(**kw) -> Proposal:
    return Proposal("restart", "service:cart", {"max_unavailable": 1}, "deploy-bot",
                    "claude", "4.5", created_at=1, **kw)


def test_a_signed_proposal_verifies_with_the_agent_key_only():
    p = make().signed(AGENT_KEY)
    assert p.signature_valid(AGENT_KEY.public_b64)
    assert not p.signature_valid(OTHER_AGENT_KEY.public_b64)
    assert not make().signature_valid(AGENT_KEY.public_b64)


@pytest.mark.parametrize("change", [
    {"target": "service:frontend"}, {"inputs": {"max_unavailable": 2}}, {"model": "gpt"},
    {"model_version": "5"}, {"step": 2}, {"tenant": "other"}, {"created_at": 2},
])
def test_changing_any_field_breaks_the_signature(change):
    p = make().signed(AGENT_KEY)
    assert not replace(p, **change).signature_valid(AGENT_KEY.public_b64)


def test_the_action_id_is_stable_and_a_nonce_tells_twins_apart():
    assert make().action_id == make().action_id
    assert make().action_id != make(nonce="2").action_id
    assert make().action_id.startswith("act-")


def test_a_proposal_round_trips_through_json():
    p = make(session="s1", plan_length=3, step=2).signed(AGENT_KEY)
    assert Proposal.from_dict(p.to_dict()) == p
    assert Proposal.from_dict(p.to_dict()).signature == p.signature


@pytest.mark.parametrize("raw, message", [
    ({"action": "restart", "target": "service:a"}, "proposal.agent: required"),
    ({"action": "restart", "target": "service:a", "agent": "b", "colour": 1},
     "proposal.colour: unknown field"),
    ({"action": "restart", "target": "service:a", "agent": "b", "step": -1},
     "proposal.step: expected a non-negative integer"),
    ({"action": "restart", "target": "service:a", "agent": "b", "inputs": [1]},
     "proposal.inputs: expected an object"),
])
def test_a_malformed_proposal_names_its_field(raw, message):
    with pytest.raises(ConfigError, match=message):
        Proposal.from_dict(raw)


def test_an_approval_payload_binds_action_digest_and_approver():
    a = approval_payload("act-1", "d" * 64, "alice")
    assert a != approval_payload("act-1", "d" * 64, "bob")
    assert a != approval_payload("act-2", "d" * 64, "alice")
