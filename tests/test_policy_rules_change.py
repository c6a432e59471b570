"""Schema drift, reversible by default, memory write, signed audit."""

from __future__ import annotations

import pytest

from ccm.policy.rules import MemoryWrite, ReversibleByDefault, SchemaDrift, SignedAudit
from tests.controlkit import at, context, proposal

CLOCK = at(0)


def migration(statements, destructive):
    return proposal(CLOCK, "schema_migration", "datastore:orders-db",
                    {"migration": "m-1", "statements": statements, "destructive": destructive})


def test_a_non_destructive_migration_proceeds():
    r = SchemaDrift().evaluate(context(migration(["ALTER TABLE o ADD COLUMN c int"], False)))
    assert r.decision == "proceed"


def test_a_destructive_migration_needs_a_human_signature():
    r = SchemaDrift().evaluate(context(migration(["ALTER TABLE o DROP COLUMN c"], True)))
    assert r.decision == "review"
    assert r.needs.signature and r.needs.human
    assert "DROP COLUMN" in r.reason


@pytest.mark.parametrize("statement", [
    "DROP TABLE orders", "truncate orders", "DELETE FROM orders",
    "ALTER TABLE o ALTER COLUMN total TYPE text", "ALTER TABLE o RENAME COLUMN a TO b",
])
def test_a_destructive_statement_declared_harmless_is_refused_as_drift(statement):
    r = SchemaDrift().evaluate(context(migration(["SELECT 1", statement], False)))
    assert r.decision == "refuse"
    assert "inputs.statements[1]" in r.reason and "destructive=false" in r.reason


def test_a_delete_with_a_where_clause_is_not_destructive():
    r = SchemaDrift().evaluate(context(migration(["DELETE FROM o WHERE id = 3"], False)))
    assert r.decision == "proceed"


def test_other_actions_are_not_migrations():
    assert SchemaDrift().evaluate(context()).decision == "proceed"


def test_an_irreversible_action_always_needs_review():
    r = ReversibleByDefault().evaluate(context(proposal(CLOCK, "cache_flush", "cache:redis")))
    assert r.decision == "review" and r.needs.human and "irreversible" in r.reason


def test_a_reversible_action_proceeds_and_names_its_revert():
    p = proposal(CLOCK, "deploy", "service:cart", {"version": "2", "previous_version": "1"})
    r = ReversibleByDefault().evaluate(context(p))
    assert r.decision == "proceed" and "reverted by rollback" in r.reason
    assert r.data["auto_revert"] is True


def test_memory_write_refuses_when_the_tenant_has_no_memory():
    assert MemoryWrite().evaluate(context(memory_enabled=True)).decision == "proceed"
    r = MemoryWrite().evaluate(context(memory_enabled=False))
    assert r.decision == "refuse" and "'default'" in r.reason


def test_signed_audit_refuses_without_a_key():
    assert SignedAudit().evaluate(context(audit_ready=True)).decision == "proceed"
    r = SignedAudit().evaluate(context(audit_ready=False))
    assert r.decision == "refuse" and "CCM_AUDIT_KEY" in r.reason
