"""The action registry: every action an agent may propose, with typed inputs.

A registry is a YAML file (see ``default_actions.yaml``, the documented default
set shipped with CCM). A proposal for an action that is not registered, for a
target of the wrong kind, or with inputs that do not validate against the
action's JSON Schema (unknown fields included) is refused with the reason.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError as JsonSchemaError

from ccm.yamlconf import YamlDoc
from graph_schema import CHANGE_KINDS, NODE_KIND_MAP

RISKS = ("low", "medium", "high", "critical")
ACTIONS_ENV = "CCM_ACTIONS"
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_REF = re.compile(r"^\{(target|inputs\.([A-Za-z_][A-Za-z0-9_]*))\}$")
_SPEC_KEYS = {"description", "target_kinds", "risk", "change_kind", "reversible", "revert",
              "destructive", "inputs", "executor", "health"}


@dataclass(frozen=True)
class ActionSpec:
    """One registered action."""

    name: str
    description: str
    target_kinds: tuple[str, ...]
    risk: str
    inputs_schema: Mapping[str, Any]
    reversible: bool
    change_kind: str | None = None
    revert_action: str | None = None
    revert_inputs: Mapping[str, Any] = field(default_factory=dict)
    destructive: bool = False
    executor: Mapping[str, Any] | None = None
    health: Mapping[str, Any] | None = None
    _validator: Any = field(default=None, repr=False, compare=False)

    def input_errors(self, inputs: Any) -> list[str]:
        """Every reason ``inputs`` does not validate (empty when they do)."""
        if not isinstance(inputs, Mapping):
            return [f"inputs: expected an object, got {type(inputs).__name__}"]
        errors = sorted(self._validator.iter_errors(dict(inputs)), key=lambda e: list(e.path))
        return [f"inputs{''.join(f'.{p}' if isinstance(p, str) else f'[{p}]' for p in e.path)}"
                f": {e.message}" for e in errors]

    def revert_inputs_for(self, inputs: Mapping[str, Any], target: str) -> dict[str, Any]:
        """The revert action's inputs: references copied whole from the original."""
        out: dict[str, Any] = {}
        for key, value in self.revert_inputs.items():
            m = _REF.match(value) if isinstance(value, str) else None
            if m is None:
                out[key] = value
            elif m.group(1) == "target":
                out[key] = target
            elif m.group(2) in inputs:
                out[key] = inputs[m.group(2)]
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "description": self.description,
                "target_kinds": list(self.target_kinds), "risk": self.risk,
                "change_kind": self.change_kind, "reversible": self.reversible,
                "revert": ({"action": self.revert_action, "inputs": dict(self.revert_inputs)}
                           if self.revert_action else None),
                "destructive": self.destructive, "inputs": dict(self.inputs_schema),
                "executor": dict(self.executor) if self.executor else None,
                "health": dict(self.health) if self.health else None}


@dataclass(frozen=True)
class Registry:
    """The registered actions, and the default executor configuration."""

    actions: Mapping[str, ActionSpec]
    executor: Mapping[str, Any]
    source: str = ""
    health: Mapping[str, Any] | None = None

    def get(self, name: str) -> ActionSpec | None:
        return self.actions.get(name)

    def check(self, action: str, target: str, inputs: Any) -> list[str]:
        """Why a proposal of ``action`` on ``target`` with ``inputs`` is not acceptable
        (empty when it is)."""
        spec = self.actions.get(action)
        if spec is None:
            known = ", ".join(sorted(self.actions)) or "none"
            return [f"action {action!r} is not in the registry {self.source} (registered: "
                    f"{known})"]
        errors = []
        kind = target.split(":", 1)[0] if isinstance(target, str) and ":" in target else None
        if kind is None or kind not in NODE_KIND_MAP:
            errors.append(f"target {target!r} is not a node reference '<kind>:<name>'")
        elif kind not in spec.target_kinds:
            errors.append(f"{action} acts on {', '.join(spec.target_kinds)}, not on a {kind} "
                          f"({target})")
        return errors + spec.input_errors(inputs)

    def executor_for(self, action: str) -> Mapping[str, Any]:
        spec = self.actions.get(action)
        return (spec.executor if spec and spec.executor else None) or self.executor

    def health_for(self, action: str) -> Mapping[str, Any] | None:
        """The post-execution health probe for ``action`` (None: outcomes are reported
        with ``ccm outcome``)."""
        spec = self.actions.get(action)
        return (spec.health if spec and spec.health else None) or self.health


def default_registry_path() -> Path:
    return Path(str(resources.files("ccm.policy") / "default_actions.yaml"))


def load_registry(path: str | Path | None = None) -> Registry:
    """Read a registry file (default: ``$CCM_ACTIONS``, else the shipped default set)."""
    chosen = path or os.environ.get(ACTIONS_ENV) or default_registry_path()
    doc = YamlDoc.read(chosen)
    return parse_registry(doc)


def parse_registry(doc: YamlDoc) -> Registry:
    data = doc.data
    if not isinstance(data, Mapping):
        raise doc.error([], "a registry is a mapping with 'version' and 'actions'")
    if data.get("version", 1) != 1:
        raise doc.error(["version"], "unsupported registry version (expected 1)",
                        data.get("version"))
    unknown = set(data) - {"version", "executor", "health", "actions"}
    if unknown:
        raise doc.error([sorted(unknown)[0]], "unknown top-level field (known: version, "
                                              "executor, health, actions)")
    executor = data.get("executor") or {"type": "dry-run"}
    _check_executor(doc, ["executor"], executor)
    health = data.get("health")
    if health is not None:
        _check_executor(doc, ["health"], health, probe=True)
    actions = data.get("actions")
    if not isinstance(actions, Mapping) or not actions:
        raise doc.error(["actions"], "expected a mapping of action names to their specs")
    specs = {name: _spec(doc, name, raw) for name, raw in actions.items()}
    for name, spec in specs.items():
        if spec.revert_action and spec.revert_action not in specs:
            raise doc.error(["actions", name, "revert", "action"],
                            "the revert action is not registered", spec.revert_action)
    return Registry(specs, executor, doc.source, health)


def _spec(doc: YamlDoc, name: Any, raw: Any) -> ActionSpec:
    at = ["actions", name]
    if not isinstance(name, str) or not _NAME.match(name):
        raise doc.error(at, "action names are lower_snake_case (a-z, 0-9, _)", name)
    if not isinstance(raw, Mapping):
        raise doc.error(at, "expected a mapping")
    unknown = set(raw) - _SPEC_KEYS
    if unknown:
        raise doc.error([*at, sorted(unknown)[0]],
                        f"unknown field (known: {', '.join(sorted(_SPEC_KEYS))})")
    kinds = raw.get("target_kinds")
    if not isinstance(kinds, list) or not kinds or any(k not in NODE_KIND_MAP for k in kinds):
        raise doc.error([*at, "target_kinds"], "expected a list of node kinds "
                        f"({', '.join(NODE_KIND_MAP)})", kinds)
    risk = raw.get("risk")
    if risk not in RISKS:
        raise doc.error([*at, "risk"], f"expected one of {', '.join(RISKS)}", risk)
    change_kind = raw.get("change_kind")
    if change_kind is not None and change_kind not in CHANGE_KINDS:
        raise doc.error([*at, "change_kind"], f"expected one of {', '.join(CHANGE_KINDS)}",
                        change_kind)
    for flag in ("reversible", "destructive"):
        if flag in raw and not isinstance(raw[flag], bool):
            raise doc.error([*at, flag], "expected true or false", raw[flag])
    if "reversible" not in raw:
        raise doc.error([*at, "reversible"], "say whether the action is reversible")
    revert_action, revert_inputs = _revert(doc, at, raw.get("revert"))
    if revert_action and not raw["reversible"]:
        raise doc.error([*at, "revert"], "an irreversible action cannot have a revert action")
    schema = _schema(doc, at, raw.get("inputs", {"type": "object"}))
    if raw.get("executor") is not None:
        _check_executor(doc, [*at, "executor"], raw["executor"])
    if raw.get("health") is not None:
        _check_executor(doc, [*at, "health"], raw["health"], probe=True)
    return ActionSpec(name, str(raw.get("description", "")), tuple(kinds), risk, schema,
                      raw["reversible"], change_kind, revert_action, revert_inputs,
                      bool(raw.get("destructive", False)), raw.get("executor"),
                      raw.get("health"), Draft202012Validator(schema))


def _revert(doc: YamlDoc, at: list[Any], raw: Any) -> tuple[str | None, dict[str, Any]]:
    if raw is None:
        return None, {}
    if not isinstance(raw, Mapping) or not isinstance(raw.get("action"), str):
        raise doc.error([*at, "revert"], "expected {action: NAME, inputs: {...}}")
    inputs = raw.get("inputs", {})
    if not isinstance(inputs, Mapping):
        raise doc.error([*at, "revert", "inputs"], "expected a mapping")
    for key, value in inputs.items():
        if isinstance(value, str) and "{" in value and not _REF.match(value):
            raise doc.error([*at, "revert", "inputs", key], "a reference must be the whole "
                            "value: \"{target}\" or \"{inputs.NAME}\"", value)
    return raw["action"], dict(inputs)


def _schema(doc: YamlDoc, at: list[Any], schema: Any) -> dict[str, Any]:
    if not isinstance(schema, Mapping) or schema.get("type", "object") != "object":
        raise doc.error([*at, "inputs"], "inputs must be a JSON Schema of type object")
    out = dict(schema)
    out.setdefault("type", "object")
    if out.get("additionalProperties", False) is not False:
        raise doc.error([*at, "inputs", "additionalProperties"],
                        "unknown input fields are always refused; remove this")
    out["additionalProperties"] = False
    try:
        Draft202012Validator.check_schema(out)
    except JsonSchemaError as exc:
        loc = [*at, "inputs", *exc.path]
        raise doc.error(loc, f"not a valid JSON Schema: {exc.message}") from None
    return out


_EXECUTOR_TYPES = {"dry-run": set(), "webhook": {"url"}, "command": {"argv"}}


def _check_executor(doc: YamlDoc, at: list[Any], raw: Any, probe: bool = False) -> None:
    types = [t for t in _EXECUTOR_TYPES if not (probe and t == "dry-run")]
    if not isinstance(raw, Mapping) or raw.get("type") not in types:
        raise doc.error([*at, "type"], f"expected one of {', '.join(types)}",
                        raw.get("type") if isinstance(raw, Mapping) else raw)
    for need in _EXECUTOR_TYPES[raw["type"]]:
        if need not in raw:
            raise doc.error([*at, need], f"a {raw['type']} executor needs {need!r}")
    if raw["type"] == "command" and (not isinstance(raw["argv"], list) or not raw["argv"]
                                     or not all(isinstance(a, str) for a in raw["argv"])):
        raise doc.error([*at, "argv"], "expected a non-empty list of strings (no shell)")
    if raw["type"] == "webhook" and not str(raw["url"]).startswith(("http://", "https://")):
        raise doc.error([*at, "url"], "expected an http:// or https:// URL", raw["url"])
