"""Small building blocks the kernels share: a binary heap and a counter-based RNG.

All are ``njit`` functions on arrays and scalars, inlined into the kernels.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_TO_UNIT = 1.0 / 9007199254740992.0  # 2 ** -53


@njit(cache=True, nogil=True, inline="always")
def splitmix(state: np.uint64) -> tuple[np.uint64, np.uint64]:  # pragma: no cover - jitted
    """One SplitMix64 step: (next state, 64 random bits)."""
    state = state + _GOLDEN
    z = state
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    return state, z ^ (z >> np.uint64(31))


@njit(cache=True, nogil=True, inline="always")
def uniform(state: np.uint64) -> tuple[np.uint64, float]:  # pragma: no cover - jitted
    """A uniform float in [0, 1) and the next state."""
    state, z = splitmix(state)
    return state, float(z >> np.uint64(11)) * _TO_UNIT


@njit(cache=True, nogil=True, inline="always")
def stream(seed: int, sample: int) -> np.uint64:  # pragma: no cover - jitted
    """The independent RNG state of one sample: a pure function of (seed, sample), so
    results do not depend on how samples are spread over threads."""
    s = np.uint64(seed) * _MIX1 + np.uint64(sample) * _GOLDEN + _MIX2
    s, z = splitmix(s)
    return z


# -- a min-heap of (float distance, state) with lazy deletion --------------------------
@njit(cache=True, nogil=True, inline="always")
def fheap_push(keys: np.ndarray, items: np.ndarray, size: int, key: float,
               item: int) -> int:  # pragma: no cover - jitted
    i = size
    keys[i] = key
    items[i] = item
    while i > 0:
        parent = (i - 1) >> 1
        if keys[parent] < keys[i] or (keys[parent] == keys[i] and items[parent] <= items[i]):
            break
        keys[parent], keys[i] = keys[i], keys[parent]
        items[parent], items[i] = items[i], items[parent]
        i = parent
    return size + 1


@njit(cache=True, nogil=True, inline="always")
def fheap_pop(keys: np.ndarray, items: np.ndarray, size: int) -> tuple[float, int, int]:  # pragma: no cover
    """Remove the minimum; return (its key, its item, new size)."""
    top_key = keys[0]
    top = items[0]
    size -= 1
    keys[0] = keys[size]
    items[0] = items[size]
    i = 0
    while True:
        left = 2 * i + 1
        if left >= size:
            break
        child = left
        right = left + 1
        if right < size and (keys[right] < keys[left]
                             or (keys[right] == keys[left] and items[right] < items[left])):
            child = right
        if keys[i] < keys[child] or (keys[i] == keys[child] and items[i] <= items[child]):
            break
        keys[child], keys[i] = keys[i], keys[child]
        items[child], items[i] = items[i], items[child]
        i = child
    return top_key, top, size
