"""The versioning algebra shared by every store."""

from __future__ import annotations

from ccm.store.timeline import Piece, assert_content, close_at, reconcile
from graph_schema import OPEN


def piece(vf, vt, h, seq=None):
    return Piece(vf, vt, h, "{}", seq=seq)


def spans(pieces):
    return [(p.valid_from, p.valid_to, p.hash) for p in pieces]


def test_asserting_into_an_empty_timeline_opens_a_version():
    out = assert_content([], piece(10, OPEN, "a"), explicit_end=False)
    assert out.changed and not out.ended_version
    assert spans(out.pieces) == [(10, OPEN, "a")]


def test_a_new_value_cuts_the_open_version():
    out = assert_content([piece(10, OPEN, "a", 1)], piece(20, OPEN, "b"), False)
    assert out.ended_version
    assert spans(out.pieces) == [(10, 20, "a"), (20, OPEN, "b")]


def test_the_same_value_inside_its_interval_is_unchanged():
    old = [piece(10, 20, "a", 1), piece(20, OPEN, "b", 2)]
    out = assert_content(old, piece(15, OPEN, "a"), False)
    assert not out.changed and out.pieces is old


def test_a_late_assert_lasts_until_the_next_boundary():
    old = [piece(10, 30, "a", 1), piece(30, OPEN, "c", 2)]
    out = assert_content(old, piece(20, OPEN, "b"), False)
    assert spans(out.pieces) == [(10, 20, "a"), (20, 30, "b"), (30, OPEN, "c")]


def test_a_late_assert_in_a_gap_stops_at_the_next_version():
    old = [piece(10, 20, "a", 1), piece(40, OPEN, "c", 2)]
    out = assert_content(old, piece(25, OPEN, "b"), False)
    assert spans(out.pieces) == [(10, 20, "a"), (25, 40, "b"), (40, OPEN, "c")]


def test_equal_neighbours_merge():
    old = [piece(20, OPEN, "a", 1)]
    out = assert_content(old, piece(10, OPEN, "a"), False)
    assert spans(out.pieces) == [(10, OPEN, "a")]


def test_an_explicit_end_overrides_what_it_covers():
    old = [piece(0, OPEN, "a", 1)]
    out = assert_content(old, piece(10, 20, "b"), True)
    assert spans(out.pieces) == [(0, 10, "a"), (10, 20, "b"), (20, OPEN, "a")]


def test_close_ends_the_covering_version_and_only_it():
    old = [piece(10, 20, "a", 1), piece(20, OPEN, "b", 2)]
    out = close_at(old, 25)
    assert spans(out.pieces) == [(10, 20, "a"), (20, 25, "b")]
    assert not close_at(old, 5).changed


def test_closing_at_a_version_start_removes_it():
    out = close_at([piece(10, OPEN, "a", 1)], 10)
    assert out.changed and out.pieces == []


def test_reconcile_keeps_identical_rows_and_replaces_the_rest():
    old = [piece(10, 20, "a", 1), piece(20, OPEN, "b", 2)]
    new = [piece(10, 20, "a", 1), piece(20, 30, "b"), piece(30, OPEN, "c")]
    supersede, inserts = reconcile(old, new)
    assert supersede == [2]
    assert spans(inserts) == [(20, 30, "b"), (30, OPEN, "c")]
