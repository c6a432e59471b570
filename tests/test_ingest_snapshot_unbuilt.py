"""Summaries of snapshot sources whose batch was refused are not kept as ingested."""

from __future__ import annotations

from ingest.core import Context
from ingest.snapshot import MEMBERS, Membership, Unbuilt
from tests.helpers import AT1


def _saved(store, key: str) -> dict:
    rec = store.get_record(MEMBERS, key)
    return rec.doc["sources"] if rec else {}


def test_a_refusal_after_the_save_restores_what_the_earlier_run_saved(embedded):
    ctx = Context(embedded, AT1)
    Membership(ctx, "k8s", "a.yaml").save({"k8s:x/Deployment/old": {"v": 1},
                                           "k8s:x/Deployment/kept": {"v": 1}})
    members, unbuilt = Membership(ctx, "k8s", "a.yaml"), Unbuilt()
    current = {"k8s:x/Deployment/old": {"v": 2}, "k8s:x/Deployment/kept": {"v": 2},
               "k8s:x/Deployment/new": {"v": 2}}
    unbuilt.save(members, unbuilt.summaries(members, current))
    assert _saved(embedded, "k8s:a.yaml") == current
    # the batches of "old" and "new" are refused after the file's summaries were saved
    # (they waited for a node that no later file defined)
    unbuilt.refused(["k8s:x/Deployment/old", "k8s:x/Deployment/new"])
    assert _saved(embedded, "k8s:a.yaml") == {"k8s:x/Deployment/old": {"v": 1},
                                              "k8s:x/Deployment/kept": {"v": 2}}
    assert "k8s:x/Deployment/new" in unbuilt and "k8s:x/Deployment/kept" not in unbuilt


def test_summaries_leave_out_refused_sources_that_no_run_saved(embedded):
    ctx = Context(embedded, AT1)
    members, unbuilt = Membership(ctx, "backstage", "c.yaml"), Unbuilt()
    unbuilt.refused(["backstage:component:default/a"])
    assert unbuilt.summaries(members, {"backstage:component:default/a": {},
                                       "backstage:component:default/b": {"n": 1}}) \
        == {"backstage:component:default/b": {"n": 1}}
    unbuilt.built(["backstage:component:default/a"])
    assert "backstage:component:default/a" not in unbuilt
