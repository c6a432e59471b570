"""``ccm admin``: kill switches, sandbox grants, identities, keys and autonomy levels.

Every change is written to the audit log as the identity given with ``--as``.
"""

from __future__ import annotations

import os
from pathlib import Path

import click
from rich.table import Table

from ccm.audit.keys import Signer, load_signer
from ccm.audit.log import AuditLog
from ccm.audit.witness import witness_from_env
from ccm.cli.common import (
    DURATION,
    TIME,
    console,
    err_console,
    handle_errors,
    json_option,
    opened_store,
    print_json,
    store_option,
)
from ccm.cli.control_common import as_option, human
from ccm.cli.render import when
from ccm.errors import ConfigError
from ccm.policy.autonomy import AUTONOMY
from ccm.policy.controls import (
    grant,
    list_grants,
    list_switches,
    register_identities,
    revoke,
    revoke_identity_audited,
    set_autonomy,
    set_switch,
)
from ccm.policy.identities import list_identities, read_identities_file
from ccm.policy.rules import LEVELS
from ccm.store import Store
from graph_schema.timeutil import now_micros


def _audit(store: Store) -> AuditLog:
    return AuditLog(store, load_signer(), witness=witness_from_env())


@click.group("admin")
def admin_group() -> None:
    """Administer the control plane: kill switches, grants, identities, autonomy."""


# -- kill switches ----------------------------------------------------------------------------
@admin_group.group("kill-switch")
def switch_group() -> None:
    """Pause everything or one scope, or switch to dry-run mode; effective at once.

    SCOPE is `global` (default), a node reference (service:cart), agent:<id> or
    action:<type>.
    """


def _switch(scope: str, identity: str, reason: str, store_location: str | None,
            **flags: bool) -> None:
    with opened_store(store_location) as store:
        sw, warning = set_switch(store, _audit(store), scope, by=human(identity), reason=reason,
                                 now=now_micros(), **flags)
    state = ("paused" if sw.paused else "running") + (", dry-run" if sw.dry_run else "")
    console.print(f"{sw.scope}: {state}")
    if warning:
        err_console.print(f"[yellow]warning:[/yellow] {warning}")


def _switch_command(name: str, help_text: str, **flags: bool) -> None:
    @switch_group.command(name, help=help_text)
    @click.argument("scope", default="global")
    @click.option("--reason", default="", help="Why (stored and audited).")
    @as_option("Who throws the switch.")
    @store_option
    @handle_errors
    def cmd(scope: str, reason: str, identity: str, store_location: str | None) -> None:
        _switch(scope, identity, reason, store_location, **flags)


_switch_command("pause", "Refuse every action in SCOPE until resumed.", paused=True)
_switch_command("resume", "Lift the pause on SCOPE.", paused=False)
_switch_command("dry-run", "Run actions in SCOPE in dry-run mode (nothing for real).",
                dry_run=True)
_switch_command("live", "Leave dry-run mode in SCOPE.", dry_run=False)


@switch_group.command("list")
@store_option
@json_option
@handle_errors
def switch_list(store_location: str | None, as_json: bool) -> None:
    """Show every switch that was ever set."""
    with opened_store(store_location) as store:
        switches = list_switches(store)
    if as_json:
        print_json([s.to_dict() for s in switches.values()])
        return
    t = Table(title="Kill switches", title_justify="left")
    for col in ("scope", "paused", "dry-run", "by", "at", "reason"):
        t.add_column(col)
    for s in switches.values():
        t.add_row(s.scope, "yes" if s.paused else "no", "yes" if s.dry_run else "no", s.by,
                  when(s.at), s.reason)
    console.print(t)


# -- grants -----------------------------------------------------------------------------------
@admin_group.command("grant")
@click.argument("agent")
@click.option("--action", "actions", multiple=True, required=True, metavar="PATTERN",
              help="Action types it may run (glob, repeatable), e.g. restart or '*'.")
@click.option("--target", "targets", multiple=True, required=True, metavar="PATTERN",
              help="Targets it may act on (glob, repeatable), e.g. 'service:cart*'.")
@click.option("--for", "duration", type=DURATION, help="How long (e.g. 2h, P1D).")
@click.option("--until", type=TIME, help="Until when (ISO 8601).")
@click.option("--reason", default="", help="Why (stored and audited).")
@as_option("Who grants it.")
@store_option
@json_option
@handle_errors
def grant_cmd(agent: str, actions: tuple[str, ...], targets: tuple[str, ...],
              duration: int | None, until: int | None, reason: str, identity: str,
              store_location: str | None, as_json: bool) -> None:
    """Give AGENT time-bound write access to targets for action types."""
    if (duration is None) == (until is None):
        raise click.UsageError("give exactly one of --for and --until")
    now = now_micros()
    with opened_store(store_location) as store:
        g = grant(store, _audit(store), agent=agent, actions=actions, targets=targets,
                  expires_at=until if until is not None else now + (duration or 0),
                  by=human(identity), now=now, reason=reason)
    if as_json:
        print_json(g.to_dict())
    else:
        console.print(f"{g.id}: {agent} may run {', '.join(actions)} on {', '.join(targets)} "
                      f"until {when(g.expires_at)}")


@admin_group.command("revoke")
@click.argument("grant_id")
@click.option("--reason", default="", help="Why (stored and audited).")
@as_option("Who revokes it.")
@store_option
@handle_errors
def revoke_cmd(grant_id: str, reason: str, identity: str, store_location: str | None) -> None:
    """Revoke a grant now (repeating it changes nothing)."""
    with opened_store(store_location) as store:
        g = revoke(store, _audit(store), grant_id, by=human(identity), now=now_micros(),
                   reason=reason)
    console.print(f"{g.id}: revoked at {when(g.revoked_at)}")


@admin_group.command("grants")
@click.option("--agent", default=None, help="Only this agent's grants.")
@store_option
@json_option
@handle_errors
def grants_cmd(agent: str | None, store_location: str | None, as_json: bool) -> None:
    """List grants with their status now."""
    now = now_micros()
    with opened_store(store_location) as store:
        grants = list_grants(store, agent)
    if as_json:
        print_json([{**g.to_dict(), "status": g.status(now)} for g in grants])
        return
    t = Table(title="Grants", title_justify="left")
    for col in ("id", "agent", "actions", "targets", "expires", "status"):
        t.add_column(col)
    for g in grants:
        t.add_row(g.id, g.agent, ", ".join(g.actions), ", ".join(g.targets),
                  when(g.expires_at), g.status(now))
    console.print(t)


# -- identities and keys ------------------------------------------------------------------------
@admin_group.group("identity")
def identity_group() -> None:
    """Agents and humans that may propose and approve (with their public keys)."""


@identity_group.command("add")
@click.argument("file", type=click.Path(dir_okay=False, exists=True))
@as_option("Who registers them.")
@store_option
@handle_errors
def identity_add(file: str, identity: str, store_location: str | None) -> None:
    """Register the identities of a YAML FILE ({identities: [...]}, see docs/policy.md)."""
    idents = read_identities_file(file)
    with opened_store(store_location) as store:
        done = register_identities(store, _audit(store), idents, by=human(identity),
                                   now=now_micros())
    for i in done:
        console.print(f"registered {i.kind} {i.id}" + (f" ({i.model} {i.model_version})"
                                                        if i.model else ""))


@identity_group.command("list")
@store_option
@json_option
@handle_errors
def identity_list(store_location: str | None, as_json: bool) -> None:
    """List registered identities."""
    with opened_store(store_location) as store:
        idents = list_identities(store)
    if as_json:
        print_json([i.to_dict() for i in idents])
        return
    t = Table(title="Identities", title_justify="left")
    for col in ("id", "kind", "model", "zones", "revoked", "public key"):
        t.add_column(col)
    for i in idents:
        t.add_row(i.id, i.kind, f"{i.model} {i.model_version}".strip(), ", ".join(i.zones),
                  "yes" if i.revoked else "no", i.public_key[:16] + "...")
    console.print(t)


@identity_group.command("revoke")
@click.argument("identity_id")
@as_option("Who revokes it.")
@store_option
@handle_errors
def identity_revoke(identity_id: str, identity: str, store_location: str | None) -> None:
    """Revoke an identity: its proposals and approvals are refused from now on."""
    with opened_store(store_location) as store:
        revoke_identity_audited(store, _audit(store), identity_id, by=human(identity))
    console.print(f"{identity_id}: revoked")


@admin_group.command("keygen")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Where to write the private key (base64, mode 0600).")
@handle_errors
def keygen_cmd(out: Path) -> None:
    """Make an Ed25519 key pair: the private key goes to --out (use it as
    CCM_AUDIT_KEY_FILE or an identity's --key-file), the public key is printed."""
    if out.exists():
        raise ConfigError(f"{out} exists: refusing to overwrite a key")
    signer = Signer.ephemeral()
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(signer.private_b64() + "\n")
    console.print(signer.public_b64)


# -- autonomy -----------------------------------------------------------------------------------
@admin_group.group("autonomy")
def autonomy_group() -> None:
    """Earned autonomy per (action type, target): advisory -> review -> autonomous."""


@autonomy_group.command("set")
@click.argument("action")
@click.argument("target")
@click.argument("level", type=click.Choice(LEVELS))
@click.option("--tenant", default="default", show_default=True)
@as_option("Who sets it.")
@store_option
@handle_errors
def autonomy_set(action: str, target: str, level: str, tenant: str, identity: str,
                 store_location: str | None) -> None:
    """Set the level of ACTION on TARGET by hand (outcomes move it from there)."""
    with opened_store(store_location) as store:
        set_autonomy(store, _audit(store), tenant=tenant, action=action, target=target,
                     level=level, by=human(identity), now=now_micros())
    console.print(f"{action} on {target} ({tenant}): {level}")


@autonomy_group.command("list")
@store_option
@json_option
@handle_errors
def autonomy_list(store_location: str | None, as_json: bool) -> None:
    """Show every ladder with its level and clean-outcome count."""
    with opened_store(store_location) as store:
        rows = [(r.key, r.doc) for r in store.list_records(AUTONOMY)]
    if as_json:
        print_json([{"key": k, **{x: d.get(x) for x in ("level", "clean", "failures")}}
                    for k, d in rows])
        return
    t = Table(title="Autonomy", title_justify="left")
    for col in ("tenant", "action", "target", "level", "clean", "failures"):
        t.add_column(col)
    for key, d in rows:
        tenant, action, target = key.split("|", 2)
        t.add_row(tenant, action, target, str(d.get("level")), str(d.get("clean", 0)),
                  str(d.get("failures", 0)))
    console.print(t)


def register(cli: click.Group) -> None:
    cli.add_command(admin_group)
