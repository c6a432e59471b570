"""Performance benchmark: the same as ``ccm bench perf`` (see its --help).

    python benchmarks/perf.py --edges 1000 --edges 1000000 --json out/perf.json
"""

from ccm.cli.bench_cmd import perf_cmd

if __name__ == "__main__":
    perf_cmd(prog_name="benchmarks/perf.py")
