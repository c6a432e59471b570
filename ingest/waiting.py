"""Batches that wait: their edges named nodes no batch had written yet.

A batch whose edges name a node no source has written yet (a Kubernetes
Deployment naming a Service of a later file, an edge to a node a later line
defines) waits; :meth:`Waiting.retry` rebuilds and writes them when a stage ends
and when the run ends. Batches whose edges name each other's nodes (a cycle
across batches) are written together in one transaction, each counted apart; a
cycle of more than :data:`MAX_TOGETHER` facts is written nodes first. Within
all of this a record the store refuses is rejected alone (:mod:`ingest.records`).
"""

from __future__ import annotations

from ccm.errors import BatchRejected
from graph_schema import FactError, NodeFact
from ingest.core import Batch, FileReport
from ingest.records import Ready, Sink, ready, rebuild, unknown_node

#: the most facts written as one transaction when batches wait for each other; a
#: bigger cycle is written nodes first (a Neo4j transaction holds its state in memory)
MAX_TOGETHER = 20_000

__all__ = ["MAX_TOGETHER", "Waiting"]


class Waiting:
    """The batches of a run that wait for nodes, and their retries."""

    def __init__(self, run: Sink) -> None:
        self.run = run
        self.batches: list[tuple[Batch, FileReport]] = []

    def retry(self, final: bool) -> None:
        """Write the waiting batches that can be now (rebuilt: names resolved afresh),
        together when they wait for each other; ``final``: reject the records of those
        still naming nodes nothing defines, else keep them waiting."""
        pending, self.batches = self.batches, []
        while pending:
            still: list[tuple[Batch, FileReport]] = []
            for batch, fr in pending:
                again = rebuild(batch)
                token = self.run.ctx.resolver.seal()
                if again.error is not None:
                    self.run.reject(again, fr, str(again.error), token)
                elif not self.run.write(again, fr, token, retry=True):
                    still.append((batch, fr))
            if len(still) == len(pending) and len(still) > 1:
                # no batch can go first: their edges name each other's nodes (a cycle
                # across batches); written together they can
                remaining = self._together(still, final)
                if len(remaining) < len(still):
                    pending = remaining
                    continue
            if len(still) == len(pending):
                if not final:
                    self.batches = still
                    return
                for batch, fr in still:
                    again = rebuild(batch)
                    token = self.run.ctx.resolver.seal()
                    if again.error is not None:
                        self.run.reject(again, fr, str(again.error), token)
                    else:
                        self.run.write(again, fr, token)
                return
            pending = still

    def _together(self, items: list[tuple[Batch, FileReport]], final: bool
                        ) -> list[tuple[Batch, FileReport]]:
        """Write waiting batches in one transaction, each counted apart; a batch that
        still names a node nothing defines is taken out (kept waiting unless
        ``final``) and the others tried again; a record refused for another reason is
        rejected alone and the group tried again without it. Returns those waiting."""
        group: list[tuple[Batch, Batch, FileReport, int, Ready]] = []
        waiting: list[tuple[Batch, FileReport]] = []
        for batch, fr in items:
            again, token = rebuild(batch), self.run.ctx.resolver.seal()
            try:
                if again.error is not None:
                    raise again.error
                group.append((batch, again, fr, token, ready(again)))
            except FactError as exc:
                self.run.reject(again, fr, str(exc), token)
        if sum(len(g[4].facts) for g in group) > MAX_TOGETHER:
            return self._nodes_first(group, final)
        while group:
            sizes = [len(g[4].facts) for g in group]
            try:
                result = self.run.ctx.store.write([f for g in group for f in g[4].facts],
                                              validated=True, parts=sizes)
            except BatchRejected as exc:
                k, index = _part_of(exc.index or 0, sizes)
                batch, again, fr, token, rd = group[k]
                if unknown_node(exc) and not final and not rd.names_lost(exc):
                    group.pop(k)
                    self.run.ctx.resolver.discard(token)
                    waiting.append((batch, fr))
                elif not rd.drop(exc.error, index):
                    group.pop(k)
                    self.run.reject(again, fr, str(exc), token)
                continue
            for (_, again, fr, token, rd), part in zip(group, result.parts, strict=True):
                self.run.written(again, fr, token, rd, part)
            break
        return waiting

    def _nodes_first(self, group: list[tuple[Batch, Batch, FileReport, int, Ready]],
                           final: bool) -> list[tuple[Batch, FileReport]]:
        """Too big to write together: write every batch's nodes, then every batch. A
        batch refused in the second step is written alone (its bad records rejected;
        an edge to a node nothing defines keeps the nodes the first step wrote)."""
        node_counts = []
        for _, _, fr, _, rd in group:
            nodes = [f for f in rd.facts if isinstance(f, NodeFact)]
            node_counts.append(len(nodes))
            if nodes:
                result = self.run.ctx.store.write(nodes, validated=True)
                fr.added += result.added
                fr.closed += result.closed
                self.run.ctx.resolver.commit(self.run.ctx.resolver.seal(), (f.ref for f in nodes))
        waiting: list[tuple[Batch, FileReport]] = []
        for (batch, again, fr, token, rd), n_nodes in zip(group, node_counts, strict=True):
            try:
                result = self.run.ctx.store.write(rd.facts, validated=True)
            except BatchRejected as exc:
                if unknown_node(exc) and not final and not rd.names_lost(exc):
                    self.run.ctx.resolver.discard(token)
                    waiting.append((batch, fr))
                elif not self.run.write(again, fr, token):
                    waiting.append((batch, fr))
                continue
            result.unchanged = max(0, result.unchanged - n_nodes)
            self.run.written(again, fr, token, rd, result)
        return waiting


def _part_of(index: int, sizes: list[int]) -> tuple[int, int]:
    """Which part of a write made of parts of ``sizes`` holds fact ``index``, and the
    fact's index in that part."""
    for k, n in enumerate(sizes):
        if index < n:
            return k, index
        index -= n
    return len(sizes) - 1, index + sizes[-1]
