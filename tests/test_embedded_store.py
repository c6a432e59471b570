"""What only the embedded (SQLite) store promises."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from ccm.errors import StoreUnavailable
from ccm.store import EmbeddedStore, default_store_path, open_store
from graph_schema import NodeFact


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
