"""What a method is, what it returns, and the chain builder the baselines share.

A method answers a :class:`~ccm.bench.question.Question` with ranked
:class:`Ranked` hypotheses, best first: a root (a ``change:`` node, or a component
for a spontaneous failure) and a chain from the root to a symptom.

The baselines rank roots; they all turn a root into a chain the same way
(:func:`chain_to_symptom`): the change, the configuration key it set (if any), its
target, then the shortest dependency path to the user-visible alerting node. Errors,
latency and outages travel from a callee to its callers, so the path climbs
``DEPENDS_ON`` edges backwards; a ``traffic_drop`` alert is reached the other way
(caller to callee). The user-visible node is an alerting entrypoint when one is
reachable, else the reachable alerting node farthest from the root.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from ccm.bench.question import ChangeInfo, Question

__all__ = ["Baseline", "Method", "Ranked", "chain_to_symptom", "distinct_roots", "root_prefix"]


@dataclass(frozen=True, slots=True)
class Ranked:
    """One hypothesis: its root, its chain (cause first) and the method's score."""

    root: str
    chain: tuple[str, ...]
    score: float


class Method(Protocol):
    """A root-cause method: ``rank(question, k)`` returns at most ``k`` hypotheses with
    distinct roots, best first. ``name`` is its key in the results. ``prepare()`` does
    one-off work (loading compiled kernels) before the timed runs."""

    name: str
    description: str

    def prepare(self) -> None: ...

    def rank(self, question: Question, k: int) -> list[Ranked]: ...


class Baseline:
    """Shared by the baselines: nothing to prepare."""

    def prepare(self) -> None:
        return None


def distinct_roots(ranked: Iterable[Ranked], k: int) -> list[Ranked]:
    """The first ``k`` hypotheses whose roots were not seen before, in order."""
    out: list[Ranked] = []
    seen: set[str] = set()
    for r in ranked:
        if r.root not in seen:
            seen.add(r.root)
            out.append(r)
            if len(out) == k:
                break
    return out


def root_prefix(q: Question, change: ChangeInfo) -> list[str]:
    """``[change, config key, target]`` for a configuration change, else ``[change, target]``."""
    prefix = [change.ref]
    configs = change.config_nodes
    if configs:
        prefix.append(configs[0])
    if change.target and change.target not in prefix:
        prefix.append(change.target)
    return prefix


def _bfs(q: Question, start: str, upstream: bool) -> dict[str, str | None]:
    step = q.callers if upstream else q.callees
    parent: dict[str, str | None] = {start: None}
    todo = deque([start])
    while todo:
        u = todo.popleft()
        for v in step.get(u, ()):
            if v not in parent:
                parent[v] = u
                todo.append(v)
    return parent


def _path(parent: dict[str, str | None], end: str) -> list[str]:
    out = [end]
    while (p := parent[out[-1]]) is not None:
        out.append(p)
    return out[::-1]


def _depth(parent: dict[str, str | None], node: str) -> int:
    return len(_path(parent, node)) - 1


def _pick(q: Question, parent: dict[str, str | None], nodes: set[str]) -> str | None:
    reach = [n for n in nodes if n in parent]
    if not reach:
        return None
    first = {a.node: a.time for a in reversed(q.alerts)}

    def entry(n: str) -> bool:
        node = q.graph.nodes.get(n)
        return bool(node and node.attrs.get("entrypoint"))

    entries = [n for n in reach if entry(n)]
    if entries:
        return min(entries, key=lambda n: (_depth(parent, n), first.get(n, 0), n))
    return min(reach, key=lambda n: (-_depth(parent, n), first.get(n, 0), n))


def chain_to_symptom(q: Question, root: str) -> tuple[str, ...]:
    """The chain from ``root`` (a change or a component) to the user-visible alerting node."""
    change = next((c for c in q.changes if c.ref == root), None)
    prefix = root_prefix(q, change) if change else [root]
    start = prefix[-1]
    if start not in q.graph.nodes:
        return tuple(prefix)
    upward = {a.node for a in q.alerts if a.signal != "traffic_drop"}
    downward = {a.node for a in q.alerts if a.signal == "traffic_drop"}
    for nodes, up in ((upward, True), (downward, False)):
        parent = _bfs(q, start, up)
        end = _pick(q, parent, nodes)
        if end is not None:
            return tuple(prefix[:-1] + _path(parent, end))
    return tuple(prefix)
