"""The model's parameters: one frozen, validated, documented configuration."""

from __future__ import annotations

import dataclasses
import inspect

import pytest

from ccm.engine import params as params_module
from ccm.engine.params import DEFAULT_PARAMS, Params
from graph_schema import CHANGE_KINDS


def test_parameters_are_frozen_and_hashable_so_results_can_be_cached_per_params():
    with pytest.raises(dataclasses.FrozenInstanceError):
        DEFAULT_PARAMS.p_hard = 0.5  # type: ignore[misc]
    assert hash(Params()) == hash(DEFAULT_PARAMS)
    assert Params(p_hard=0.8) != DEFAULT_PARAMS


@pytest.mark.parametrize("name", ["p_hard", "false_alert", "missed_alert", "p_max"])
def test_a_probability_outside_zero_one_is_refused_naming_the_field(name):
    with pytest.raises(ValueError, match=name):
        Params(**{name: 1.5})


def test_alert_rates_must_be_strictly_between_zero_and_one_because_they_are_logged():
    with pytest.raises(ValueError, match="false_alert"):
        Params(false_alert=0.0)


def test_every_change_kind_of_the_schema_has_a_structural_prior():
    table = dict(DEFAULT_PARAMS.kind_prior)
    assert set(CHANGE_KINDS) <= set(table)
    assert all(0 < q < 1 for q in table.values())
    assert DEFAULT_PARAMS.kind_prior_of("no-such-kind") == DEFAULT_PARAMS.unknown_kind_prior


def test_every_parameter_carries_the_reason_for_its_value_in_the_source():
    source = inspect.getsource(params_module.Params)
    lines = source.splitlines()
    for f in dataclasses.fields(Params):
        i = next(i for i, line in enumerate(lines) if line.strip().startswith(f"{f.name}:"))
        assert lines[i - 1].strip().startswith("#"), f"{f.name} has no comment above it"
