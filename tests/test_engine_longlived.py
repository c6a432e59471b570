"""Large long-lived structures are moved out of the garbage collector's way."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from ccm.engine.longlived import LARGE, enable, settle


@pytest.fixture(autouse=True)
def opted_in() -> Iterator[None]:
    before = enable()
    yield
    enable(before)


class Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the cyclic collector frees it


def test_small_structures_are_left_to_the_collector():
    gc.unfreeze()
    assert settle(LARGE - 1) is False
    assert gc.get_freeze_count() == 0


def test_a_large_structure_is_frozen_after_a_full_collection():
    gc.unfreeze()
    kept = [Node() for _ in range(10)]
    assert settle(LARGE) is True
    assert gc.get_freeze_count() >= len(kept)
    gc.unfreeze()


def test_cycles_frozen_by_an_earlier_settle_are_collected_by_the_next():
    import weakref

    gc.unfreeze()
    node = Node()
    ref = weakref.ref(node)
    settle(LARGE)
    del node
    gc.collect()
    assert ref() is not None  # frozen: the ordinary collections skip it
    settle(LARGE)
    assert ref() is None
    gc.unfreeze()


def test_a_process_that_did_not_opt_in_is_left_alone():
    enable(False)
    gc.unfreeze()
    kept = [Node() for _ in range(10)]
    assert settle(LARGE) is False
    assert gc.get_freeze_count() == 0
    assert kept
