"""A store written by an earlier release opens with today's code and answers the same.

The fixture was written by the code of commit fe42813 (``ccm demo``; see
tests/fixtures/stores/README.md); the expected answers are what that code gave.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ccm.audit import verify_store
from ccm.ops.rca import SymptomSpec, find_root_causes
from ccm.store.embedded import MIGRATIONS, EmbeddedStore
from graph_schema import parse_time
from graph_schema.kinds import SCHEMA_VERSION

FIXTURES = Path(__file__).parent / "fixtures" / "stores"


@pytest.fixture
def old_store(tmp_path):
    path = tmp_path / "old.sqlite"
    shutil.copy(FIXTURES / "demo-fe42813.sqlite", path)
    store = EmbeddedStore(path)
    yield store
    store.close()


def test_every_schema_version_before_this_one_has_a_migration_entry():
    assert set(range(1, SCHEMA_VERSION)) <= set(MIGRATIONS)


def test_the_graph_of_the_earlier_release_reads_the_same(old_store):
    g = old_store.graph(parse_time("2026-03-05T10:00:00Z"))
    assert (len(g.nodes), len(g.edges)) == (26, 31)
    assert "service:cartservice" in g.nodes and "cache:redis-cart" in g.nodes
    history = old_store.history("config:cartservice/REDIS_ADDR")
    assert history.node, "the config key's versions survive the upgrade"


def test_root_causes_on_the_earlier_store_are_those_it_gave(old_store):
    rc = find_root_causes(old_store, at=parse_time("2026-03-09T14:20:00Z"), symptoms=[
        SymptomSpec("service:recommendationservice"), SymptomSpec("service:frontend")])
    top = rc.chains[0]
    assert top.nodes[0] == "change:chg-201"
    # the release scored it 5.3219 (posterior 0.9947 at temperature 1); the posterior is
    # now tempered (Params.posterior_temperature 1.45), the score is the same
    assert top.log_score == pytest.approx(5.3219, abs=5e-4)
    assert top.score == pytest.approx(0.9537, abs=5e-4)


def test_the_earlier_audit_log_and_action_records_are_intact(old_store):
    report = verify_store(old_store)
    assert report.ok and report.entries == 16
    assert len(old_store.list_records("actions")) == 3
