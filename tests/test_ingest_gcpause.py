"""The collector runs less often during an ingest and as before after it."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator

import pytest

from ingest.gcpause import INGEST_GC_THRESHOLD, enable, fewer_collections


@pytest.fixture(autouse=True)
def opted_in() -> Iterator[None]:
    before = enable()
    yield
    enable(before)


def test_a_process_that_did_not_opt_in_keeps_its_threshold():
    enable(False)
    before = gc.get_threshold()
    with fewer_collections():
        assert gc.get_threshold() == before
    assert gc.get_threshold() == before


def test_the_threshold_is_raised_inside_and_restored_after():
    before = gc.get_threshold()
    with fewer_collections():
        assert gc.get_threshold()[0] == INGEST_GC_THRESHOLD
        assert gc.get_threshold()[1:] == before[1:]
    assert gc.get_threshold() == before


def test_nested_and_concurrent_runs_restore_the_setting_once_the_last_ends():
    before = gc.get_threshold()
    inside, release = threading.Event(), threading.Event()

    def other_run():
        with fewer_collections():
            inside.set()
            release.wait(5)

    t = threading.Thread(target=other_run)
    with fewer_collections():
        t.start()
        assert inside.wait(5)
    assert gc.get_threshold()[0] == INGEST_GC_THRESHOLD  # the other run is still going
    release.set()
    t.join(5)
    assert gc.get_threshold() == before


def test_a_disabled_threshold_is_left_alone():
    before = gc.get_threshold()
    gc.set_threshold(0)
    try:
        with fewer_collections():
            assert gc.get_threshold()[0] == 0
    finally:
        gc.set_threshold(*before)


def test_the_setting_is_restored_when_the_run_fails():
    before = gc.get_threshold()
    try:
        with fewer_collections():
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert gc.get_threshold() == before
