"""ccm.viz: pictures of the graph and of CCM's answers (networkx + matplotlib), for the
notebooks, reports and ``ccm calibrate --plot``. Every function draws on a given
matplotlib ``ax`` (or a new figure) and returns it."""

from ccm.viz.charts import plot_bench, plot_priors, plot_reliability, plot_traffic
from ccm.viz.graph import (
    KIND_COLOURS,
    chain_roles,
    dependency_graph,
    draw_chain,
    draw_graph,
    draw_impact,
    layered_layout,
)

__all__ = [
    "KIND_COLOURS", "chain_roles", "dependency_graph", "draw_chain", "draw_graph",
    "draw_impact", "layered_layout", "plot_bench", "plot_priors", "plot_reliability",
    "plot_traffic",
]
