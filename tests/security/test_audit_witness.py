"""The audit log cannot be rolled back unseen: every signed head is also appended to a
witness file outside the store, and verification compares the log with the latest
witnessed head (issue 16, fourth finding: a cut tail with an older head restored, a
deleted log and a cut export all passed before)."""

from __future__ import annotations

import copy
import io
import sqlite3

import pytest
from click.testing import CliRunner

from ccm.audit.export import export_jsonl
from ccm.audit.log import HEAD, RECORDS, Actor, AuditLog
from ccm.audit.verify import verify_file, verify_store
from ccm.audit.witness import latest_head
from ccm.cli import cli
from ccm.store import EmbeddedStore
from tests.conftest import FakeClock
from tests.controlkit import AUDIT_KEY

ROOT = Actor("root", "human")
PUB = [AUDIT_KEY.public_b64]


@pytest.fixture
def logged(tmp_path):
    """A store with 5 signed entries, its witness, and the signed head after entry 3."""
    path = tmp_path / "s.sqlite"
    witness = tmp_path / "witness.jsonl"
    store = EmbeddedStore(path)
    log = AuditLog(store, AUDIT_KEY, FakeClock(), witness=witness)
    for i in range(3):
        log.append("admin", ROOT, f"grant-{i}", {"n": i})
    old_head = copy.deepcopy(store.get_record(RECORDS, HEAD).doc)
    for i in range(3, 5):
        log.append("admin", ROOT, f"grant-{i}", {"n": i})
    yield store, path, witness, old_head
    store.close()


def cut_after(path, seq: int) -> None:
    with sqlite3.connect(path) as db:
        db.execute("DELETE FROM log_entries WHERE stream='audit' AND seq > ?", (seq,))


def test_every_signed_head_is_witnessed(logged):
    store, _, witness, _ = logged
    assert len(witness.read_text().splitlines()) == 5
    assert latest_head(witness)["seq"] == 5
    assert verify_store(store, PUB, witness).ok


def test_a_cut_tail_with_an_older_signed_head_restored_is_caught_by_the_witness(logged):
    store, path, witness, old_head = logged
    cut_after(path, 3)
    store.put_record(RECORDS, HEAD, old_head)
    assert verify_store(store, PUB).ok  # the finding: the store alone cannot tell
    report = verify_store(store, PUB, witness)
    assert not report.ok and report.first_bad == 4
    assert "witness saw it reach 5" in report.problems[0]


def test_deleting_the_whole_log_and_its_head_is_caught_by_the_witness(logged):
    store, path, witness, _ = logged
    cut_after(path, 0)
    with sqlite3.connect(path) as db:
        db.execute("DELETE FROM records WHERE collection=? AND key=?", (RECORDS, HEAD))
    assert verify_store(store, PUB).ok and verify_store(store, PUB).entries == 0
    report = verify_store(store, PUB, witness)
    assert not report.ok and "ends at entry 0" in report.problems[0]


def test_a_rewritten_entry_at_the_witnessed_head_is_named(logged):
    store, path, witness, _ = logged
    lines = witness.read_text().splitlines()
    witness.write_text("\n".join(lines[:-1]) + "\n" + lines[-1].replace(
        latest_head(witness)["hash"], "0" * 64) + "\n")
    report = verify_store(store, PUB, witness)
    assert not report.ok and "entry 5 is not the entry the witness saw" in report.problems[0]


def test_a_cut_export_is_caught_by_the_witness(logged, tmp_path):
    store, _, witness, _ = logged
    out = io.BytesIO()
    export_jsonl(store, out)
    cut = tmp_path / "cut.jsonl"
    cut.write_bytes(b"".join(out.getvalue().splitlines(keepends=True)[:3]))
    assert verify_file(cut, PUB).ok  # the finding: without the head the cut passes
    assert not verify_file(cut, PUB, witness=witness).ok


def test_ccm_audit_verify_exits_1_on_a_rollback_the_witness_saw(logged):
    store, path, witness, old_head = logged
    cut_after(path, 3)
    store.put_record(RECORDS, HEAD, old_head)
    env = {"CCM_STORE": str(path), "CCM_AUDIT_WITNESS": str(witness), "CCM_AUDIT_KEY": "",
           "CCM_AUDIT_KEY_FILE": ""}
    args = ["audit", "verify", "--public-key", AUDIT_KEY.public_b64]
    result = CliRunner().invoke(cli, args, env=env)
    assert result.exit_code == 1, result.output
    assert "witness" in result.output
    ok = CliRunner().invoke(cli, args, env={**env, "CCM_AUDIT_WITNESS": ""})
    assert ok.exit_code == 0, ok.output


def test_verify_exits_1_when_it_could_only_trust_keys_the_store_records(logged):
    _, path, _, _ = logged
    env = {"CCM_STORE": str(path), "CCM_AUDIT_WITNESS": "", "CCM_AUDIT_KEY": "",
           "CCM_AUDIT_KEY_FILE": "", "COLUMNS": "200"}
    unpinned = CliRunner().invoke(cli, ["audit", "verify"], env=env)
    assert unpinned.exit_code == 1 and "no key is pinned" in unpinned.output
    told = CliRunner().invoke(cli, ["audit", "verify", "--trust-store-keys"], env=env)
    assert told.exit_code == 0, told.output
