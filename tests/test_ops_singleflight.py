"""Identical questions arriving together are computed once (ccm.ops.singleflight)."""

from __future__ import annotations

import threading
import time

import pytest

from ccm.ops.singleflight import SingleFlight


def crowd(flight: SingleFlight, keys: list[str], compute) -> list:
    """Every key asked from its own thread, all released together."""
    start = threading.Barrier(len(keys))
    out: list = [None] * len(keys)

    def ask(i: int) -> None:
        start.wait()
        try:
            out[i] = flight.do(keys[i], compute)
        except ValueError as exc:
            out[i] = exc

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(len(keys))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return out


def counting(flight: SingleFlight, wait_for: int):
    """A computation that counts its calls and finishes once ``wait_for`` other callers
    wait for it."""
    calls: list[int] = []

    def compute() -> int:
        calls.append(1)
        for _ in range(10_000):  # at most 10 s
            if flight.shared >= wait_for:
                break
            time.sleep(0.001)
        return len(calls)

    return calls, compute


def test_callers_with_the_same_key_share_one_computation():
    flight = SingleFlight()
    calls, compute = counting(flight, 4)
    out = crowd(flight, ["q"] * 5, compute)
    assert len(calls) == 1 and flight.shared == 4 and out == [1] * 5


def test_different_keys_are_computed_apart():
    flight = SingleFlight()
    calls, compute = counting(flight, 0)
    crowd(flight, ["a", "b", "c"], compute)
    assert len(calls) == 3 and flight.shared == 0


def test_a_finished_computation_is_not_reused():
    flight = SingleFlight()
    assert flight.do("q", lambda: 1) == 1
    assert flight.do("q", lambda: 2) == 2


def test_an_error_reaches_every_waiting_caller_and_nothing_is_left_behind():
    flight = SingleFlight()
    _, count = counting(flight, 2)

    def fail() -> int:
        count()
        raise ValueError("no such node")

    out = crowd(flight, ["q"] * 3, fail)
    assert all(isinstance(x, ValueError) for x in out) and flight.shared == 2
    assert flight.do("q", lambda: 7) == 7
    with pytest.raises(ZeroDivisionError):
        flight.do("q", lambda: 1 // 0)
