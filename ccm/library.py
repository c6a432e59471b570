"""The library front door: CCM's main operations as plain functions over a store.

``import ccm`` gives these (loaded on first use, so that ``import ccm`` stays cheap):
open a store, ingest what production emits, read the graph as it was at a time,
predict an action's blast radius, rank the root causes of what is alerting, and ask
the policy for a verdict. The CLI, the HTTP API and the MCP server are doors onto the
same code.

Examples
--------
A store holding the bundled Online Boutique production (a temporary file here):

>>> import tempfile, ccm
>>> from ccm.demo.production import demo_data_dir
>>> tmp = tempfile.TemporaryDirectory()
>>> store = ccm.open_store(f"{tmp.name}/ccm.sqlite")
>>> report = ccm.ingest(store, [demo_data_dir() / "topology.jsonl"])
>>> report.ok
True
>>> g = ccm.graph_at(store)
>>> "service:cartservice" in g.nodes
True
>>> impact = ccm.predict_impact(store, "deploy", "service:cartservice", samples=200)
>>> impact.nodes["service:frontend"] > 0.5
True

An agent that is not registered, proposing unsigned and without a grant, is refused,
and the verdict says by which rules:

>>> v = ccm.decide(store, "restart", "service:cartservice").verdict
>>> v.decision, [r.rule for r in v.results if r.decision == "refuse"]
('refuse', ['identity_binding', 'signed_audit', 'sandbox_grants'])
>>> store.close(); tmp.cleanup()
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ccm.engine.types import Action, Impact, RootCauses
from ccm.store import Graph, Store, open_store
from ingest.core import DEFAULT_BATCH, IngestReport

__all__ = ["decide", "graph_at", "ingest", "open_store", "predict_impact", "root_causes"]


def ingest(store: Store, paths: Iterable[str | Path], *, fmt: str | None = None,
           at: int | None = None, batch_size: int = DEFAULT_BATCH) -> IngestReport:
    """Read files and folders into ``store`` (the format of each detected).

    Parameters
    ----------
    store : Store
        Where the facts go (:func:`open_store`).
    paths : iterable of str or Path
        Files and folders: manifests, catalogs, traces, change events, alerts...
    fmt : str, optional
        Force one format (``ccm ingest --help`` lists them) instead of detecting it.
    at : int, optional
        Valid time (microseconds since the epoch) for sources that carry none;
        default now.
    batch_size : int
        Records per transaction.

    Returns
    -------
    IngestReport
        Per file: facts added, unchanged, closed, records rejected and why.
    """
    from ingest import ingest_paths

    return ingest_paths(store, paths, fmt=fmt, at=at, batch_size=batch_size)


def graph_at(store: Store, at: int | None = None, known_at: int | None = None) -> Graph:
    """The graph as it was true at ``at``, as CCM knew it at ``known_at``.

    Parameters
    ----------
    store : Store
    at, known_at : int, optional
        Valid and knowledge times in microseconds since the epoch; default now.

    Returns
    -------
    Graph
        ``nodes`` and ``edges`` by reference, each with its attributes and validity.
    """
    return store.graph(at, known_at)


def predict_impact(store: Store, kind: str, target: str, *, at: int | None = None,
                   keys: Sequence[str] = (), samples: int = 1000, seed: int = 0) -> Impact:
    """The predicted blast radius of an action on the graph as it is at ``at``.

    Parameters
    ----------
    store : Store
    kind : str
        The action kind (``deploy``, ``config_change``, ``restart``...:
        :data:`ccm.engine.ACTION_KINDS`).
    target : str
        The node acted on, as a reference (``service:cartservice``).
    at : int, optional
        Valid time of the graph; default now.
    keys : sequence of str
        Configuration keys a ``config_change`` sets.
    samples, seed : int
        Monte Carlo cascades drawn, and their seed.

    Returns
    -------
    Impact
        Per-node impact probability, the most probable paths, impacted services and
        entrypoint traffic (mean, p50, p95).
    """
    from ccm.engine import predict_impact as engine_predict

    snap = store.snapshot(at)
    return engine_predict(snap, Action(kind, target, keys=tuple(keys)), samples=samples,
                          seed=seed)


def root_causes(store: Store, *, at: int, alerts: Sequence[str] = (),
                k: int = 5) -> RootCauses:
    """Ranked causal chains explaining what alerts at ``at``.

    Parameters
    ----------
    store : Store
    at : int
        The moment to explain (microseconds since the epoch).
    alerts : sequence of str
        Alert references to explain; default every alert firing at ``at``.
    k : int
        How many chains.

    Returns
    -------
    RootCauses
        ``chains`` ranked by posterior, each with its links and their evidence.
    """
    from ccm.ops.rca import find_root_causes

    return find_root_causes(store, at=at, alerts=alerts, k=k)


def decide(store: Store, action: str, target: str, *, inputs: Mapping[str, Any] | None = None,
           agent: str = "library", tenant: str = "default", at: int | None = None) -> Any:
    """What the policy would say of a registered action, recording nothing.

    Parameters
    ----------
    store : Store
    action : str
        A registered action's name (``ccm actions list``).
    target : str
        The node it acts on.
    inputs : mapping, optional
        The action's typed inputs.
    agent, tenant : str
        Who proposes it, and whose memory and limits apply.
    at : int, optional
        Valid time of the graph the prediction runs on; default now.

    Returns
    -------
    DryRun
        ``verdict`` (``decision``: proceed, review or refuse, with every rule's reason)
        and the predicted ``impact``.
    """
    from ccm.actions.lifecycle import Controller
    from ccm.policy.proposal import Proposal
    from graph_schema.timeutil import now_micros

    ctl = Controller(store)
    proposal = Proposal(action, target, dict(inputs or {}), agent, tenant=tenant,
                        created_at=now_micros())
    return ctl.dry_run(proposal, at)
