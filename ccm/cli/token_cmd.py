"""``ccm token``: make API tokens and keep only their hashes."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from pydantic import ValidationError
from rich.table import Table

from ccm.cli.common import console, err_console, handle_errors, json_option, print_json
from ccm.cli.serve import default_tokens_file
from ccm.errors import ConfigError

file_option = click.option(
    "--file", "path", type=click.Path(dir_okay=False, path_type=Path), default=None,
    help="The tokens file (default: $CCM_API_TOKENS_FILE, else ~/.config/ccm/tokens.yaml).")


@click.group("token")
def token_group() -> None:
    """Create and list API tokens (the server stores only SHA-256 hashes)."""


@token_group.command("create")
@click.option("--role", type=click.Choice(["agent", "sre", "admin"]), required=True,
              help="agent: impact, rca, propose/execute/report; sre: also approve, ingest, "
                   "audit; admin: also kill switch, grants, every tenant.")
@click.option("--identity", required=True, help="Who acts with this token (audited).")
@click.option("--tenant", default="default", show_default=True)
@click.option("--scope", "scopes", multiple=True, metavar="SCOPE",
              help="Narrow the role to these scopes (repeatable; default: all of the role's).")
@click.option("--expires", default=None, metavar="TIME", help="ISO 8601 expiry time.")
@file_option
@handle_errors
def create_cmd(role: str, identity: str, tenant: str, scopes: tuple[str, ...],
               expires: str | None, path: Path | None) -> None:
    """Make a token, append its hash to the tokens file and print the token once.

    Example: `ccm token create --role sre --identity alice`, then send
    `Authorization: Bearer <token>`. The token itself is not stored anywhere: keep it.
    """
    from ccm.api.auth import TokenEntry, add_token_to_file, hash_token, new_token

    token = new_token()
    try:
        entry = TokenEntry.model_validate({
            "sha256": hash_token(token), "identity": identity, "role": role, "tenant": tenant,
            "scopes": tuple(scopes) or None, "expires": expires})
    except ValidationError as exc:
        err = exc.errors()[0]
        raise ConfigError(f"--{err['loc'][0] if err['loc'] else 'option'}: {err['msg']}"
                          ) from None
    ignored = entry.beyond_role()
    if ignored:
        raise ConfigError(f"--scope {', '.join(ignored)}: the {role} role can never have it")
    target = path or default_tokens_file()
    add_token_to_file(target, entry)
    err_console.print(f"Added a {role} token for {identity} (tenant {tenant}) to {target}. "
                      "It is shown once, here:")
    sys.stdout.write(token + "\n")


@token_group.command("list")
@file_option
@json_option
@handle_errors
def list_cmd(path: Path | None, as_json: bool) -> None:
    """List the configured tokens (identity, role, tenant, scopes; hash prefixes only)."""
    from ccm.api.auth import read_token_file

    target = path or default_tokens_file()
    entries = read_token_file(target) if target.exists() else []
    rows: list[dict[str, Any]] = [{"identity": e.identity, "role": e.role, "tenant": e.tenant,
             "scopes": sorted(e.identity_obj().scopes), "expires": e.expires,
             "sha256": e.sha256[:12]} for e in entries]
    if as_json:
        print_json(rows)
        return
    t = Table(title=f"Tokens in {target}", title_justify="left")
    for col in ("identity", "role", "tenant", "expires", "sha256", "scopes"):
        t.add_column(col, overflow="fold")
    for r in rows:
        t.add_row(r["identity"], r["role"], r["tenant"], r["expires"] or "",
                  r["sha256"] + "…", " ".join(r["scopes"]))
    console.print(t)


@token_group.command("hash")
@handle_errors
def hash_cmd() -> None:
    """Print the SHA-256 of a token read from stdin (for CCM_API_TOKENS entries)."""
    from ccm.api.auth import hash_token

    token = sys.stdin.readline().strip()
    if not token:
        raise ConfigError("give the token on stdin (echo \"$TOKEN\" | ccm token hash)")
    sys.stdout.write(hash_token(token) + "\n")


def register(cli: click.Group) -> None:
    cli.add_command(token_group)
