"""The action registry: what may be proposed, with which inputs."""

from __future__ import annotations

import pytest

from ccm.errors import ConfigError
from ccm.policy.registry import load_registry, parse_registry
from ccm.yamlconf import YamlDoc

DEFAULT_SET = {"deploy", "rollback", "config_change", "restart", "scale", "feature_flag",
               "schema_migration", "cache_flush", "dependency_upgrade", "infra_change"}


def registry_of(text: str):
    return parse_registry(YamlDoc(text, "reg.yaml"))


def test_the_default_registry_holds_the_documented_actions():
    reg = load_registry()
    assert set(reg.actions) == DEFAULT_SET
    assert reg.get("schema_migration").risk == "high"
    assert not reg.get("schema_migration").reversible
    assert reg.get("deploy").revert_action == "rollback"
    assert reg.executor == {"type": "dry-run"}


def test_valid_inputs_pass():
    reg = load_registry()
    assert reg.check("config_change", "service:cart",
                     {"key": "TIMEOUT_MS", "value": "50", "previous_value": "500"}) == []


@pytest.mark.parametrize("action, target, inputs, message", [
    ("reboot_planet", "service:cart", {}, "not in the registry"),
    ("restart", "cart", {}, "not a node reference"),
    ("schema_migration", "service:cart",
     {"migration": "m", "statements": ["x"], "destructive": False}, "acts on datastore"),
    ("scale", "service:cart", {"replicas": -1, "previous_replicas": 2}, "inputs.replicas"),
    ("scale", "service:cart", {"replicas": 3}, "'previous_replicas' is a required property"),
    ("restart", "service:cart", {"force": True}, "('force' was unexpected)"),
    ("config_change", "service:cart", {"key": "A B", "value": "1", "previous_value": "2"},
     "inputs.key"),
])
def test_proposals_outside_the_registry_are_refused_with_the_reason(action, target, inputs,
                                                                     message):
    errors = load_registry().check(action, target, inputs)
    assert errors and message in " ".join(errors)


def test_revert_inputs_copy_whole_values_from_the_original():
    spec = load_registry().get("feature_flag")
    out = spec.revert_inputs_for({"flag": "f", "enabled": True, "previous_enabled": False},
                                 "service:web")
    assert out == {"flag": "f", "enabled": False, "previous_enabled": True}


def test_a_reversible_action_may_have_nothing_to_revert():
    spec = load_registry().get("restart")
    assert spec.reversible and spec.revert_action is None


GOOD = """
version: 1
actions:
  poke:
    target_kinds: [service]
    risk: low
    reversible: false
    inputs: {type: object, properties: {n: {type: integer}}}
"""


def test_a_minimal_registry_refuses_unknown_inputs_without_saying_so():
    reg = registry_of(GOOD)
    assert reg.check("poke", "service:a", {"n": 1}) == []
    assert "('m' was unexpected)" in reg.check("poke", "service:a", {"m": 1})[0]


@pytest.mark.parametrize("text, where", [
    (GOOD.replace("risk: low", "risk: spicy"), "reg.yaml:6: actions.poke.risk (value 'spicy')"),
    (GOOD.replace("[service]", "[spaceship]"), "reg.yaml:5: actions.poke.target_kinds"),
    (GOOD.replace("    reversible: false\n", ""), "actions.poke.reversible"),
    (GOOD.replace("type: integer", "type: integr"), "actions.poke.inputs.properties.n.type"),
    (GOOD.replace("{type: object,", "{type: object, additionalProperties: true,"),
     "actions.poke.inputs.additionalProperties"),
    (GOOD.replace("reversible: false", "reversible: true\n    revert: {action: unpoke}"),
     "actions.poke.revert.action (value 'unpoke'): the revert action is not registered"),
    (GOOD.replace("reversible: false", "reversible: false\n    colour: red"),
     "reg.yaml:8: actions.poke.colour"),
    (GOOD + "executor: {type: command, argv: 'rm -rf /'}\n", "executor.argv"),
    (GOOD + "executor: {type: webhook}\n", "executor.url"),
    ("actions: [1, 2", "reg.yaml:1: not valid YAML"),
])
def test_a_bad_registry_is_refused_naming_file_line_and_field(text, where):
    with pytest.raises(ConfigError) as err:
        registry_of(text)
    assert where in str(err.value)
