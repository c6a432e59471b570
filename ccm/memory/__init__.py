"""ccm.memory: outcomes and resolved incidents written back as facts, read back as the
priors the engine uses and as "seen before" matches for root-cause analysis."""

from ccm.memory.calibration import Calibration, calibrate, plot
from ccm.memory.memory import Memory
from ccm.memory.priors import Beta, EdgeEvidence, Priors
from ccm.memory.recall import PastIncident, learn_priors, root_signature, seen_before

__all__ = [
    "Beta", "Calibration", "EdgeEvidence", "Memory", "PastIncident", "Priors", "calibrate",
    "learn_priors", "plot", "root_signature", "seen_before",
]
