"""What only the embedded (SQLite) store promises."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from ccm.errors import StoreUnavailable
from ccm.store import EmbeddedStore, default_store_path, open_store
from graph_schema import Close, EdgeFact, NodeFact


def test_the_default_location_comes_from_ccm_store(monkeypatch, tmp_path):
    monkeypatch.setenv("CCM_STORE", str(tmp_path / "x.sqlite"))
    assert default_store_path() == tmp_path / "x.sqlite"
    monkeypatch.delenv("CCM_STORE")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert default_store_path() == tmp_path / "ccm" / "ccm.sqlite"


def test_open_store_picks_the_backend_from_the_location(tmp_path):
    s = open_store(f"sqlite://{tmp_path}/a.sqlite")
    assert isinstance(s, EmbeddedStore) and s.path == tmp_path / "a.sqlite"
    s.close()


def test_the_file_is_in_wal_mode(embedded):
    mode = sqlite3.connect(embedded.path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_a_file_that_is_not_a_store_gets_a_clear_error(tmp_path):
    bad = tmp_path / "garbage.sqlite"
    bad.write_bytes(b"\x00\x01garbage" * 1000)
    with pytest.raises(StoreUnavailable, match="cannot open .* as a CCM store"):
        EmbeddedStore(bad)


def test_another_connection_never_sees_a_half_written_batch(embedded):
    embedded.write([NodeFact("service", "a")])
    seen: list[int] = []
    with embedded._transaction() as tx:
        tx.c.execute("INSERT INTO entities VALUES ('service:b', 'service', 'b')")

        def look() -> None:
            other = sqlite3.connect(embedded.path)
            seen.append(other.execute("SELECT count(*) FROM entities").fetchone()[0])

        t = threading.Thread(target=look)
        t.start()
        t.join()
    assert seen == [1]


def test_threads_can_share_one_store(embedded):
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            for j in range(20):
                embedded.write([NodeFact("service", f"s{i}-{j}")])
                embedded.graph()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(embedded.refs("service")) == 80


def _ab_store(store):
    store.write([NodeFact("service", "a", {}, 0), NodeFact("service", "ab", {}, 0),
                 NodeFact("service", "b", {}, 0),
                 EdgeFact("DEPENDS_ON", "service:a", "service:b", {}, 0),
                 EdgeFact("DEPENDS_ON", "service:ab", "service:b", {}, 0),
                 EdgeFact("DEPENDS_ON", "service:b", "service:ab", {}, 0, source="s1")])


def test_edges_from_a_node_are_not_confused_with_a_node_whose_name_extends_it(embedded):
    _ab_store(embedded)
    assert sorted(e.fact_id for e in embedded.history("service:a").edges) == [
        "service:a|DEPENDS_ON|service:b"]
    embedded.write([Close("service:a", 10)])
    assert sorted(embedded.graph(11).edges) == ["service:ab|DEPENDS_ON|service:b",
                                                "service:b|DEPENDS_ON|service:ab"]


def test_facts_without_a_source_are_still_found_by_the_empty_source(embedded):
    _ab_store(embedded)
    assert embedded.open_fact_ids("s1", 5) == {"service:b|DEPENDS_ON|service:ab"}
    assert "service:a|DEPENDS_ON|service:b" in embedded.open_fact_ids("", 5)
    assert "service:b|DEPENDS_ON|service:ab" not in embedded.open_fact_ids("", 5)


def test_the_lookups_by_node_and_by_source_use_indexes(embedded):
    _ab_store(embedded)
    conn = sqlite3.connect(embedded.path)
    plans = {
        "from": "SELECT fact_id FROM edge_versions INDEXED BY edge_versions_fact "
                "WHERE fact_id >= 'a|' AND fact_id < 'a}' AND superseded_at = 1",
        "source": "SELECT fact_id FROM edge_versions INDEXED BY edge_versions_sourced "
                  "WHERE source IN ('s1') AND source != '' AND superseded_at = 1",
    }
    for what, q in plans.items():
        detail = " ".join(r[3] for r in conn.execute("EXPLAIN QUERY PLAN " + q))
        assert "USING" in detail and "INDEX" in detail, (what, detail)


def test_a_store_written_by_an_earlier_version_gets_the_current_indexes(tmp_path):
    path = tmp_path / "old.sqlite"
    EmbeddedStore(path).close()
    conn = sqlite3.connect(path)
    conn.executescript(
        "DROP INDEX edge_versions_sourced; DROP INDEX node_versions_sourced;"
        "CREATE INDEX edge_versions_src ON edge_versions(src, superseded_at);"
        "CREATE INDEX edge_versions_source ON edge_versions(source, superseded_at);"
        "CREATE INDEX node_versions_source ON node_versions(source, superseded_at);")
    conn.close()
    store = EmbeddedStore(path)
    store.close()
    names = {r[0] for r in sqlite3.connect(path).execute(
        "SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert {"edge_versions_sourced", "node_versions_sourced", "edge_versions_fact"} <= names
    assert not names & {"edge_versions_src", "edge_versions_source", "node_versions_source"}
