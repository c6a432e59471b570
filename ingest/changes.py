"""The mapping every change format shares (native JSONL, CDEvents, CSV deploys).

A change ``chg`` on target ``T`` becomes:

- the node ``change:<id>`` (valid from the change's time; a change stays a fact);
- ``change:<id> -[CHANGED]-> T``;
- for each changed configuration key ``K``: the node ``config:<T name>/<K>`` gets a
  new version with the new value from the change's time (and, when the key was
  unknown, its old value from the beginning, with ``T -[HAS_CONFIG]-> config``);
  and ``change:<id> -[CHANGED {keys: [K]}]-> config:<T name>/<K>``.

A target that does not exist yet is created at the change's time (a deploy of a
new service introduces it). Values of keys that look like secrets are stored
only as a hash.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from typing import Any

from graph_schema import BEGINNING, EdgeFact, FactError, NodeFact
from graph_schema.facts import Fact
from ingest.core import PLACEHOLDER_SOURCE, Context

_SECRET_KEY = re.compile(r"(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE|CREDENTIAL)", re.I)


def config_value_attrs(key: str, value: Any) -> dict[str, Any]:
    """``{"value": v}``, or ``{"value_hash": sha256}`` when the key looks secret."""
    if value is None:
        return {}
    text = str(value)
    if _SECRET_KEY.search(key):
        return {"value_hash": hashlib.sha256(text.encode()).hexdigest()}
    return {"value": text}


def deploy_change_id(target: str, version: str) -> str:
    """The id a re-ingested manifest gives the deploy of ``version`` to ``target`` (a
    reference or a bare name). A CDEvents event keeps its own id (``context.id``, as
    benchmark cases name it) unless this change was recorded first: then the event is
    this change; and a manifest does not record a deploy an event recorded first
    (:func:`deploy_recorded`)."""
    return f"deploy-{target.split(':', 1)[-1]}-{version}"


def deploy_recorded(ctx: Context, target: str, version: str, at: int) -> bool:
    """Whether a change recorded a deploy of ``version`` to ``target`` (by any id), as
    known at ``at``: the changes of ``target`` and their attributes, two store reads."""
    if ctx.resolver.exists(f"change:{deploy_change_id(target, version)}"):
        return True
    history = ctx.store.history(target)
    changes = {e.src for e in history.edges if e.kind == "CHANGED" and e.dst == target
               and e.src.startswith("change:") and e.valid_from <= at}
    attrs = ctx.current_attrs((ref, at) for ref in changes)
    return any(a.get("change_kind") == "deploy" and a.get("version") == version
               for a in attrs.values())


def change_facts(ctx: Context, *, change_id: str, time: int, change_kind: str, target: str,
                 where: str, source: str = "", diff: Sequence[Mapping[str, Any]] = (),
                 attrs: Mapping[str, Any] | None = None) -> list[Fact]:
    """Facts for one change (see the module docstring). ``attrs`` adds change attributes
    (version, description, author, reversible, destructive, flag, event_type...)."""
    target_ref = ctx.resolver.resolve(target)
    t_kind, t_name = target_ref.split(":", 1)
    facts: list[Fact] = []
    if not ctx.resolver.exists(target_ref):
        facts.append(NodeFact(t_kind, t_name, {}, time, source=PLACEHOLDER_SOURCE,
                              origin=where))
        ctx.resolver.note(target_ref)
    keys = []
    for i, item in enumerate(diff):
        if not isinstance(item, Mapping) or not isinstance(item.get("key"), str):
            raise FactError(where, f"changes[{i}].key", item, "expected {key, old, new}")
        keys.append(item["key"])
    change_attrs: dict[str, Any] = {"change_kind": change_kind, "time": time,
                                    "target": target_ref, **(attrs or {})}
    if keys:
        change_attrs["keys"] = keys
        change_attrs["diff"] = [
            {"key": d["key"], **{k: config_value_attrs(d["key"], d.get(k)).get("value", "<secret>")
                                 for k in ("old", "new") if d.get(k) is not None}}
            for d in diff]
    facts.append(NodeFact("change", change_id, change_attrs, time, source=source, origin=where))
    facts.append(EdgeFact("CHANGED", f"change:{change_id}", target_ref,
                          {"keys": keys} if keys else {}, time, source=source, origin=where))
    if t_kind != "config":
        for item in diff:
            facts.extend(_config_facts(ctx, change_id, target_ref, t_name, item, time,
                                       where, source))
    return facts


def _config_facts(ctx: Context, change_id: str, target_ref: str, owner: str,
                  item: Mapping[str, Any], time: int, where: str, source: str) -> list[Fact]:
    key = str(item["key"])
    name = f"{owner}/{key}"
    cfg_ref = f"config:{name}"
    out: list[Fact] = []
    base = {"owner": owner, "key": key}
    if not ctx.resolver.exists(cfg_ref):
        if item.get("old") is not None and time > BEGINNING:
            out.append(NodeFact("config", name, {**base, **config_value_attrs(key, item["old"])},
                                BEGINNING, source=source, origin=where))
            out.append(EdgeFact("HAS_CONFIG", target_ref, cfg_ref, {"via": "change"},
                                BEGINNING, source=source, origin=where))
        else:
            out.append(EdgeFact("HAS_CONFIG", target_ref, cfg_ref, {"via": "change"},
                                time, source=source, origin=where))
        ctx.resolver.note(cfg_ref)
    new_attrs = {**base, **config_value_attrs(key, item.get("new"))}
    # the edge HAS_CONFIG above may precede the node in the batch: put the node first
    out.insert(0, NodeFact("config", name, new_attrs, time, source=source, origin=where))
    out.append(EdgeFact("CHANGED", f"change:{change_id}", cfg_ref, {"keys": [key]}, time,
                        source=source, origin=where))
    return out
