"""What the control-plane commands share: the registry/policy options, the controller,
identities and keys, and tables for verdicts and actions."""

from __future__ import annotations

import getpass
import os
from collections.abc import Callable
from typing import Any, TypeVar

import click
from rich.table import Table

from ccm.actions.lifecycle import Controller
from ccm.actions.records import ActionRecord
from ccm.audit.keys import Signer, load_signer
from ccm.audit.log import Actor
from ccm.audit.witness import witness_from_env
from ccm.cli.common import err_console
from ccm.cli.render import when
from ccm.policy.config import POLICY_ENV, load_policy
from ccm.policy.registry import ACTIONS_ENV, load_registry
from ccm.policy.types import Verdict
from ccm.store import Store

F = TypeVar("F", bound=Callable[..., Any])
COLOURS = {"proceed": "green", "review": "yellow", "refuse": "red"}

actions_option = click.option(
    "--actions", "actions_file", envvar=ACTIONS_ENV, metavar="FILE",
    help="Action registry (YAML; default: $CCM_ACTIONS, else the shipped default set).")
policy_option = click.option(
    "--policy", "policy_file", envvar=POLICY_ENV, metavar="FILE",
    help="Policy file (YAML; default: $CCM_POLICY, else the shipped default policy).")
key_file_option = click.option(
    "--key-file", type=click.Path(dir_okay=False, exists=True), default=None,
    help="Ed25519 private key (base64 raw or PEM) that signs as this identity.")


def control_options(func: F) -> F:
    return actions_option(policy_option(func))


def controller(store: Store, actions_file: str | None, policy_file: str | None) -> Controller:
    """A controller on ``store`` with the chosen registry and policy, the audit key from
    the environment, and the engine as predictor."""
    signer = load_signer()
    if signer is None:
        err_console.print("[yellow]warning:[/yellow] no audit key (CCM_AUDIT_KEY or "
                          "CCM_AUDIT_KEY_FILE): nothing can execute", highlight=False)
    return Controller(store, registry=load_registry(actions_file),
                      policy=load_policy(policy_file), signer=signer, witness=witness_from_env())


def default_identity() -> str:
    return os.environ.get("CCM_IDENTITY") or getpass.getuser()


def as_option(help_text: str) -> Callable[[F], F]:
    return click.option("--as", "identity", default=default_identity, show_default="$CCM_IDENTITY"
                        " or your user name", help=help_text)


def signer_from(path: str | None) -> Signer | None:
    return Signer.from_file(path, "--key-file") if path else None


def human(identity: str) -> Actor:
    return Actor(identity, "human")


def verdict_table(v: Verdict) -> Table:
    t = Table(title="Rules", title_justify="left")
    t.add_column("rule")
    t.add_column("decision")
    t.add_column("reason", overflow="fold")
    for r in v.results:
        c = COLOURS[r.decision]
        t.add_row(r.rule, f"[{c}]{r.decision}[/{c}]", r.reason)
    return t


def impact_line(v: Verdict | None) -> str:
    if v is None or v.impact is None:
        return "predicted impact: none (no prediction)"
    i = v.impact
    return (f"predicted impact: p(fail) {i.p_fail:.1%}; if it fails: impacted traffic "
            f"p50 {i.traffic_p50:.1%} p95 {i.traffic_p95:.1%}, impacted services p50 "
            f"{i.services_p50:g} p95 {i.services_p95:g} ({i.samples} samples, seed {i.seed})")


def headline(rec: ActionRecord) -> str:
    v = rec.verdict
    p = rec.doc["proposal"]
    decision = v.decision if v else "-"
    c = COLOURS.get(decision, "white")
    needs = f"; needs {v.needs.describe()}" if v and rec.state == "evaluated" else ""
    return (f"[b]{rec.id}[/b] {p['action']} on {p['target']} by {p['agent']}: "
            f"[{c}]{decision}[/{c}]{needs}; state [b]{rec.state}[/b]")


def actions_table(recs: list[ActionRecord]) -> Table:
    t = Table(title="Actions", title_justify="left")
    # on a narrow terminal cells fold instead of being cut: ids are what the next
    # command takes
    for col in ("id", "action", "target", "agent", "verdict", "state", "proposed"):
        t.add_column(col, overflow="fold")
    for r in recs:
        p = r.doc["proposal"]
        v = (r.doc.get("verdict") or {}).get("decision", "-")
        c = COLOURS.get(v, "white")
        t.add_row(r.id, p["action"], p["target"], p["agent"], f"[{c}]{v}[/{c}]", r.state,
                  when(r.doc.get("proposed_at")))
    return t
