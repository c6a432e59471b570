"""ccm.bench: the chain-match benchmark (root-cause chains scored against postmortems).

>>> from ccm.bench import load_cases, run_cases, methods   # doctest: +SKIP
>>> result = run_cases(load_cases(["benchmarks/cases"]), methods.all_methods())  # doctest: +SKIP
>>> result.to_dict()["methods"]["latest_change"]["root@1"]  # doctest: +SKIP
"""

from ccm.bench import methods
from ccm.bench.cases import Case, load_case, load_cases
from ccm.bench.runner import BenchResult, run_cases

__all__ = ["BenchResult", "Case", "load_case", "load_cases", "methods", "run_cases"]
