"""What would settle a close call: the observation the top two hypotheses disagree on."""

from __future__ import annotations

import numpy as np

from ccm.engine.model import EdgeTable
from ccm.engine.params import Params
from ccm.engine.rca import root_causes
from ccm.engine.snapshot import ChangeTable, NodeTable, build_snapshot
from ccm.engine.types import Symptom
from tests.engine_graphs import HOUR, T0


def twins(change_on: int | None = None):
    """web (the entrypoint, alerting) calls two services a and b alike; neither alerts."""
    refs = ["service:a", "service:b", "service:web"]
    nodes = NodeTable.build(refs, ["service"] * 3, entry=[False, False, True],
                            monitored=[False, False, True])
    edges = EdgeTable.build([2, 2], [0, 1])
    onset = T0 + 100 * HOUR
    changes = None
    if change_on is not None:
        changes = ChangeTable(["change:c1"], np.array([onset - 10 * 60_000_000], np.int64),
                              ["deploy"], np.array([change_on], np.int32),
                              np.array([0, 1], np.int64), np.array([change_on], np.int32),
                              [{"target": refs[change_on]}])
    snap = build_snapshot(nodes, edges, changes=changes, valid_at=onset + 5 * 60_000_000)
    return snap, [Symptom("service:web", "errors", onset)]


def test_two_nearly_equal_roots_are_a_close_call_that_names_the_node_to_check():
    # web failing on its own, or a (or b) failing under it: only a's state tells
    result = root_causes(*twins())
    close = result.close_call
    assert close is not None and 1.0 <= close.ratio < 3.0
    assert (close.first, close.second) == ("service:web", "service:a")
    obs = close.observation
    assert obs is not None
    assert (obs.node, obs.signal) == ("service:a", "failure")
    assert obs.first < 0.1 < 0.5 < obs.second
    assert obs.since == T0 + 100 * HOUR
    assert result.to_dict()["close_call"]["observation"]["node"] == obs.node


def test_a_clear_answer_is_no_close_call():
    result = root_causes(*twins(change_on=0))
    assert result[0].root == "change:c1" and result[0].score > 0.9
    assert result.close_call is None


def test_a_change_and_its_components_own_failure_are_told_apart_only_by_the_record():
    result = root_causes(*twins(change_on=2), params=Params(close_ratio=1e6))
    close = result.close_call
    assert close is not None
    assert (close.first, close.second) == ("change:c1", "service:web")
    assert close.observation is None
    assert "only their own records" in close.note
