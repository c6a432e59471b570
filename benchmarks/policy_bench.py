"""Policy benchmark: time each rule's evaluation, the whole verdict, and (separately)
loading the control-plane state from a store. The engine's prediction is excluded:
the impact is a fixed summary with 200 node probabilities.

    python benchmarks/policy_bench.py                 # default policy, 5000 evaluations
    python benchmarks/policy_bench.py --n 20000 --json out/policy_bench.json
    python benchmarks/policy_bench.py --with-engine   # also a whole proposal on the demo

The context is deliberately busy: 50 grants, 20 kill switches, 300 recent proposals
per rate-limit scope, 500 activity events for drift detection, a 10-step session.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ccm.policy import EvalContext, Grant, ImpactSummary, PolicyState, Switch, load_policy  # noqa: E402
from ccm.policy.config import Policy  # noqa: E402
from ccm.policy.proposal import Proposal  # noqa: E402
from tests.controlkit import (  # noqa: E402
    AGENT_KEY,
    NOW,
    FixedPredictor,
    controller,
    identities,
    setup_store,
)

MIN = 60 * 1_000_000


def busy_context(policy: Policy) -> EvalContext:
    from ccm.policy.registry import load_registry

    p = Proposal("config_change", "service:cart", {"key": "REDIS_TIMEOUT_MS", "value": "50",
                                                   "previous_value": "500"},
                 "deploy-bot", "claude", "4.5", session="s-1", step=10, plan_length=12,
                 created_at=NOW).signed(AGENT_KEY)
    aid = p.action_id
    grants = [Grant(f"g-{i}", "deploy-bot", ("restart", "scale"), (f"service:x{i}*",),
                    NOW + MIN) for i in range(49)]
    grants.append(Grant("g-cart", "deploy-bot", ("*",), ("service:*",), NOW + 60 * MIN))
    switches = {f"service:other-{i}": Switch(f"service:other-{i}", paused=True)
                for i in range(20)}
    events = [(NOW - (300 - i) * 10_000_000, f"act-{i}") for i in range(300)] + [(NOW, aid)]
    activity = [{"t": NOW - (500 - i) * 7_000_000, "action": ("config_change", "restart",
                                                              "deploy")[i % 3],
                 "id": f"act-{i}"} for i in range(500)]
    nodes = {f"service:s{i}": 1.0 / (i + 1) for i in range(200)}
    nodes["service:frontend"] = 0.4
    impact = ImpactSummary(0.18, 1.2, 1, 3, 0.2, 0.0, 1.0, nodes,
                           {"service:frontend": ["service:cart", "service:frontend"]}, 2000, 7)
    zones = {r: ("internal" if i % 2 else "public") for i, r in enumerate(nodes)}
    state = PolicyState(
        identity=identities()[0], switches=switches, grants=grants,
        rate_events={"service:cart": events, "agent:deploy-bot": events},
        session_calls=tuple(f"act-s{i}" for i in range(9)) + (aid,), activity=activity,
        autonomy={"level": "review", "clean": 12}, audit_ready=True, target_attrs={
            "tier": "high", "zone": "internal"}, zones=zones)
    return EvalContext(p, aid, load_registry().get(p.action), impact, state, NOW, NOW)


def time_calls(fn: Any, n: int, repeats: int = 5) -> float:
    """Median over ``repeats`` of the mean seconds per call over ``n`` calls."""
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(n):
            fn()
        runs.append((time.perf_counter() - start) / n)
    return statistics.median(runs)


def bench_rules(policy: Policy, n: int) -> dict[str, float]:
    ctx = busy_context(policy)
    out = {}
    for rule in policy.rules:
        out[rule.label] = time_calls(lambda r=rule: r.evaluate(ctx), n)
    out["(whole verdict)"] = time_calls(lambda: policy.decide(ctx), max(1, n // 5))
    return out


def bench_state(n: int) -> dict[str, float]:
    """Seconds to load state and evaluate one proposal end to end on an embedded store
    (records, counters, a graph read, audit entries), excluding the engine."""
    from ccm.store import EmbeddedStore
    from tests.conftest import FakeClock
    from tests.controlkit import proposal

    with tempfile.TemporaryDirectory() as tmp:
        clock = FakeClock()
        store = EmbeddedStore(Path(tmp) / "b.sqlite", clock=clock)
        setup_store(store, clock)
        ctl = controller(store, clock, predictor=FixedPredictor())
        rec = ctl.propose(proposal(clock))
        load = time_calls(lambda: ctl.context(rec, None, "execute"), n, repeats=3)
        i = [0]

        def propose() -> None:
            i[0] += 1
            clock.advance(1000)
            ctl.propose(proposal(clock, nonce=str(i[0])))

        full = time_calls(propose, max(1, n // 10), repeats=1)
        store.close()
    return {"load state (records + graph read)": load,
            "propose + evaluate + audit (embedded store)": full}


def bench_with_engine(n: int) -> dict[str, float]:
    """Seconds per proposal on the demo production (Online Boutique) with the engine's
    prediction (2000 cascades), the whole lifecycle step included."""
    from ccm.actions.lifecycle import Controller
    from ccm.cli.demo import load_demo
    from ccm.demo.memory_story import T1, _set_up
    from ccm.policy.proposal import Proposal
    from graph_schema.timeutil import ManualClock
    from tests.controlkit import AUDIT_KEY

    with tempfile.TemporaryDirectory() as tmp:
        store = load_demo(Path(tmp) / "demo.sqlite")
        clock = ManualClock(T1)
        ctl = Controller(store, signer=AUDIT_KEY, clock=clock)
        _set_up(ctl, AGENT_KEY, clock)
        i = [0]

        def propose() -> None:
            i[0] += 1
            clock.now += 1000
            ctl.propose(Proposal("config_change", "service:recommendationservice",
                                 {"key": "K", "value": str(i[0]), "previous_value": "0"},
                                 "shop-bot", "demo-model", "1", created_at=clock.now,
                                 nonce=str(i[0])).signed(AGENT_KEY))

        propose()  # compile or load the kernels once
        full = time_calls(propose, n, repeats=1)
        store.close()
    return {"propose on the demo production, engine included": full}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=5000, help="evaluations per rule per repeat")
    ap.add_argument("--policy", default=None, help="policy file (default: shipped)")
    ap.add_argument("--json", dest="json_out", default=None, help="write results here")
    ap.add_argument("--with-engine", action="store_true",
                    help="also time whole proposals on the demo production with the engine")
    args = ap.parse_args(argv)
    policy = load_policy(args.policy)
    rules = bench_rules(policy, args.n)
    state = bench_state(max(20, args.n // 50))
    if args.with_engine:
        state.update(bench_with_engine(10))
    print(f"{'rule':<40} {'per evaluation':>16}")
    for name, s in rules.items():
        print(f"{name:<40} {s * 1e6:>13.1f} µs")
    print()
    for name, s in state.items():
        print(f"{name:<44} {s * 1e3:>9.2f} ms")
    if args.json_out:
        Path(args.json_out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json_out).write_text(json.dumps(
            {"n": args.n, "rules_us": {k: v * 1e6 for k, v in rules.items()},
             "store_ms": {k: v * 1e3 for k, v in state.items()},
             "python": sys.version.split()[0]}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
