"""Verification finds any tampering: a changed field, a deleted entry, two swapped
entries, in SQLite and in Neo4j (edited directly in the backend), and in exports."""

from __future__ import annotations

import json
import sqlite3

import pytest

from ccm.audit import Actor, AuditLog, export_file, verify_file, verify_store
from ccm.audit.log import HEAD, RECORDS
from tests.controlkit import AUDIT_KEY, key

ALICE = Actor("alice", "human")
FIELDS = ["v", "seq", "t", "time", "kind", "actor", "subject", "data", "prev", "key_id",
          "hash", "sig"]


def filled(store, clock, n=5):
    log = AuditLog(store, AUDIT_KEY, clock)
    for i in range(n):
        clock.advance()
        log.append("admin", ALICE, f"thing-{i}", {"n": i, "nested": {"why": f"reason {i}"}})
    return log


# -- direct edits of the stored log, per backend ---------------------------------------------
def _rows(store):
    return {seq: doc for seq, doc in store.read_log("audit")}


def set_doc(store, seq, doc):
    if hasattr(store, "path"):
        with sqlite3.connect(store.path) as c:
            c.execute("UPDATE log_entries SET doc=? WHERE stream='audit' AND seq=?",
                      (json.dumps(doc, sort_keys=True), seq))
    else:
        with store._session() as s:
            s.run("MATCH (l:LogEntry {stream: 'audit', seq: $q}) SET l.doc = $d",
                  q=seq, d=json.dumps(doc, sort_keys=True)).consume()


def delete_entry(store, seq):
    if hasattr(store, "path"):
        with sqlite3.connect(store.path) as c:
            c.execute("DELETE FROM log_entries WHERE stream='audit' AND seq=?", (seq,))
    else:
        with store._session() as s:
            s.run("MATCH (l:LogEntry {stream: 'audit', seq: $q}) DETACH DELETE l",
                  q=seq).consume()


def tamper(value):
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, dict):
        return {**value, "id": "mallory"} if "id" in value else {**value, "n": 99}
    if isinstance(value, str) and len(value) == 64:
        return ("f" if value[0] != "f" else "e") + value[1:]
    return value + "x"


def test_an_untouched_log_verifies(store, clock):
    filled(store, clock)
    report = verify_store(store, [AUDIT_KEY.public_b64])
    assert report.ok, report.problems
    assert report.entries == 5 and report.first_bad is None


@pytest.mark.parametrize("field", FIELDS)
def test_changing_any_field_of_any_entry_is_detected(store, clock, field):
    filled(store, clock)
    rows = _rows(store)
    doc = dict(rows[3])
    doc[field] = tamper(doc[field])
    set_doc(store, 3, doc)
    report = verify_store(store, [AUDIT_KEY.public_b64])
    assert not report.ok
    assert report.first_bad == 3, report.problems


def test_changing_a_nested_value_is_detected(store, clock):
    filled(store, clock)
    doc = _rows(store)[2]
    doc["data"]["nested"]["why"] = "nothing to see"
    set_doc(store, 2, doc)
    report = verify_store(store)
    assert report.first_bad == 2
    assert "changed after signing" in report.problems[0]


@pytest.mark.parametrize("victim", [1, 3, 5])
def test_deleting_an_entry_is_detected_wherever_it_was(store, clock, victim):
    filled(store, clock)
    delete_entry(store, victim)
    report = verify_store(store, [AUDIT_KEY.public_b64])
    assert not report.ok
    assert report.first_bad == victim, report.problems
    assert "missing" in " ".join(report.problems)


def test_swapping_two_entries_is_detected(store, clock):
    filled(store, clock)
    rows = _rows(store)
    set_doc(store, 2, rows[3])
    set_doc(store, 3, rows[2])
    report = verify_store(store, [AUDIT_KEY.public_b64])
    assert not report.ok and report.first_bad == 2


def test_a_log_re_signed_with_another_key_fails_against_the_pinned_key(store, clock):
    mallory = key("mallory")
    log = AuditLog(store, mallory, clock)
    log.append("admin", ALICE, "thing", {})
    assert verify_store(store).ok  # trusting what the store itself says...
    report = verify_store(store, [AUDIT_KEY.public_b64])  # ...but not the pinned key
    assert not report.ok and "not trusted" in report.problems[0]


def test_a_tampered_head_record_is_detected(store, clock):
    filled(store, clock)
    head = store.get_record(RECORDS, HEAD)
    store.put_record(RECORDS, HEAD, {**head.doc, "seq": 9})
    report = verify_store(store)
    assert not report.ok and "head" in report.problems[0]


def test_an_export_verifies_on_its_own_and_detects_edits(store, clock, tmp_path):
    filled(store, clock)
    out = tmp_path / "audit.jsonl"
    seq, h = export_file(store, out)
    assert seq == 5
    ok = verify_file(out, [AUDIT_KEY.public_b64], expect_head=f"{seq}:{h}")
    assert ok.ok, ok.problems
    lines = out.read_text().splitlines()
    entry = json.loads(lines[1])
    entry["subject"] = "something else"
    lines[1] = json.dumps(entry)
    out.write_text("\n".join(lines) + "\n")
    bad = verify_file(out, [AUDIT_KEY.public_b64])
    assert bad.first_bad == 2


def test_a_truncated_export_is_caught_by_the_expected_head(store, clock, tmp_path):
    filled(store, clock)
    out = tmp_path / "audit.jsonl"
    seq, h = export_file(store, out)
    out.write_text("\n".join(out.read_text().splitlines()[:-1]) + "\n")
    assert verify_file(out, [AUDIT_KEY.public_b64]).ok  # a shorter chain is still a chain
    report = verify_file(out, [AUDIT_KEY.public_b64], expect_head=f"{seq}:{h}")
    assert not report.ok and "expected head" in report.problems[0]


def test_a_line_that_is_not_json_is_named(tmp_path):
    out = tmp_path / "audit.jsonl"
    out.write_text("{not json\n")
    report = verify_file(out, [AUDIT_KEY.public_b64])
    assert not report.ok and "audit.jsonl:1: not JSON" in report.problems[0]


def test_ccm_audit_verify_names_the_first_bad_entry_in_the_store(store, clock):
    from click.testing import CliRunner

    from ccm.cli import cli

    filled(store, clock)
    doc = _rows(store)[4]
    doc["data"]["n"] = 40
    set_doc(store, 4, doc)
    result = CliRunner().invoke(cli, ["audit", "verify", "--store", store.uri,
                                      "--public-key", AUDIT_KEY.public_b64],
                                env={"COLUMNS": "200"})
    assert result.exit_code == 1
    assert "first bad entry is 4" in result.output
    assert "entry 4: content does not match its hash" in result.output
