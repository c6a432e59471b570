"""``ccm propose``, ``approve``, ``execute``, ``outcome`` and ``ccm actions``: the action
lifecycle from the command line (a thin layer over :mod:`ccm.actions`)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from ccm.actions.records import ActionRecord
from ccm.cli.common import (
    console,
    handle_errors,
    json_option,
    opened_store,
    print_json,
    store_option,
)
from ccm.cli.control_common import (
    actions_table,
    as_option,
    control_options,
    controller,
    headline,
    human,
    impact_line,
    key_file_option,
    signer_from,
    verdict_table,
)
from ccm.cli.render import when
from ccm.errors import ConfigError, NotFound
from ccm.policy.identities import get_identity
from ccm.policy.proposal import Proposal, approval_payload
from ccm.policy.registry import load_registry
from graph_schema.timeutil import now_micros


def show(rec: ActionRecord, as_json: bool) -> None:
    if as_json:
        print_json(rec.to_dict())
        return
    console.print(headline(rec))
    v = rec.verdict
    if v is not None:
        console.print(impact_line(v))
        console.print(verdict_table(v))
    for r in rec.doc.get("refusals", [])[-1:]:
        console.print(f"[red]last refusal[/red] ({r['phase']}): " + "; ".join(r["reasons"]))


def parse_inputs(pairs: tuple[str, ...], raw_json: str | None,
                 schema: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """``-i key=value`` pairs over ``--inputs`` JSON. A value is text when the action's
    schema says the input is a string, else it is read as JSON when it parses
    (``replicas=3``, ``enabled=true``)."""
    props = (schema or {}).get("properties", {})
    inputs: dict[str, Any] = {}
    if raw_json:
        text = Path(raw_json[1:]).read_text() if raw_json.startswith("@") else raw_json
        try:
            inputs = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"--inputs is not JSON: {exc.msg} at character {exc.pos}") \
                from None
        if not isinstance(inputs, dict):
            raise ConfigError("--inputs must be a JSON object")
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ConfigError(f"-i {pair!r}: expected KEY=VALUE")
        if props.get(key, {}).get("type") == "string":
            inputs[key] = value
            continue
        try:
            inputs[key] = json.loads(value)
        except json.JSONDecodeError:
            inputs[key] = value
    return inputs


@click.command("propose")
@click.argument("action", required=False)
@click.argument("target", required=False)
@click.option("--agent", help="The proposing identity (a registered agent).")
@click.option("-i", "--input", "pairs", multiple=True, metavar="KEY=VALUE",
              help="One input (repeatable); the value is read as JSON when it parses.")
@click.option("--inputs", "inputs_json", metavar="JSON|@FILE", help="Inputs as a JSON object.")
@click.option("--model", default=None, help="Model name (default: the registered one).")
@click.option("--model-version", default=None, help="Model version (default: registered).")
@click.option("--tenant", default="default", show_default=True, help="Whose memory it uses.")
@click.option("--session", default="", help="Session (plan) id, for circuit breakers.")
@click.option("--step", type=int, default=1, show_default=True, help="Step in the plan.")
@click.option("--plan-length", type=int, default=1, show_default=True, help="Steps in the plan.")
@click.option("--reason", default="", help="Why (stored as data).")
@click.option("--nonce", default="", help="Tells two otherwise identical proposals apart.")
@click.option("--file", "proposal_file", type=click.Path(dir_okay=False, exists=True),
              help="A complete (signed) proposal as JSON, instead of the options above.")
@key_file_option
@control_options
@store_option
@json_option
@handle_errors
def propose_cmd(action: str | None, target: str | None, agent: str | None,
                pairs: tuple[str, ...], inputs_json: str | None, model: str | None,
                model_version: str | None, tenant: str, session: str, step: int,
                plan_length: int, reason: str, nonce: str, proposal_file: str | None,
                key_file: str | None, actions_file: str | None, policy_file: str | None,
                store_location: str | None, as_json: bool) -> None:
    """Propose ACTION on TARGET (e.g. `restart service:cart`) as --agent, signed with
    --key-file; CCM predicts its impact and applies the policy at once.

    The verdict is the strictest rule's (refuse > review > proceed); every rule's
    reason is listed with the predicted blast radius.
    """
    with opened_store(store_location) as store:
        if proposal_file:
            p = Proposal.from_dict(json.loads(Path(proposal_file).read_text()), proposal_file)
        else:
            if not (action and target and agent):
                raise click.UsageError("give ACTION, TARGET and --agent (or --file)")
            ident = get_identity(store, agent)
            spec = load_registry(actions_file).get(action)
            inputs = parse_inputs(pairs, inputs_json, spec.inputs_schema if spec else None)
            p = Proposal(action, target, inputs, agent,
                         model if model is not None else (ident.model if ident else ""),
                         model_version if model_version is not None else (
                             ident.model_version if ident else ""),
                         tenant, session, step, plan_length, now_micros(), nonce, reason)
            signer = signer_from(key_file)
            if signer is not None:
                p = p.signed(signer)
        rec = controller(store, actions_file, policy_file).propose(p)
    show(rec, as_json)


@click.command("approve")
@click.argument("action_id")
@as_option("Who approves (a registered identity; never the proposer).")
@click.option("--note", default="", help="Why (stored as data).")
@key_file_option
@control_options
@store_option
@json_option
@handle_errors
def approve_cmd(action_id: str, identity: str, note: str, key_file: str | None,
                actions_file: str | None, policy_file: str | None,
                store_location: str | None, as_json: bool) -> None:
    """Approve ACTION_ID as --as, signed with --key-file (the approver's registered key):
    without one the approval is refused, unless the policy allows unsigned approvals
    from the command line (approvals: {unsigned_cli: true})."""
    with opened_store(store_location) as store:
        ctl = controller(store, actions_file, policy_file)
        signer = signer_from(key_file)
        if signer is None and not ctl.policy.approvals.unsigned_cli:
            raise ConfigError(
                f"an approval as {identity!r} needs {identity}'s key: pass --key-file "
                f"(the private key of {identity}'s registered identity), or allow unsigned "
                "approvals from the command line in the policy (approvals: {unsigned_cli: "
                "true})")
        sig = None
        if signer is not None:
            sig = signer.sign(approval_payload(action_id, ctl.get(action_id).doc["digest"],
                                               identity))
        rec = ctl.approve(action_id, identity, signature=sig, note=note)
    show(rec, as_json)


@click.command("execute")
@click.argument("action_id")
@as_option("Who runs it (recorded in the audit log).")
@control_options
@store_option
@json_option
@handle_errors
def execute_cmd(action_id: str, identity: str, actions_file: str | None,
                policy_file: str | None, store_location: str | None, as_json: bool) -> None:
    """Execute an approved ACTION_ID (once): the policy is checked again, a signed audit
    entry is written, then the registry's executor runs it."""
    with opened_store(store_location) as store:
        ctl = controller(store, actions_file, policy_file)
        rec = ctl.get(action_id)
        actor = ctl.actor_of(rec.proposal) if identity == rec.doc["proposal"]["agent"] \
            else human(identity)
        rec = ctl.execute(action_id, by=actor)
    show(rec, as_json)
    if not as_json and rec.doc.get("execution"):
        console.print("execution: " + str(rec.doc["execution"].get("result", {}).get(
            "detail", rec.state)))


@click.command("outcome")
@click.argument("action_id")
@click.option("--healthy/--unhealthy", required=True, help="What was observed after it ran.")
@click.option("--impacted", multiple=True, metavar="REF",
              help="A node observed impacted (repeatable), e.g. service:frontend.")
@click.option("--note", default="", help="What was seen (stored as data).")
@as_option("Who observed it.")
@control_options
@store_option
@json_option
@handle_errors
def outcome_cmd(action_id: str, healthy: bool, impacted: tuple[str, ...], note: str,
                identity: str, actions_file: str | None, policy_file: str | None,
                store_location: str | None, as_json: bool) -> None:
    """Record the outcome of an executed ACTION_ID; an unhealthy reversible action is
    reverted automatically; the outcome goes to memory before the action closes."""
    with opened_store(store_location) as store:
        rec = controller(store, actions_file, policy_file).record_outcome(
            action_id, healthy, observed_impacted=impacted, by=human(identity), note=note)
    show(rec, as_json)
    if not as_json and rec.doc.get("revert"):
        r = rec.doc["revert"]
        console.print(f"reverted: {r.get('action_id') or 'nothing to revert'} "
                      f"({'ok' if r.get('ok') else 'FAILED'}: {r.get('detail', '')})")


@click.group("actions")
def actions_group() -> None:
    """The action registry, and the actions proposed so far."""


@actions_group.command("list")
@click.option("--proposed", is_flag=True, help="List proposed actions instead of the registry.")
@click.option("--state", "states", multiple=True, help="Only actions in this state.")
@control_options
@store_option
@json_option
@handle_errors
def list_cmd(proposed: bool, states: tuple[str, ...], actions_file: str | None,
             policy_file: str | None, store_location: str | None, as_json: bool) -> None:
    """List the registered actions (or, with --proposed, the proposed ones)."""
    if proposed or states:
        with opened_store(store_location) as store:
            recs = controller(store, actions_file, policy_file).list_actions(states)
        if as_json:
            print_json([r.to_dict() for r in recs])
        else:
            console.print(actions_table(recs))
        return
    reg = load_registry(actions_file)
    if as_json:
        print_json([s.to_dict() for s in reg.actions.values()])
        return
    t = Table(title=f"Registered actions ({reg.source})", title_justify="left")
    for col in ("action", "risk", "targets", "reversible", "revert", "description"):
        t.add_column(col, overflow="fold" if col == "description" else "ellipsis")
    for s in sorted(reg.actions.values(), key=lambda s: s.name):
        t.add_row(s.name, s.risk, ", ".join(s.target_kinds), "yes" if s.reversible else "no",
                  s.revert_action or "-", s.description)
    console.print(t)


@actions_group.command("show")
@click.argument("name_or_id")
@control_options
@store_option
@json_option
@handle_errors
def show_cmd(name_or_id: str, actions_file: str | None, policy_file: str | None,
             store_location: str | None, as_json: bool) -> None:
    """Show a registered action (its input schema) or a proposed action (act-...)."""
    reg = load_registry(actions_file)
    spec = reg.get(name_or_id)
    if spec is not None:
        if as_json:
            print_json(spec.to_dict())
            return
        console.print(f"[b]{spec.name}[/b]: {spec.description}")
        console.print(f"risk {spec.risk}; targets {', '.join(spec.target_kinds)}; "
                      f"{'reversible' if spec.reversible else 'irreversible'}"
                      + (f" (revert: {spec.revert_action})" if spec.revert_action else ""))
        console.print_json(json.dumps(dict(spec.inputs_schema)))
        return
    if not name_or_id.startswith("act-"):
        raise NotFound(f"no registered action {name_or_id!r} (see `ccm actions list`)")
    with opened_store(store_location) as store:
        rec = controller(store, actions_file, policy_file).get(name_or_id)
    show(rec, as_json)
    if not as_json:
        for h in rec.doc.get("history", []):
            console.print(f"  {h['state']:<10} {when(h['at'])}  by {h['by']}")


def register(cli: click.Group) -> None:
    for cmd in (propose_cmd, approve_cmd, execute_cmd, outcome_cmd, actions_group):
        cli.add_command(cmd)
