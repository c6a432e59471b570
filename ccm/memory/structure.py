"""The engine's structural propagation probability of dependency edges, memory aside:
the base that learned estimates are weighed against."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

import numpy as np

from ccm.engine.model import DEPENDS_ON, edge_probabilities
from ccm.engine.params import DEFAULT_PARAMS, Params
from ccm.engine.snapshot import Snapshot


def structural_propagation(snapshot: Snapshot, pairs: Iterable[tuple[str, str]],
                           params: Params = DEFAULT_PARAMS) -> dict[tuple[str, str], float]:
    """For each (caller, callee) dependency of ``snapshot``, the probability that a
    failure of the callee reaches the caller from the edge's attributes alone (no
    learned ``propagation``). Pairs that are not edges are left out."""
    edges = snapshot.edges
    bare = replace(edges, learned=np.full(len(edges.src), np.nan))
    p = edge_probabilities(bare, snapshot.n, params)[0]
    refs = snapshot.refs
    index = {(refs[s], refs[d]): i for i, (s, d, k) in
             enumerate(zip(edges.src.tolist(), edges.dst.tolist(), edges.kind.tolist(),
                           strict=True)) if k == DEPENDS_ON}
    return {pair: float(p[index[pair]]) for pair in pairs if pair in index}
