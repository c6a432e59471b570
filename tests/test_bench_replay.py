"""Replaying a case: a fresh store per case, ingested with CCM's own ingest."""

from __future__ import annotations

import pytest

from ccm.bench.cases import load_case
from ccm.bench.replay import replay_case, replayed
from ccm.errors import CaseInvalid
from tests.benchcases import ALERTS, write_case


def test_each_replay_gets_a_fresh_store_that_is_removed_afterwards(tmp_path):
    case = load_case(write_case(tmp_path / "cases"))
    with replayed(case, str(tmp_path)) as first:
        path = first.path
        stats = first.stats()
        assert stats["entities"] > 0
    assert not path.exists()
    with replayed(case, str(tmp_path)) as second:
        assert second.path != path
        assert second.stats() == stats  # the same case into an empty store: the same facts


def test_a_record_ingest_rejects_makes_the_case_invalid_naming_the_file(tmp_path):
    # an onset that is no time (a signal word CCM does not know is an error signal, noted)
    alerts = ALERTS + [{"id": "bad", "time": "2026-13-45T10:09:00Z", "service": "service:cart",
                        "signal": "errors"}]
    case = load_case(write_case(tmp_path, alerts=alerts))
    with pytest.raises(CaseInvalid) as info, replayed(case):
        pass
    err = info.value
    assert (err.case, err.file) == ("cart-redis-timeout", "alerts/alerts.jsonl")
    assert "time" in str(err) and "2026-13-45T10:09:00Z" in str(err)


def test_a_case_replayed_into_a_given_file_stays_there_until_closed(tmp_path):
    case = load_case(write_case(tmp_path / "cases"))
    store = replay_case(case, tmp_path / "kept.sqlite")
    try:
        assert store.path == tmp_path / "kept.sqlite"
        assert store.refs("alert") == ["alert:a1", "alert:a2"]
    finally:
        store.close()
    assert (tmp_path / "kept.sqlite").exists()


def test_a_rejected_record_fails_a_replay_into_a_file_naming_the_value(tmp_path):
    alerts = ALERTS + [{"id": "bad", "time": "2026-13-45T10:09:00Z", "service": "service:cart",
                        "signal": "errors"}]
    case = load_case(write_case(tmp_path, alerts=alerts))
    with pytest.raises(CaseInvalid, match="2026-13-45"):
        replay_case(case, tmp_path / "bad.sqlite")
