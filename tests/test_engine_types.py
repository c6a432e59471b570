"""The engine's public values validate their inputs and round-trip through JSON."""

from __future__ import annotations

import pytest

from ccm.engine.types import Action, Symptom
from ccm.errors import InvalidRequest


def test_an_unknown_action_kind_is_refused_listing_the_known_ones():
    with pytest.raises(InvalidRequest, match="deploy, rollback, config_change"):
        Action("launch_rockets", "service:a")


def test_an_action_round_trips_through_a_dict():
    a = Action("config_change", "service:a", keys=("K",), attributes={"version": "1"})
    assert Action.from_dict(a.to_dict()) == a
    assert Action.from_dict(a.to_dict()).attributes == {"version": "1"}


def test_symptoms_parse_an_optional_signal_suffix():
    assert Symptom.parse("service:cart", 5) == Symptom("service:cart", "errors", 5)
    assert Symptom.parse("service:cart:latency", 5).signal == "latency"
    assert Symptom.parse("config:cart/K", 5).ref == "config:cart/K"
    assert not Symptom.parse("service:web:traffic_drop", 1).upstream
    with pytest.raises(InvalidRequest, match="node reference"):
        Symptom.parse("cart", 5)
    with pytest.raises(InvalidRequest, match="signal"):
        Symptom("service:a", "vibes", 5)
