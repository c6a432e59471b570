"""Predictions remembered for the same question on the same graph.

The engine's prediction is a deterministic function of the snapshot, the action,
the priors and the seed (the Monte Carlo cascades are seeded), so an agent that
asks ``POST /v1/impact`` and then proposes the same action, or several agents
asking about the same change, get the answer computed once. Entries are keyed by
the snapshot and priors objects themselves (held alive by the entry), so a new
snapshot (the store changed, or time moved past the reuse window) or new priors
never hit an old entry.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from ccm.audit.canonical import canonical_json

__all__ = ["MemoPredictor"]

Predictor = Callable[[Any, Any, Any, Any, int], Any]


class MemoPredictor:
    """Wraps a control-plane predictor ``(store, proposal, spec, priors, at) -> impact``
    with a small LRU of recent answers (see the module docstring)."""

    def __init__(self, predictor: Predictor, size: int = 256) -> None:
        self.predictor = predictor
        self.size = size
        self._items: OrderedDict[tuple[Any, ...], tuple[Any, Any, Any]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0

    def __call__(self, store: Any, proposal: Any, spec: Any, priors: Any, at: int) -> Any:
        snapshot = store.snapshot(valid_at=at)
        key = (id(snapshot), id(priors), proposal.action, proposal.target,
               canonical_json(dict(proposal.inputs)))
        with self._lock:
            entry = self._items.get(key)
            if entry is not None and entry[0] is snapshot and entry[1] is priors:
                self._items.move_to_end(key)
                self.hits += 1
                return entry[2]
        impact = self.predictor(store, proposal, spec, priors, at)
        with self._lock:
            self._items[key] = (snapshot, priors, impact)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return impact
