"""The structural propagation probability memory weighs learned estimates against."""

from __future__ import annotations

import pytest

from ccm.memory.structure import structural_propagation
from graph_schema import EdgeFact
from tests.controlkit import D0, HOUR, topology

PAIRS = [("service:frontend", "service:cart"), ("service:frontend", "service:reviews"),
         ("service:cart", "service:frontend")]


def test_it_is_the_engines_probability_for_each_dependency(embedded):
    embedded.write(topology())
    snap = embedded.snapshot(D0 + HOUR)
    got = structural_propagation(snap, PAIRS)
    assert set(got) == set(PAIRS[:2])  # the reverse pair is not an edge
    assert got[("service:frontend", "service:cart")] > got[("service:frontend",
                                                              "service:reviews")]
    edges = snap.edges
    i = next(i for i in range(len(edges.src)) if (snap.refs[edges.src[i]],
                                                  snap.refs[edges.dst[i]]) == PAIRS[0])
    assert got[PAIRS[0]] == pytest.approx(float(snap.p[i]))


def test_a_learned_value_on_the_edge_does_not_change_it(embedded):
    embedded.write(topology())
    before = structural_propagation(embedded.snapshot(D0 + HOUR), PAIRS)
    embedded.write([EdgeFact("DEPENDS_ON", "service:frontend", "service:reviews",
                             {"hard": False, "fallback": True, "propagation": 0.9},
                             D0 + HOUR)])
    after_snap = embedded.snapshot(D0 + 2 * HOUR)
    assert structural_propagation(after_snap, PAIRS) == pytest.approx(before)
