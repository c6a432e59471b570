"""Property-based fuzzing of the CCM API from its own OpenAPI document (schemathesis).

Starts the API on a free loopback port on the bundled demo store (or targets
``--url``), generates requests for every operation, valid ones and invalid ones,
sends them over HTTP with an admin token, and counts responses by status. Any 5xx
is a failure (exit status 1). The test suite runs the same driver with a few
examples per operation (tests/test_api_fuzz.py); this script runs the full size:

    python benchmarks/api_fuzz.py --examples 60 --json fuzz.json
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


@dataclass
class FuzzReport:
    requests: int = 0
    by_status: Counter[int] = field(default_factory=Counter)
    by_operation: Counter[str] = field(default_factory=Counter)
    server_errors: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"requests": self.requests, "server_errors": len(self.server_errors),
                "by_status": {str(k): v for k, v in sorted(self.by_status.items())},
                "by_operation": dict(sorted(self.by_operation.items())),
                "first_server_errors": self.server_errors[:10],
                "seconds": round(self.seconds, 2)}


def fuzz(base_url: str, token: str, examples: int, *, random_seed: int = 0,
         modes: tuple[GenerationMode, ...] = (GenerationMode.POSITIVE,
                                              GenerationMode.NEGATIVE)) -> FuzzReport:
    """Up to ``examples`` generated requests per operation and mode against ``base_url``."""
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    report = FuzzReport()
    session = requests.Session()
    headers = {"Authorization": f"Bearer {token}"}
    started = time.perf_counter()
    for result in schema.get_all_operations():
        op = result.ok()
        for mode in modes:
            _fuzz_operation(op, mode, base_url, session, headers, examples, random_seed, report)
    report.seconds = time.perf_counter() - started
    return report


def _fuzz_operation(op: Any, mode: GenerationMode, base_url: str, session: requests.Session,
                    headers: dict[str, str], examples: int, random_seed: int,
                    report: FuzzReport) -> None:
    label = f"{op.method.upper()} {op.path}"

    @seed(random_seed)
    @settings(max_examples=examples, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(op.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        resp = case.call(base_url=base_url, session=session, headers=headers, timeout=60)
        report.requests += 1
        report.by_status[resp.status_code] += 1
        report.by_operation[label] += 1
        if resp.status_code >= 500:
            report.server_errors.append({"operation": label, "mode": str(mode),
                                         "status": resp.status_code,
                                         "curl": case.as_curl_command(headers=headers),
                                         "body": resp.text[:500]})

    with suppress(Unsatisfiable):  # nothing to make invalid (no parameters, negative mode)
        run()


@contextmanager
def demo_server() -> Any:
    """The API on the demo store, on a free loopback port, with an admin token."""
    from ccm.api import create_app
    from ccm.cli.demo import load_demo
    from tests.api_support import TOKENS, api_settings, serve

    with tempfile.TemporaryDirectory() as tmp:
        store = load_demo(Path(tmp) / "demo.sqlite")
        try:
            with serve(create_app(api_settings(), store=store)) as running:
                yield running.url, TOKENS["admin"][0]
        finally:
            store.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--examples", type=int, default=60,
                    help="generated requests per operation and mode (default 60)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--url", help="fuzz a running server instead (with --token)")
    ap.add_argument("--token", help="bearer token for --url (an admin token reaches most)")
    ap.add_argument("--json", dest="out", help="write the report here")
    args = ap.parse_args(argv)
    if args.url:
        report = fuzz(args.url, args.token or "", args.examples, random_seed=args.seed)
    else:
        with demo_server() as (url, token):
            report = fuzz(url, token, args.examples, random_seed=args.seed)
    data = report.to_dict()
    if args.out:
        Path(args.out).write_text(json.dumps(data, indent=2) + "\n")
    print(f"{data['requests']} requests in {data['seconds']} s; status counts "
          f"{data['by_status']}; server errors: {data['server_errors']}")
    for err in data["first_server_errors"]:
        print(f"  {err['operation']} -> {err['status']}: {err['curl']}")
    return 1 if report.server_errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
