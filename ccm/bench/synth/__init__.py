"""Synthetic fault injection on real topologies: benchmark cases with known truth.

:mod:`~ccm.bench.synth.topology` (the six applications as native JSONL),
:mod:`~ccm.bench.synth.world` (per-case attributes), :mod:`~ccm.bench.synth.faults`
(the faulty change and the cascade: the generator's own stochastic model, separate
from the engine), :mod:`~ccm.bench.synth.scenario` (alerts, noise, distractors,
question time), :mod:`~ccm.bench.synth.writers` (case files) and
:mod:`~ccm.bench.synth.generate` (reproducible runs).
"""

from ccm.bench.synth.generate import generate, load_topologies

__all__ = ["generate", "load_topologies"]
