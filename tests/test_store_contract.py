"""The store contract: every backend, same facts in, same answers out."""

from __future__ import annotations

import contextlib

import pytest

from ccm.errors import BatchRejected, Conflict, NotFound
from graph_schema import Close, EdgeFact, NodeFact, parse_time

D1 = parse_time("2026-03-01T00:00:00Z")
D2 = parse_time("2026-03-02T00:00:00Z")
D3 = parse_time("2026-03-03T00:00:00Z")
D4 = parse_time("2026-03-04T00:00:00Z")
D5 = parse_time("2026-03-05T00:00:00Z")


def base_facts(t: int = D1) -> list:
    return [
        NodeFact("service", "frontend", {"entrypoint": True, "rps": 100.0}, t),
        NodeFact("service", "cart", {}, t),
        NodeFact("cache", "redis-cart", {}, t),
        EdgeFact("DEPENDS_ON", "service:frontend", "service:cart", {"hard": True}, t),
        EdgeFact("DEPENDS_ON", "service:cart", "cache:redis-cart", {"timeout_ms": 500}, t),
    ]


def edges_of(g) -> set[tuple[str, str, str]]:
    return {(e.src, e.kind, e.dst) for e in g.edges.values()}


def test_a_written_graph_reads_back_with_its_attributes(store):
    result = store.write(base_facts())
    assert (result.added, result.unchanged, result.closed) == (5, 0, 0)
    g = store.graph(D2)
    assert set(g.nodes) == {"service:frontend", "service:cart", "cache:redis-cart"}
    assert g.nodes["service:frontend"].attrs == {"entrypoint": True, "rps": 100.0}
    assert edges_of(g) == {("service:frontend", "DEPENDS_ON", "service:cart"),
                           ("service:cart", "DEPENDS_ON", "cache:redis-cart")}
    assert g.edges["service:cart|DEPENDS_ON|cache:redis-cart"].attrs == {"timeout_ms": 500}


def test_writing_the_same_facts_twice_changes_nothing(store):
    store.write(base_facts())
    rev = store.revision()
    stats = store.stats()
    again = store.write(base_facts())
    assert (again.added, again.unchanged, again.closed) == (0, 5, 0)
    assert store.revision() == rev
    assert store.stats() == stats


def test_restating_a_fact_later_inside_its_interval_is_a_no_op(store):
    store.write(base_facts(D1))
    again = store.write(base_facts(D3))
    assert again.added == 0 and again.unchanged == 5
    assert store.history("service:cart").node[0].valid_from == D1


def test_a_new_version_closes_the_previous_one(store):
    store.write(base_facts())
    r = store.write([EdgeFact("DEPENDS_ON", "service:cart", "cache:redis-cart",
                              {"timeout_ms": 50}, D3)])
    assert (r.added, r.closed) == (1, 1)
    fid = "service:cart|DEPENDS_ON|cache:redis-cart"
    assert store.graph(D2).edges[fid].attrs == {"timeout_ms": 500}
    assert store.graph(D4).edges[fid].attrs == {"timeout_ms": 50}
    h = store.history("cache:redis-cart")
    assert [(v.valid_from, v.valid_to, v.attrs["timeout_ms"]) for v in h.edges] == [
        (D1, D3, 500), (D3, h.edges[1].valid_to, 50)]
    assert h.edges[1].is_open


def test_what_memory_learned_survives_a_source_restating_the_fact(store):
    store.write(base_facts(D1))
    fid = "service:frontend|DEPENDS_ON|service:cart"
    store.write([EdgeFact("DEPENDS_ON", "service:frontend", "service:cart",
                          {"hard": True, "propagation": 0.3}, D2)])
    again = store.write(base_facts(D3))   # the manifest, re-ingested, knows no propagation
    assert (again.added, again.unchanged) == (0, 5)
    changed = store.write([EdgeFact("DEPENDS_ON", "service:frontend", "service:cart",
                                    {"hard": False}, D4)])
    assert changed.added == 1
    assert store.graph(D5).edges[fid].attrs == {"hard": False, "propagation": 0.3}
    assert store.graph(D1).edges[fid].attrs == {"hard": True}   # not carried backwards
    learned = store.write([NodeFact("change", "c1", {"change_kind": "deploy",
                                                     "outcome": "unhealthy"}, D2)])
    assert learned.added == 1
    store.write([NodeFact("change", "c1", {"change_kind": "deploy"}, D2)])
    assert store.graph(D3).nodes["change:c1"].attrs["outcome"] == "unhealthy"


def test_graph_at_a_time_before_the_facts_is_empty(store):
    store.write(base_facts(D2))
    g = store.graph(D1)
    assert g.nodes == {} and g.edges == {}


def test_closing_a_fact_ends_it_at_that_time(store):
    store.write(base_facts())
    r = store.write([Close("service:frontend|DEPENDS_ON|service:cart", D3)])
    assert r.closed == 1
    assert ("service:frontend", "DEPENDS_ON", "service:cart") in edges_of(store.graph(D2))
    assert ("service:frontend", "DEPENDS_ON", "service:cart") not in edges_of(store.graph(D4))


def test_closing_a_node_closes_its_edges_too(store):
    store.write(base_facts())
    r = store.write([Close("service:cart", D3)])
    assert r.closed == 3
    g = store.graph(D4)
    assert "service:cart" not in g.nodes
    assert edges_of(g) == set()
    assert len(store.graph(D2).edges) == 2


def test_a_late_event_lands_at_its_own_time(store):
    store.write(base_facts(D1))
    store.write([NodeFact("service", "cart", {"version": "2"}, D4)])
    # learned later: version 1.5 was deployed on day 2
    r = store.write([NodeFact("service", "cart", {"version": "1.5"}, D2)])
    assert r.added == 1
    assert store.graph(parse_time("2026-03-01T12:00:00Z")).nodes["service:cart"].attrs == {}
    assert store.graph(D3).nodes["service:cart"].attrs == {"version": "1.5"}
    assert store.graph(D5).nodes["service:cart"].attrs == {"version": "2"}


def test_a_late_version_does_not_undo_a_recorded_removal(store):
    store.write(base_facts(D1))
    store.write([Close("service:cart|DEPENDS_ON|cache:redis-cart", D4)])
    store.write([EdgeFact("DEPENDS_ON", "service:cart", "cache:redis-cart",
                          {"timeout_ms": 50}, D2)])
    fid = "service:cart|DEPENDS_ON|cache:redis-cart"
    assert store.graph(D3).edges[fid].attrs == {"timeout_ms": 50}
    assert fid not in store.graph(D5).edges


def test_an_earlier_identical_fact_extends_the_interval_back(store):
    store.write([NodeFact("service", "cart", {"tier": "high"}, D3)])
    r = store.write([NodeFact("service", "cart", {"tier": "high"}, D1)])
    assert r.added == 1
    h = store.history("service:cart")
    assert [(v.valid_from, v.is_open) for v in h.node] == [(D1, True)]


def test_an_explicit_valid_to_bounds_the_fact(store):
    store.write([NodeFact("service", "cart", {}, D1),
                 NodeFact("alert", "a1", {"signal": "errors"}, D2, D3),
                 EdgeFact("SYMPTOM_OF", "alert:a1", "service:cart", {}, D2, D3)])
    assert "alert:a1" in store.graph(parse_time("2026-03-02T12:00:00Z")).nodes
    assert "alert:a1" not in store.graph(D4).nodes


def test_known_at_answers_with_what_was_known_then(store, clock):
    store.write(base_facts(D1))
    learned_first = clock.now
    clock.advance(3600 * 1_000_000)
    store.write([EdgeFact("DEPENDS_ON", "service:cart", "cache:redis-cart",
                          {"timeout_ms": 50}, D2)])
    fid = "service:cart|DEPENDS_ON|cache:redis-cart"
    assert store.graph(D3).edges[fid].attrs == {"timeout_ms": 50}
    assert store.graph(D3, known_at=learned_first).edges[fid].attrs == {"timeout_ms": 500}
    assert store.graph(D3, known_at=learned_first - 1).edges == {}


def test_known_at_sees_a_removal_only_after_it_was_recorded(store, clock):
    store.write(base_facts(D1))
    before = clock.now
    clock.advance()
    store.write([Close("service:cart", D2)])
    assert "service:cart" in store.graph(D3, known_at=before).nodes
    assert "service:cart" not in store.graph(D3).nodes


def test_diff_lists_added_removed_and_changed_facts(store):
    store.write(base_facts(D1))
    store.write([NodeFact("service", "checkout", {}, D3),
                 EdgeFact("DEPENDS_ON", "service:checkout", "service:cart", {}, D3),
                 NodeFact("service", "cart", {"replicas": 3}, D3),
                 Close("service:frontend|DEPENDS_ON|service:cart", D3)])
    d = store.diff(D2, D4)
    assert {v.fact_id for v in d.added} == {"service:checkout",
                                           "service:checkout|DEPENDS_ON|service:cart"}
    assert {v.fact_id for v in d.removed} == {"service:frontend|DEPENDS_ON|service:cart"}
    assert [(a.attrs, b.attrs) for a, b in d.changed] == [({}, {"replicas": 3})]
    assert not store.diff(D4, D5)


def test_history_of_an_unknown_node_is_not_found(store):
    with pytest.raises(NotFound):
        store.history("service:nope")


@pytest.mark.parametrize("bad, field", [
    (NodeFact("servce", "cart"), "kind"),
    (NodeFact("service", "cart", {"rps": "fast"}), "attrs.rps"),
    (NodeFact("service", "cart", {"colour": "red"}), "attrs.colour"),
    (NodeFact("service", "cart", {}, "last tuesday"), "valid_from"),  # type: ignore[arg-type]
    (EdgeFact("DEPENDS_ON", "service:frontend", "service:ghost"), "to"),
    (EdgeFact("DEPENDS_ON", "cart", "service:frontend"), "from"),
    (EdgeFact("CHANGED", "service:frontend", "service:cart"), "from"),
    (EdgeFact("DEPNDS_ON", "service:frontend", "service:cart"), "kind"),
    (Close("service:ghost", D2), "fact_id"),
])
def test_a_batch_with_one_bad_fact_writes_nothing_and_names_it(store, bad, field):
    store.write([NodeFact("service", "frontend", {}, D1)])
    stats = store.stats()
    batch = [NodeFact("service", "cart", {}, D1), NodeFact("cache", "redis", {}, D1), bad,
             NodeFact("service", "checkout", {}, D1)]
    with pytest.raises(BatchRejected) as info:
        store.write(batch)
    assert info.value.field == field
    assert "nothing from this batch was written" in str(info.value)
    assert f"field '{field}'" in str(info.value)
    assert store.stats() == stats
    assert set(store.graph(D2).nodes) == {"service:frontend"}


def test_an_edge_may_end_at_a_node_of_the_same_batch(store):
    r = store.write([EdgeFact("DEPENDS_ON", "service:a", "service:b", {}, D1),
                     NodeFact("service", "a", {}, D1), NodeFact("service", "b", {}, D1)])
    assert r.added == 3


def test_find_refs_and_refs_list_nodes_by_name_and_kind(store):
    store.write(base_facts())
    store.write([NodeFact("datastore", "cart", {}, D1)])
    assert store.find_refs(["cart", "nope"]) == {"cart": ["datastore:cart", "service:cart"]}
    assert store.refs("service") == ["service:cart", "service:frontend"]
    assert "cache:redis-cart" in store.refs()


def test_open_fact_ids_lists_what_a_source_still_asserts(store):
    facts = [NodeFact("service", "a", {}, D1, source="k8s:x"),
             NodeFact("service", "b", {}, D1, source="k8s:x"),
             EdgeFact("DEPENDS_ON", "service:a", "service:b", {}, D1, source="k8s:x"),
             NodeFact("service", "c", {}, D1, source="other")]
    store.write(facts)
    store.write([Close("service:b", D3)])
    assert store.open_fact_ids("k8s:x", D2) == {"service:a", "service:b",
                                                "service:a|DEPENDS_ON|service:b"}
    assert store.open_fact_ids("k8s:x", D4) == {"service:a"}


def test_records_are_versioned_and_guarded_by_revision(store):
    assert store.get_record("grants", "g1") is None
    assert store.put_record("grants", "g1", {"scope": ["service:cart"]}, expected_rev=0) == 1
    with pytest.raises(Conflict):
        store.put_record("grants", "g1", {"scope": []}, expected_rev=0)
    assert store.put_record("grants", "g1", {"scope": []}, expected_rev=1) == 2
    rec = store.get_record("grants", "g1")
    assert rec is not None and rec.doc == {"scope": []} and rec.rev == 2
    store.put_record("grants", "g0", {"x": 1})
    assert [r.key for r in store.list_records("grants")] == ["g0", "g1"]
    assert store.list_records("other") == []


def test_log_appends_see_the_previous_entry_in_order(store):
    def build(prev, seq):
        return {"seq": seq, "prev_seq": prev["seq"] if prev else 0}

    assert store.append_log("audit", build) == (1, {"seq": 1, "prev_seq": 0})
    assert store.append_log("audit", build) == (2, {"seq": 2, "prev_seq": 1})
    store.append_log("other", build)
    assert [s for s, _ in store.read_log("audit")] == [1, 2]
    assert store.read_log("audit", after=1) == [(2, {"seq": 2, "prev_seq": 1})]
    assert store.read_log("audit", limit=1) == [(1, {"seq": 1, "prev_seq": 0})]


def test_a_failed_log_build_appends_nothing(store):
    def boom(prev, seq):
        raise ValueError("no")

    with pytest.raises(ValueError):
        store.append_log("audit", boom)
    assert store.read_log("audit") == []


def test_recorded_at_never_moves_backwards(store, clock):
    store.write([NodeFact("service", "a", {}, D1)])
    clock.now -= 10_000_000  # the wall clock jumps back
    r = store.write([NodeFact("service", "b", {}, D1)])
    assert r.recorded_at is not None
    assert r.recorded_at >= store.history("service:a").node[0].recorded_at
    with pytest.raises(Conflict):
        store.write([NodeFact("service", "c", {}, D1)], recorded_at=clock.now - 10**9)


def test_time_travel_over_many_versions_agrees_with_a_replay(store, clock):
    # one node re-versioned every day; each day's graph shows that day's version
    days = [parse_time(f"2026-03-{d:02d}T00:00:00Z") for d in range(1, 11)]
    for i, day in enumerate(days):
        clock.advance()
        store.write([NodeFact("service", "cart", {"version": str(i)}, day)])
    for i, day in enumerate(days):
        assert store.graph(day + 1).nodes["service:cart"].attrs == {"version": str(i)}
    assert len(store.history("service:cart").node) == 10


def test_versions_at_returns_the_version_of_each_fact_true_then(store):
    store.write(base_facts(D1))
    store.write([EdgeFact("DEPENDS_ON", "service:cart", "cache:redis-cart",
                          {"timeout_ms": 50}, D3)])
    fid = "service:cart|DEPENDS_ON|cache:redis-cart"
    before = store.versions_at([fid, "service:cart", "service:nope", "a|BOGUS|b"], D2)
    assert set(before) == {fid, "service:cart"}
    assert before[fid].attrs == {"timeout_ms": 500} and before["service:cart"].attrs == {}
    assert store.versions_at([fid], D4)[fid].attrs == {"timeout_ms": 50}
    assert store.versions_at([fid], D1 - 1) == {}


def test_a_validated_write_skips_schema_checks_but_not_endpoints(store):
    from graph_schema import validate

    facts = [validate(f) for f in base_facts(D1)]
    assert store.write(facts, validated=True).added == 5
    with pytest.raises(BatchRejected) as info:
        store.write([validate(EdgeFact("DEPENDS_ON", "service:cart", "service:ghost", {}, D1))],
                    validated=True)
    assert info.value.field == "to"


def test_open_fact_ids_by_source_answers_for_many_sources_at_once(store):
    store.write([NodeFact("service", "a", {}, D1, source="k8s:a"),
                 NodeFact("service", "b", {}, D3, source="k8s:b"),
                 EdgeFact("DEPENDS_ON", "service:a", "service:b", {}, D3, source="k8s:a")])
    assert store.open_fact_ids_by_source({"k8s:a": D4, "k8s:b": D4, "k8s:none": D4}) == {
        "k8s:a": {"service:a", "service:a|DEPENDS_ON|service:b"}, "k8s:b": {"service:b"}}
    # each source at its own time
    assert store.open_fact_ids_by_source({"k8s:a": D2, "k8s:b": D4}) == {
        "k8s:a": {"service:a"}, "k8s:b": {"service:b"}}


def _pretend_newer_schema(store) -> None:
    from ccm.store import EmbeddedStore

    if isinstance(store, EmbeddedStore):
        with store._transaction() as tx:
            tx.c.execute("UPDATE ccm_meta SET value='999' WHERE key='schema_version'")
    else:
        store._driver.execute_query("MATCH (m:CCMMeta {id: 'meta'}) SET m.schema_version = 999")


def _reopen(store, clock):
    from ccm.store import EmbeddedStore
    from ccm.store.neo4j import Neo4jStore

    if isinstance(store, EmbeddedStore):
        return EmbeddedStore(store.path, clock=clock)
    return Neo4jStore(store.uri, clock=clock)


def test_a_store_written_by_a_newer_schema_is_refused(store, clock):
    from ccm.errors import StoreSchemaTooNew

    store.write(base_facts())
    _pretend_newer_schema(store)
    with pytest.raises(StoreSchemaTooNew, match="newer than this CCM's version"):
        _reopen(store, clock)


def test_a_reopened_store_keeps_everything(store, clock):
    store.write(base_facts())
    store.put_record("actions", "a1", {"state": "approved"})
    again = _reopen(store, clock)
    try:
        assert set(again.graph(D2).nodes) == set(store.graph(D2).nodes)
        assert again.get_record("actions", "a1").doc == {"state": "approved"}
    finally:
        again.close()


def test_concurrent_writers_all_succeed_and_agree(store, clock):
    """Writers racing on the same facts, records and log: every call succeeds
    (transient aborts are retried inside the store), and the result is as if serial."""
    import threading

    from ccm.store import EmbeddedStore
    from ccm.store.neo4j import Neo4jStore

    store.write(base_facts())
    if isinstance(store, EmbeddedStore):
        others = [EmbeddedStore(store.path, clock=clock) for _ in range(4)]
    else:
        others = [Neo4jStore(store.uri, clock=clock) for _ in range(4)]
    errors: list[BaseException] = []

    def work(s, i: int) -> None:
        try:
            for j in range(5):
                s.write([NodeFact("service", "cart", {"replicas": j}, D2),
                         EdgeFact("DEPENDS_ON", "service:frontend", "service:cart",
                                  {"hard": True, "retries": j}, D2)])
                s.append_log("audit", lambda prev, seq: {"seq": seq})
                rec = s.get_record("counters", "c")
                with contextlib.suppress(Conflict):
                    s.put_record("counters", "c", {"n": (rec.doc["n"] if rec else 0) + 1},
                                 expected_rev=rec.rev if rec else 0)
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(s, i)) for i, s in enumerate(others)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for s in others:
        s.close()
    assert errors == []
    assert [seq for seq, _ in store.read_log("audit")] == list(range(1, 21))
    assert store.get_record("counters", "c").doc["n"] == store.get_record("counters", "c").rev
    assert store.graph(D3).nodes["service:cart"].attrs["replicas"] in range(5)


def test_the_delta_since_a_write_names_every_fact_written_or_closed_after_it(store, clock):
    store.write(base_facts())
    before = store.mark()
    assert before.revision == store.revision()
    clock.advance()
    store.write([NodeFact("alert", "a1", {"service": "service:cart"}, D2),
                 EdgeFact("SYMPTOM_OF", "alert:a1", "service:cart", {}, D2)])
    after_alert = store.mark()
    clock.advance()
    store.write([Close("service:cart|DEPENDS_ON|cache:redis-cart", D3),
                 NodeFact("service", "frontend", {"entrypoint": True, "rps": 50.0}, D3)])
    assert store.mark().revision == before.revision + 2
    assert store.touched_since(before.recorded_at + 1) == {
        "alert:a1", "alert:a1|SYMPTOM_OF|service:cart", "service:frontend",
        "service:cart|DEPENDS_ON|cache:redis-cart"}
    assert store.touched_since(after_alert.recorded_at + 1) == {
        "service:frontend", "service:cart|DEPENDS_ON|cache:redis-cart"}
    assert store.touched_since(store.mark().recorded_at + 1) == set()
