"""CCM, the Context & Control Model: a causal production-context graph service with an
impact-prediction engine."""

__version__ = "0.1.0"
