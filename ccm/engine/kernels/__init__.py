"""The engine's Numba kernels: private functions on arrays and scalars only.

Every kernel is ``njit`` (no object mode) with ``cache=True`` and ``nogil=True``;
the Monte Carlo and hypothesis-scoring kernels are ``parallel=True``. Each has a
networkx twin in :mod:`ccm.engine.oracle` and a test that they agree.

:func:`warm_up` compiles (or loads from Numba's on-disk cache) every kernel on a
tiny graph and returns the seconds it took, so that results can report compile
time apart from run time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

from ccm.engine.kernels._cascade import _cascades, _cascades_serial, _coin_table
from ccm.engine.kernels._paths import _max_product, _walk_back
from ccm.engine.kernels._propagate import (
    _noisy_or_dense,
    _noisy_or_sparse,
    _reach,
    _topo_rank,
)
from ccm.engine.kernels._rca import (
    ALERT_TD,
    ALERT_UP,
    MONITORED,
    NO_TIME,
    _latest_cause_time,
    _score_hypotheses,
)

__all__ = [
    "ALERT_TD", "ALERT_UP", "MONITORED", "NO_TIME", "_cascades", "_cascades_serial", "_coin_table",
    "_latest_cause_time", "_max_product", "_noisy_or_dense", "_noisy_or_sparse", "_reach",
    "_score_hypotheses", "_topo_rank", "_walk_back", "compile_seconds", "cores_if_free",
    "parallel_lock", "warm_up",
]

_lock = threading.Lock()
_compiled: list[float] = []

#: held around every call of a ``parallel=True`` kernel: Numba's ``workqueue``
#: threading layer (the only one guaranteed present) aborts when two Python threads
#: run parallel kernels at once, and each such call already uses every core.
parallel_lock = threading.Lock()


@contextmanager
def cores_if_free() -> Iterator[bool]:
    """Whether this thread may run a parallel kernel now: True (holding
    :data:`parallel_lock` until the block ends) when no other thread runs one, else
    False at once: the caller then runs the kernel's serial twin on its own thread
    instead of waiting. Under concurrent requests the cores are busy anyway, and the
    serial twins never touch Numba's threading layer, so this is safe whatever the
    layer (``workqueue`` aborts on concurrent parallel kernels)."""
    got = parallel_lock.acquire(blocking=False)
    try:
        yield got
    finally:
        if got:
            parallel_lock.release()


def _tiny() -> dict[str, np.ndarray]:
    """A 3-node chain 0 <- 1 <- 2 (2 depends on 1 depends on 0), in both CSR forms."""
    i32, i64 = np.int32, np.int64
    return {
        "in_ptr": np.array([0, 1, 2, 2], i64), "in_idx": np.array([1, 2], i32),
        "out_ptr": np.array([0, 0, 1, 2], i64), "out_idx": np.array([0, 1], i32),
        "p": np.array([0.5, 0.5]), "order": np.array([0, 1, 2], i32),
        "pos": np.array([0, 1, 2], i32), "comp": np.array([0, 1, 2], i32),
        "cyclic": np.zeros(3, np.bool_), "seeds": np.array([0], i32),
        "seed_s": np.array([1.0]), "flags": np.array([1, 3, 1], i64),
        "times": np.zeros(3, i64),
    }


def _run_all() -> None:
    t = _tiny()
    _topo_rank(3, np.array([0, 1, 2, 2], np.int64), np.array([1, 2], np.int64),
               np.array([0, 1, 1], np.int64))
    _reach(3, t["in_ptr"], t["in_idx"], t["p"], t["seeds"])
    _noisy_or_dense(3, t["in_ptr"], t["in_idx"], t["p"], t["out_ptr"], t["out_idx"], t["p"],
                    t["order"], t["pos"], t["comp"], t["cyclic"], t["seeds"], t["seed_s"],
                    1e-12, 100)
    _noisy_or_sparse(3, t["in_ptr"], t["in_idx"], t["p"], t["out_ptr"], t["out_idx"], t["p"],
                     t["comp"], t["cyclic"], 1, t["seeds"], t["seed_s"], 0.0, 1e-12, 100)
    eid = np.array([0, 1], np.int64)
    _cascades(3, t["in_ptr"], t["in_idx"], eid, t["p"], t["out_ptr"], t["out_idx"], eid,
              t["p"], t["order"], t["pos"], t["comp"], t["cyclic"], t["seeds"], t["seed_s"],
              np.ones(3, np.bool_), np.ones(3), 4, 0, 0, np.empty((0, 0), np.uint64), 2)
    _cascades_serial(3, t["in_ptr"], t["in_idx"], eid, t["p"], t["out_ptr"], t["out_idx"],
                     eid, t["p"], t["order"], t["pos"], t["comp"], t["cyclic"], t["seeds"],
                     t["seed_s"], np.ones(3, np.bool_), np.ones(3), 4, 0, 0,
                     _coin_table(eid, t["p"], 0, 1))
    w = -np.log(t["p"])
    dist, pred = _max_product(3, t["in_ptr"], t["in_idx"], w, t["out_ptr"], t["out_idx"], w,
                              True, t["seeds"], np.zeros(1))
    _walk_back(pred, dist, np.array([0, 2], np.int64))
    _latest_cause_time(3, t["out_ptr"], t["out_idx"], t["in_ptr"], t["in_idx"],
                       np.array([1], np.int32), np.array([5], np.int64),
                       np.array([True]))
    _score_hypotheses(3, t["in_ptr"], t["in_idx"], t["p"], t["p"], t["out_ptr"], t["out_idx"],
                      t["p"], t["p"], t["comp"], t["cyclic"], np.array([0, 1], np.int64),
                      t["seeds"], t["seed_s"], np.array([NO_TIME], np.int64), t["flags"],
                      t["times"], t["times"], 0.01, 0.1, 0.2, 0.7, 0.8, 0, 1e-4, 1e-12, 100,
                      0.05,
                      np.array([0], np.int64), True, 2)


def warm_up() -> float:
    """Compile every kernel once per process; return the seconds this call spent on it
    (0.0 when already done)."""
    with _lock:
        if _compiled:
            return 0.0
        start = time.perf_counter()
        _run_all()
        _compiled.append(time.perf_counter() - start)
        return _compiled[0]


def compile_seconds() -> float | None:
    """Seconds the first :func:`warm_up` took in this process (None before it ran)."""
    return _compiled[0] if _compiled else None
