"""``ccm audit verify`` and ``ccm audit export``: check and export the signed audit log."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ccm.audit import (
    export_file,
    export_jsonl,
    load_signer,
    read_public_key,
    verify_file,
    verify_store,
)
from ccm.audit.verify import VerifyReport
from ccm.audit.witness import WITNESS_ENV
from ccm.cli.common import (
    console,
    err_console,
    handle_errors,
    json_option,
    opened_store,
    print_json,
    store_option,
)


@click.group("audit")
def audit_group() -> None:
    """The append-only, hash-chained, Ed25519-signed audit log (see docs/audit.md)."""


def _report(report: VerifyReport, as_json: bool, what: str) -> None:
    if as_json:
        print_json(report.to_dict())
    elif report.ok:
        console.print(f"[green]ok[/green]: {report.entries} entries of {what} verify "
                      f"(hash chain, signatures by {', '.join(report.keys) or 'no key'}); "
                      f"head {report.last_seq}:{report.last_hash}")
    else:
        console.print(f"[red]NOT VERIFIED[/red]: {what}" if report.first_bad is None else
                      f"[red]TAMPERED[/red]: {what}: first bad entry is {report.first_bad}")
        for p in report.problems:
            console.print(f"  {p}")
    for note in report.notes:
        err_console.print(f"note: {note}")
    if not report.ok:
        sys.exit(1)


@audit_group.command("verify")
@click.option("--public-key", "public_keys", multiple=True, metavar="KEY",
              help="Trusted public key: base64, or a file (base64 or PEM). Repeatable. "
                   "Default: the key of CCM_AUDIT_KEY, else the keys recorded in the store.")
@click.option("--file", "path", type=click.Path(dir_okay=False, exists=True),
              help="Verify an exported JSONL file on its own (needs --public-key).")
@click.option("--expect-head", metavar="SEQ:HASH",
              help="With --file: the head printed by `ccm audit export` (detects a cut).")
@click.option("--witness", type=click.Path(dir_okay=False, path_type=Path),
              envvar=WITNESS_ENV, show_envvar=True,
              help="The witness file of signed heads: the log must reach its latest head.")
@click.option("--trust-store-keys", is_flag=True,
              help="Without a pinned key, accept the keys the store records (else exit 1).")
@store_option
@json_option
@handle_errors
def verify_cmd(public_keys: tuple[str, ...], path: str | None, expect_head: str | None,
               witness: Path | None, trust_store_keys: bool, store_location: str | None,
               as_json: bool) -> None:
    """Check the whole chain: every entry's hash, signature, link to the previous one
    and sequence number, and the signed head. Names the first bad entry; exits 1 if
    anything was tampered with."""
    keys = [read_public_key(k) for k in public_keys]
    if path:
        if not keys:
            raise click.UsageError("--file needs --public-key (the export carries no keys)")
        _report(verify_file(path, keys, expect_head, witness), as_json, path)
        return
    if not keys:
        signer = load_signer()
        keys = [signer.public_b64] if signer else []
    with opened_store(store_location) as store:
        report = verify_store(store, keys, witness, trust_store_keys)
        where = store.uri
    _report(report, as_json, where)


@audit_group.command("export")
@click.option("--out", "out", type=click.Path(dir_okay=False), default="-",
              show_default=True, help="Where to write the JSONL ('-': standard output).")
@store_option
@handle_errors
def export_cmd(out: str, store_location: str | None) -> None:
    """Write every audit entry as JSONL (one canonical JSON object per line), and print
    the head to check the file later with `ccm audit verify --file`."""
    with opened_store(store_location) as store:
        if out == "-":
            seq, h = export_jsonl(store, sys.stdout.buffer)
            sys.stdout.flush()
        else:
            seq, h = export_file(store, out)
    err_console.print(f"exported {seq} entries; head {seq}:{h}\ncheck with: ccm audit verify "
                      f"--file {out if out != '-' else 'FILE'} --public-key KEY "
                      f"--expect-head {seq}:{h} (or --witness FILE: the head "
                      f"${WITNESS_ENV} witnessed)", highlight=False)


def register(cli: click.Group) -> None:
    cli.add_command(audit_group)
