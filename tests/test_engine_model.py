"""Edge probabilities p(u, v), change priors q(c) and the time prior."""

from __future__ import annotations

import numpy as np
import pytest

from ccm.engine.model import (
    HAS_CONFIG,
    HOUR_US,
    EdgeTable,
    change_prior,
    changed_options,
    edge_probabilities,
    is_risky,
    latent_share,
    name_words,
    onset_log_density,
    onset_log_density_max,
    value_expiry,
)
from ccm.engine.params import DEFAULT_PARAMS as P
from ccm.engine.params import Params
from ccm.engine.priors import Beta, PriorTable


def probs(**features):
    n = len(next(iter(features.values()))) if features else 1
    src = features.pop("src", [0] * n)
    dst = features.pop("dst", list(range(1, n + 1)))
    table = EdgeTable.build(src, dst, **features)
    return edge_probabilities(table, max(max(src), max(dst)) + 1)


def test_a_hard_dependency_taking_all_calls_propagates_with_p_hard():
    p, share, in_share, p_td = probs(hard=[True])
    assert p[0] == pytest.approx(P.p_hard) and share[0] == 1.0 and in_share[0] == 1.0
    assert p_td[0] == pytest.approx(P.p_traffic_drop)


def test_soft_async_fallback_and_cached_each_lower_the_probability():
    base = probs(hard=[True])[0][0]
    for feature in ({"hard": [False]}, {"is_async": [True]}, {"fallback": [True]},
                    {"cached": [True]}):
        assert probs(**feature)[0][0] < base


def test_call_share_shapes_p_and_unknown_rates_take_the_mean_of_known_ones():
    p, share, _, _ = probs(calls=[90.0, 10.0, np.nan])
    np.testing.assert_allclose(share, [90 / 150, 10 / 150, 50 / 150])
    assert p[0] > p[2] > p[1]
    assert p[1] >= P.p_hard * P.share_floor


def test_retries_hide_partial_failures_but_never_below_the_floor():
    p = probs(retries=[0.0, 1.0, 50.0])[0]
    assert p[0] > p[1] > p[2]
    assert p[2] / p[0] == pytest.approx(P.retry_floor)


def test_a_learned_propagation_dominates_the_structural_estimate():
    p = probs(learned=[0.1, np.nan])[0]
    structural = p[1]
    assert p[0] == pytest.approx(P.memory_weight * 0.1 + (1 - P.memory_weight) * structural)


def test_config_edges_use_p_config_and_carry_no_traffic():
    p, _, _, p_td = probs(kind=[HAS_CONFIG])
    assert p[0] == P.p_config and p_td[0] == 0.0


def test_probabilities_never_exceed_p_max():
    p = probs(learned=[1.0], timeout_ms=[60_000.0])[0]
    assert p[0] <= P.p_max


def test_key_and_option_names_split_into_words():
    assert name_words("syncTimeout") == {"sync", "timeout"}
    assert name_words("REDIS_TIMEOUT_MS") == {"redis", "timeout", "ms"}
    assert name_words("maxPoolSize") == {"max", "pool", "size"}
    assert changed_options("redis:6379", "redis:6379,syncTimeout=50") == {"syncTimeout"}
    assert changed_options("a=1;b=2", "a=1;b=3") == {"b"}


def test_timeout_and_limit_changes_are_risky_by_key_or_by_option_never_by_description():
    assert is_risky(["REDIS_TIMEOUT_MS"])
    assert is_risky(["REDIS_ADDR"], [{"key": "REDIS_ADDR", "old": "r:6379",
                                      "new": "r:6379,syncTimeout=50"}])
    assert not is_risky(["REDIS_ADDR"], [{"key": "REDIS_ADDR", "old": "a", "new": "b"}])
    assert not is_risky(["FEATURE_COLOR"])


def test_change_prior_combines_kind_content_reversibility_and_memory():
    q0 = change_prior("deploy", "service:a")
    assert q0 == pytest.approx(0.10)
    assert change_prior("schema_migration", "datastore:db", destructive=True) == pytest.approx(
        min(P.kind_prior_of("schema_migration") * P.destructive_factor, P.q_max))
    assert change_prior("deploy", "service:a", reversible=False) > q0
    memory = PriorTable({("deploy", "service:a"): Beta(5, 0)})
    assert change_prior("deploy", "service:a", priors=memory) == pytest.approx(
        (P.prior_strength * 0.10 + 5) / (P.prior_strength + 5))
    assert change_prior("deploy", "service:b", priors=memory) == pytest.approx(q0)


def test_change_prior_is_capped():
    assert change_prior("schema_migration", "d", destructive=True, reversible=False,
                        params=Params(destructive_factor=100.0)) == P.q_max


MINUTE_US = 60_000_000


def density(minutes, latent=0.2):
    return float(np.exp(onset_log_density(minutes * MINUTE_US, latent)))


def test_the_onset_delay_is_a_density_per_hour_that_integrates_to_one():
    hours = np.logspace(-4, 5, 200_001)
    f = np.exp(onset_log_density(hours * HOUR_US, 0.3, Params(onset_min_s=1e-6)))
    assert np.trapezoid(f, hours) == pytest.approx(1.0, abs=1e-3)


def test_a_change_minutes_before_the_alert_is_far_likelier_than_one_hours_before():
    assert density(10) > 10 * density(6 * 60)
    assert density(6 * 60) > density(3 * 24 * 60) > density(30 * 24 * 60) > 0


def test_late_failures_weigh_more_for_kinds_and_contents_that_bite_under_load():
    assert latent_share("capacity") > latent_share("deploy")
    assert latent_share("deploy", keys=["DB_POOL_SIZE"]) == P.risky_latent_share
    assert density(2 * 24 * 60, latent=0.5) > density(2 * 24 * 60, latent=0.2)
    assert density(10, latent=0.5) < density(10, latent=0.2)


def test_delays_under_the_minimum_count_as_the_minimum_and_negative_ones_as_clock_errors():
    at_min = density(P.onset_min_s / 60)
    assert density(0) == at_min and density(0.1) == at_min
    assert density(-P.clock_error_s / 60) == pytest.approx(at_min * np.exp(-0.5))
    assert density(10) > 5 * at_min


def test_the_density_bound_is_never_below_the_density():
    minutes = np.logspace(-2, 6, 2001)
    for latent in (0.0, 0.1, 0.5, 1.0):
        f = onset_log_density(minutes * MINUTE_US, latent)
        assert f.max() <= onset_log_density_max(latent) + 1e-12


def test_an_expiry_is_read_from_an_option_inside_a_value_never_from_free_text():
    assert value_expiry("CN=a.example, notAfter=2020-02-03T13:30:00Z") == 1580736600000000
    assert value_expiry("token=abc;expires_at=2026-01-01T00:00:00Z") == 1767225600000000
    assert value_expiry("the certificate expires on 2020-02-03") is None
    assert value_expiry("notAfter=someday") is None
    assert value_expiry(None) is None
