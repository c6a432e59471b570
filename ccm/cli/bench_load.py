"""``ccm bench load``: latency and throughput of the API under concurrent clients."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from ccm.cli.bench_cmd import bench
from ccm.cli.common import console, err_console, handle_errors, print_json


@click.command("load")
@click.option("--services", type=click.IntRange(10, 1_000_000), default=10_000,
              show_default=True, help="Services in the generated graph.")
@click.option("--concurrency", "concurrency", type=click.IntRange(1, 256), multiple=True,
              default=(1, 10, 50), show_default=True, help="Concurrent clients (repeatable).")
@click.option("--impact-requests", type=click.IntRange(1, 100_000), default=500,
              show_default=True, help="At most this many /v1/impact requests per level.")
@click.option("--rca-requests", type=click.IntRange(1, 100_000), default=100,
              show_default=True, help="At most this many /v1/rca requests per level.")
@click.option("--max-seconds", type=click.FloatRange(1, 600), default=30.0, show_default=True,
              help="At most this long per endpoint and level.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Server processes (ccm serve --workers).")
@click.option("--impact-samples", type=click.IntRange(64, 100_000), default=None,
              help="Monte Carlo cascades per prediction on the server (CCM_IMPACT_SAMPLES; "
                   "default: the server's, 2000).")
@click.option("--impact-precision", type=click.FloatRange(0, 0.5), default=None,
              help="Relative precision at which the server's predictions stop drawing "
                   "cascades (CCM_IMPACT_PRECISION; 0: all; default: the server's, 0.03).")
@click.option("--writes", default="", metavar="STREAM=RATE,...",
              help="Ask while writing through the API at these rates per second: alerts "
                   "(Alertmanager posts), deploys (CDEvents), edges (Jaeger call counts), "
                   "e.g. alerts=10,deploys=1,edges=0.2. Then /v1/impact is asked by the "
                   "largest --concurrency clients and /v1/rca by one, for --max-seconds, on "
                   "a copy of the store; the report adds freshness, peak memory, store size.")
@click.option("--server-path", type=click.Path(file_okay=False, exists=True), default=None,
              help="Run the server from this checkout (its PYTHONPATH), to compare code "
                   "with the same client.")
@click.option("--store", "store_path", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Where to build (or reuse) the benchmark store (default: "
              "~/.cache/ccm/bench/api-load-<services>-s<seed>.sqlite).")
@click.option("--json", "out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the report here ({\"results\": [{endpoint, concurrency, p50_ms, "
                   "p99_ms, rps, errors}, ...]}); '-' for stdout.")
@handle_errors
def load_cmd(services: int, concurrency: tuple[int, ...], impact_requests: int,
             rca_requests: int, max_seconds: float, seed: int, workers: int,
             impact_samples: int | None, impact_precision: float | None, writes: str,
             server_path: str | None, store_path: Path | None, out: Path | None) -> None:
    """Serve a generated graph of --services services with `ccm serve` on a free loopback
    port, and measure POST /v1/impact and POST /v1/rca at each --concurrency: p50 and p99
    latency, requests per second, errors. Bounded in requests and time; loopback only.
    """
    from ccm.bench.load import LoadPlan, run_benchmark, summary_rows
    from ccm.bench.writes import parse_writes

    plan = LoadPlan(services, tuple(concurrency), impact_requests, rca_requests, max_seconds,
                    seed, workers, impact_samples, impact_precision,
                    tuple(parse_writes(writes).items()), server_path)
    err_console.print(f"Building or reusing the {services}-service store, then measuring ...")
    report = run_benchmark(plan, store_path)
    if out is not None and str(out) == "-":
        print_json(report)
        return
    if out is not None:
        import json

        out.write_text(json.dumps(report, indent=2) + "\n")
    t = Table(title=f"API load on {services} services "
                    f"({report['machine']['cpus']} CPUs)", title_justify="left")
    for col in ("endpoint", "clients", "p50 ms", "p99 ms", "req/s", "errors", "requests",
                "server CPU %", "client CPU %"):
        t.add_column(col, justify="left" if col == "endpoint" else "right")
    for row in summary_rows(report):
        t.add_row(*row)
    console.print(t)
    if "freshness" in report:
        f, rss = report["freshness"], report["server"]["peak_rss_bytes"]
        console.print(f"write -> first answer including it ({f['method']}): p50 "
                      f"{f['p50_ms']} ms, p99 {f['p99_ms']} ms, max {f['max_ms']} ms over "
                      f"{f['writes']} writes ({f['unseen']} never seen); writer's own next "
                      f"answer stale {f['own_next_answer']['stale']} of "
                      f"{f['own_next_answer']['checked']}; server peak RSS "
                      f"{(rss or 0) / 2**20:.0f} MiB; store "
                      f"{report['store']['bytes_after'] / 2**20:.1f} MiB")


def register(cli: click.Group) -> None:
    """Join the ``ccm bench`` group (which :mod:`ccm.cli.bench_cmd` adds to ``cli``)."""
    bench.add_command(load_cmd)
