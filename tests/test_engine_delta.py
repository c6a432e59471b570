"""Patching a snapshot with a delta (ccm.engine.delta) gives what a fresh build gives."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ccm.engine import root_causes
from ccm.engine.collect import snapshot_from_graph
from ccm.errors import BatchRejected
from ccm.ops.snapshots import RecentSnapshots
from graph_schema import Close, EdgeFact, NodeFact

SECOND = 1_000_000
SERVICES = 8
#: the base graph's dependencies (a cycle 2 -> 3 -> 2 among them)
DEPS = [(0, 1), (0, 2), (1, 3), (2, 3), (3, 2), (3, 4), (4, 5), (1, 6), (6, 7)]


def base(store: Any, t: int) -> None:
    store.write([NodeFact("service", f"s{i}", {"entrypoint": True, "rps": 10.0} if i == 0
                          else {}, t) for i in range(SERVICES)]
                + [NodeFact("config", "s5/k", {"value": "x"}, t)]
                + [EdgeFact("DEPENDS_ON", f"service:s{a}", f"service:s{b}",
                            {"calls_per_s": 1.0 + a}, t) for a, b in DEPS]
                + [EdgeFact("HAS_CONFIG", "service:s5", "config:s5/k", {}, t)])


# one write: (what, which, service, number)
WRITES = st.tuples(
    st.sampled_from(["fire", "fire", "resolve", "close_alert", "change", "config_change",
                     "end_change", "traffic", "new_service"]),
    st.integers(0, 5), st.integers(0, SERVICES - 1), st.integers(1, 50))


def facts_of(write: tuple[str, int, int, int], t: int) -> list[Any]:
    what, i, s, x = write
    svc = f"service:s{s}"
    if what == "fire":
        return [NodeFact("alert", f"a{i}", {"service": svc, "status": "firing",
                                           "starts_at": t - x}, t - x),
                EdgeFact("SYMPTOM_OF", f"alert:a{i}", svc, {"signal": "errors"}, t - x)]
    if what == "resolve":
        return [NodeFact("alert", f"a{i}", {"service": svc, "status": "resolved"}, t - 1)]
    if what == "close_alert":
        return [Close(f"alert:a{i}", t - 1)]
    if what == "change":
        return [NodeFact("change", f"c{i}", {"change_kind": "deploy", "time": t - x,
                                            "target": svc, "version": f"v{x}"}, t - x),
                EdgeFact("CHANGED", f"change:c{i}", svc, {}, t - x)]
    if what == "config_change":
        return [NodeFact("change", f"c{i}", {"change_kind": "config_change", "time": t - x,
                                            "keys": ["s5/k"]}, t - x),
                EdgeFact("CHANGED", f"change:c{i}", "config:s5/k", {}, t - x)]
    if what == "end_change":
        return [Close(f"change:c{i}", t - 1)]
    if what == "traffic":
        a, b = DEPS[s % len(DEPS)]
        return [EdgeFact("DEPENDS_ON", f"service:s{a}", f"service:s{b}",
                         {"calls_per_s": float(x), "timeout_ms": 10.0 * i}, t - 1)]
    return [NodeFact("service", f"n{i}", {}, t - 1),
            EdgeFact("DEPENDS_ON", f"service:n{i}", svc, {}, t - 1)]


def canonical(snap: Any) -> dict[str, Any]:
    """Everything a snapshot says, by node reference (indices are the builder's)."""
    refs = snap.refs
    live = {snap.index[r] for r in snap.index}
    assert live == set(range(snap.n)) and len(refs) == snap.n
    nodes = {refs[i]: (int(snap.nodes.kind[i]), bool(snap.nodes.entry[i]),
                       repr(float(snap.nodes.rps[i])), bool(snap.nodes.monitored[i]),
                       int(snap.nodes.expires[i]), bool(snap.component[i]),
                       float(snap.traffic[i]), bool(snap.cyclic[i])) for i in range(snap.n)}
    e, p = snap.edges, snap.p
    edges = {(refs[e.src[k]], refs[e.dst[k]]): (int(e.kind[k]), bool(e.hard[k]),
                                                bool(e.is_async[k]), repr(float(e.calls[k])),
                                                repr(float(e.timeout_ms[k])),
                                                round(float(p[k]), 12))
             for k in range(len(e))}
    out = {(refs[i], refs[snap.out_idx[j]]) for i in range(snap.n)
           for j in range(snap.out_ptr[i], snap.out_ptr[i + 1])}
    into = {(refs[snap.in_idx[j]], refs[i]) for i in range(snap.n)
            for j in range(snap.in_ptr[i], snap.in_ptr[i + 1])}
    assert out == into == set(edges)
    for (a, b) in edges:  # a node comes after what it depends on, but in its cycle
        ia, ib = snap.index[a], snap.index[b]
        assert ia > ib or snap.comp[ia] == snap.comp[ib]
    cycles = {frozenset(r for r in refs if snap.comp[snap.index[r]] == c)
              for c in {int(snap.comp[i]) for i in range(snap.n) if snap.cyclic[i]}}
    c = snap.changes
    changes = [(c.refs[i], int(c.time[i]), c.kinds[i],
                refs[c.target[i]] if c.target[i] >= 0 else None,
                sorted(refs[j] for j in c.seeds(i)), c.meta[i], round(float(snap.change_q[i]), 12),
                refs[snap.change_node[i]] if snap.change_node[i] >= 0 else None)
               for i in range(len(c))]
    a = snap.alerts
    alerts = [(a.refs[i], refs[a.target[i]], a.signal[i], int(a.time[i])) for i in range(len(a))]
    ranked = [(ch.root, ch.cause, tuple(ch.nodes), round(ch.score, 9))
              for ch in root_causes(snap, k=5)] if len(a) else []
    return {"nodes": nodes, "edges": edges, "cycles": cycles, "changes": changes,
            "alerts": alerts, "root_causes": ranked}


@pytest.mark.parametrize("window", [None, 3600 * SECOND])
@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(writes=st.lists(st.lists(WRITES, min_size=1, max_size=3), min_size=1, max_size=6),
       ticks=st.lists(st.integers(0, 1), min_size=6, max_size=6))
def test_a_patched_snapshot_equals_a_fresh_build_after_random_writes(
        store, clock, window, writes, ticks):
    t = clock.now
    if not store.refs("service"):
        base(store, t - 3600 * SECOND)
    cache = RecentSnapshots(reuse=600 * SECOND)
    cache.get(store, t, None, window)
    for batch, tick in zip(writes, ticks, strict=False):
        clock.advance(tick)
        try:
            store.write([f for w in batch for f in facts_of(w, t)])
        except BatchRejected:  # a close of something never written: the batch is refused
            continue
        live = cache.get(store, t, None, window)
        fresh = snapshot_from_graph(store.graph(t), window)
        assert canonical(live) == canonical(fresh)
        assert live.revision == store.revision()
    assert cache.counts["built"] >= 1


def test_an_alert_arriving_and_resolving_is_patched_without_a_build(embedded, clock):
    t = clock.now
    base(embedded, t - 3600 * SECOND)
    cache = RecentSnapshots(reuse=600 * SECOND)
    first = cache.get(embedded, t)
    clock.advance()
    embedded.write(facts_of(("fire", 1, 3, 5), t))
    fired = cache.get(embedded, t)
    clock.advance()
    embedded.write(facts_of(("traffic", 1, 0, 7), t))
    clock.advance()
    embedded.write(facts_of(("close_alert", 1, 3, 5), t))
    gone = cache.get(embedded, t)
    assert cache.counts == {"reused": 0, "patched": 2, "built": 1}
    assert fired.alerts.refs == ["alert:a1"] and fired.refs[fired.alerts.target[0]] == "service:s3"
    assert "alert:a1" in fired.index and "alert:a1" not in gone.index
    assert gone.alerts.refs == [] and gone.n == first.n
    assert np.array_equal(gone.out_ptr, first.out_ptr)
    row = gone.edge_refs.index("service:s0|DEPENDS_ON|service:s1")
    assert gone.edges.calls[row] == 7.0 and first.edges.calls[row] == 1.0


def test_a_new_dependency_builds_the_snapshot_again(embedded, clock):
    t = clock.now
    base(embedded, t - 3600 * SECOND)
    cache = RecentSnapshots(reuse=600 * SECOND)
    cache.get(embedded, t)
    clock.advance()
    embedded.write(facts_of(("new_service", 1, 3, 5), t))
    snap = cache.get(embedded, t)
    assert cache.counts["built"] == 2 and "service:n1" in snap.index


def test_an_alert_about_two_nodes_is_about_the_first_by_reference_either_way(embedded, clock):
    t = clock.now
    base(embedded, t - 3600 * SECOND)
    cache = RecentSnapshots(reuse=600 * SECOND)
    cache.get(embedded, t)
    embedded.write(facts_of(("fire", 1, 3, 21), t))
    embedded.write(facts_of(("fire", 1, 1, 42), t))  # a second SYMPTOM_OF edge
    live = cache.get(embedded, t)
    assert canonical(live) == canonical(snapshot_from_graph(embedded.graph(t)))
    assert live.refs[live.alerts.target[0]] == "service:s1"
    assert cache.counts["patched"] == 1
