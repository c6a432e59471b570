"""Reusing the snapshot of "now" (ccm.ops.snapshots)."""

from __future__ import annotations

from ccm.ops.snapshots import RecentSnapshots, SnapshotReuse
from graph_schema import EdgeFact, NodeFact

SECOND = 1_000_000


def seed(store, clock):
    store.write([NodeFact("service", "a", {}, clock() - 10 * SECOND),
                 NodeFact("service", "b", {}, clock() - 10 * SECOND),
                 EdgeFact("DEPENDS_ON", "service:a", "service:b", {}, clock() - 10 * SECOND)])


def test_a_later_time_within_the_window_reuses_the_snapshot(embedded, clock):
    seed(embedded, clock)
    view = SnapshotReuse(embedded, RecentSnapshots(reuse=60 * SECOND))
    first = view.snapshot(clock())
    assert view.snapshot(clock() + 30 * SECOND) is first
    assert view.snapshot(clock() + 61 * SECOND) is not first


def test_an_earlier_time_is_never_answered_from_a_later_snapshot(embedded, clock):
    seed(embedded, clock)
    view = SnapshotReuse(embedded, RecentSnapshots(reuse=60 * SECOND))
    first = view.snapshot(clock())
    earlier = view.snapshot(clock() - SECOND)
    assert earlier is not first and earlier.valid_at == clock() - SECOND


def test_a_write_drops_the_snapshot(embedded, clock):
    seed(embedded, clock)
    view = SnapshotReuse(embedded, RecentSnapshots(reuse=60 * SECOND))
    first = view.snapshot(clock())
    embedded.write([NodeFact("service", "c", {}, clock() - SECOND)])
    second = view.snapshot(clock() + SECOND)
    assert second is not first and "service:c" in second.refs


def test_known_at_and_window_are_cached_apart(embedded, clock):
    seed(embedded, clock)
    view = SnapshotReuse(embedded, RecentSnapshots(reuse=60 * SECOND))
    assert view.snapshot(clock(), None, 3600 * SECOND) is not view.snapshot(clock())


def test_everything_else_is_the_stores_own(embedded, clock):
    seed(embedded, clock)
    view = SnapshotReuse(embedded, RecentSnapshots(reuse=SECOND))
    assert view.refs("service") == ["service:a", "service:b"]
    assert view.revision() == embedded.revision()


def test_an_alert_written_is_in_the_next_snapshot_and_graph_without_a_build(embedded, clock):
    seed(embedded, clock)
    cache = RecentSnapshots(reuse=60 * SECOND)
    view = SnapshotReuse(embedded, cache)
    first = view.snapshot(clock())
    clock.advance()
    embedded.write([NodeFact("alert", "x", {"service": "service:b", "status": "firing"},
                             clock() - SECOND),
                    EdgeFact("SYMPTOM_OF", "alert:x", "service:b", {}, clock() - SECOND)])
    snap = view.snapshot(clock())
    assert snap is not first and snap.alerts.refs == ["alert:x"]
    assert snap.revision == embedded.revision()
    assert view.graph(clock()) is snap.graph and "alert:x" in snap.graph.nodes
    assert cache.counts == {"reused": 1, "patched": 1, "built": 1}
