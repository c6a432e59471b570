"""How many Monte Carlo cascades an impact prediction needs: the error of the p95
figures (services and traffic share) and the time per prediction, by sample count,
and for predictions run to a precision (at most ``--max-samples``, stopping once their
figures are known to that relative precision; see ccm.engine.impact.settled).

On the API load benchmark's 10,000-service graph (built or reused like `ccm bench
load`), for the services with the largest blast radii (the hubs, where the cascades
cost most) and for services drawn at random (what the load benchmark asks), each
prediction's p95 at ``--samples`` is compared with a reference of ``--reference``
cascades under another seed. Errors are relative to the reference (and absolute, in
services). Times are CPU time of one thread per whole prediction, every kernel run
on that thread (as the server runs them under concurrent requests).

    python benchmarks/impact_samples.py [--hubs 25] [--random 150]
        [--samples 500 1000 2000] [--precision 0.02 0.03] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from ccm.bench.load import T_END, build_store, default_store_path
from ccm.engine import Action, impact, predict_impact
from ccm.store import open_store


def _errors(snap: Any, targets: list[str], configs: list[tuple[int, float]], reference: int
            ) -> dict[str, Any]:
    rows: dict[tuple[int, float], list[tuple[float, ...]]] = {c: [] for c in configs}
    for ref in targets:
        action = Action("restart", ref)
        truth = predict_impact(snap, action, samples=reference, seed=99)
        for samples, precision in configs:
            start = time.thread_time()
            got = predict_impact(snap, action, samples=samples, seed=7, precision=precision)
            spent = time.thread_time() - start
            ds = abs(got.services.p95 - truth.services.p95)
            dt = abs(got.traffic.p95 - truth.traffic.p95)
            rows[(samples, precision)].append((ds, ds / max(truth.services.p95, 1.0), dt,
                                               dt / max(truth.traffic.p95, 1e-9), spent,
                                               got.samples))
    out = {}
    for (samples, precision), r in rows.items():
        a = np.array(r)
        name = str(samples) if precision == 0 else f"{samples} to {precision:g}"
        out[name] = {
            "services_p95_abs_err": {"mean": round(float(a[:, 0].mean()), 3),
                                     "max": round(float(a[:, 0].max()), 3)},
            "services_p95_rel_err": {"mean": round(float(a[:, 1].mean()), 4),
                                     "max": round(float(a[:, 1].max()), 4)},
            "traffic_p95_rel_err": {"mean": round(float(a[:, 3].mean()), 4),
                                    "max": round(float(a[:, 3].max()), 4)},
            "cpu_ms": {"median": round(float(np.median(a[:, 4])) * 1000, 3),
                       "max": round(float(a[:, 4].max()) * 1000, 3)},
            "samples_drawn": {"median": float(np.median(a[:, 5])), "max": int(a[:, 5].max())},
        }
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--services", type=int, default=10_000)
    ap.add_argument("--hubs", type=int, default=25, help="largest blast radii to measure")
    ap.add_argument("--random", type=int, default=150, help="random services to measure")
    ap.add_argument("--samples", type=int, nargs="+", default=[500, 1000, 2000])
    ap.add_argument("--precision", type=float, nargs="*", default=[0.02, 0.03],
                    help="precisions to run to (at most --max-samples cascades)")
    ap.add_argument("--max-samples", type=int, default=2000)
    ap.add_argument("--reference", type=int, default=20_000)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    configs = [(n, 0.0) for n in args.samples] + [(args.max_samples, p) for p in args.precision]
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    impact.PARALLEL_WORK = 2**62  # one thread: its CPU time is the whole cost
    path = build_store(default_store_path(args.services, 0), args.services, 0)
    store = open_store(str(path))
    try:
        snap = store.snapshot(T_END)
    finally:
        store.close()
    # blast radius of each service: its expected impacted count (the noisy-OR sum)
    rng = np.random.default_rng(5)
    services = [r for r in snap.refs if r.startswith("service:")]
    sizes = {r: sum(predict_impact(snap, Action("restart", r), samples=64).nodes.values())
             for r in services}
    hubs = sorted(sizes, key=lambda r: -sizes[r])[:args.hubs]
    drawn = [services[i] for i in rng.choice(len(services), args.random, replace=False)]
    report = {"graph": {"services": args.services, "store": str(path)},
              "reference_samples": args.reference,
              "hubs": {"targets": len(hubs),
                       "expected_impacted": [round(sizes[h], 1) for h in hubs],
                       "by_samples": _errors(snap, hubs, configs, args.reference)},
              "random": {"targets": len(drawn),
                         "by_samples": _errors(snap, drawn, configs, args.reference)},
              "machine": {"cpus": os.cpu_count(), "loadavg": os.getloadavg()}}
    text = json.dumps(report, indent=2)
    if args.json:
        args.json.write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
