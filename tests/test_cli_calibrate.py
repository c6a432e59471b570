"""``ccm calibrate``'s learned balance: counts and rates per component kind."""

from __future__ import annotations

import pytest

from ccm.cli.calibrate_cmd import balance_rows, print_balance
from ccm.cli.common import console
from ccm.memory import Beta, Priors


def test_the_balance_rows_give_counts_and_both_rates_per_component_kind():
    rows = balance_rows(Priors(balances={"cache": Beta(18, 2), "service": Beta(0, 20)}))
    assert [(r["component_kind"], r["incidents"], r["spontaneous"], r["change_caused"])
            for r in rows] == [("cache", 20, 18, 2), ("service", 20, 0, 20)]
    assert rows[0]["default_rate"] == pytest.approx(3e-4)
    assert rows[0]["learned_rate"] == pytest.approx(3e-4 * 5.444, rel=1e-3)
    assert rows[1]["learned_rate"] < rows[1]["default_rate"]


def test_the_balance_prints_as_a_table_or_says_there_is_nothing_yet():
    with console.capture() as cap:
        print_balance(balance_rows(Priors(balances={"cache": Beta(18, 2)})))
        print_balance([])
    out = cap.get()
    assert "cache" in out and "18" in out and "0.0016" in out
    assert "no resolved incident yet" in out
