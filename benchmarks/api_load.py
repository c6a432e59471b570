"""The API load benchmark as a script: the same as ``ccm bench load`` (see --help).

    python benchmarks/api_load.py --json load.json
"""

from __future__ import annotations

from ccm.cli.bench_load import load_cmd

if __name__ == "__main__":
    load_cmd(prog_name="api_load.py")
