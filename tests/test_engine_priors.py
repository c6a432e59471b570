"""Memory's outcome counts update the structural prior by a Beta update."""

from __future__ import annotations

import pytest

from ccm.engine.priors import ANY, NO_PRIORS, Beta, Priors, PriorTable


def test_an_exact_entry_wins_over_the_kind_wide_fallback():
    table = PriorTable({("deploy", "service:a"): Beta(1, 9), ("deploy", ANY): Beta(0, 1)})
    assert table.lookup("deploy", "service:a") == Beta(1, 9)
    assert table.lookup("deploy", "service:z") == Beta(0, 1)
    assert table.lookup("restart", "service:a") is None


def test_no_priors_knows_nothing_and_satisfies_the_protocol():
    assert NO_PRIORS.lookup("deploy", "service:a") is None
    assert isinstance(NO_PRIORS, Priors) and len(NO_PRIORS) == 0


def test_the_update_moves_halfway_after_as_many_outcomes_as_the_strength():
    assert Beta(10, 0).update(0.1, 10) == pytest.approx(0.55)
    assert Beta(0, 0).update(0.1, 10) == pytest.approx(0.1)


def test_negative_counts_are_refused():
    with pytest.raises(ValueError, match="counts"):
        Beta(-1, 0)
