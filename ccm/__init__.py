"""CCM, the Context & Control Model: a causal production-context graph service with an
impact-prediction engine.

The main operations are here (see :mod:`ccm.library`): :func:`open_store`,
:func:`ingest`, :func:`graph_at`, :func:`predict_impact`, :func:`root_causes` and
:func:`decide`. They load on first use, so ``import ccm`` stays cheap.

>>> import ccm
>>> sorted(ccm.__all__)[:3]
['__version__', 'decide', 'graph_at']
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

__all__ = ["__version__", "decide", "graph_at", "ingest", "open_store", "predict_impact",
           "root_causes"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from ccm import library

        return getattr(library, name)
    raise AttributeError(f"module 'ccm' has no attribute {name!r}")
