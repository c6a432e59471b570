"""The causal propagation model: edge probabilities p(u, v) and change priors q(c).

``edge_probabilities`` turns the structural attributes of every dependency edge
into the probability that a failure of the callee reaches the caller (vectorised
over all edges with numpy). ``change_prior`` gives the prior probability that a
change fails, from its kind, its structured content (configuration key names and
connection-string option names; never free text), memory's outcome counts and
its reversibility. ``onset_log_density`` is the density of the delay between a
change and the first alert it causes (a prompt/late mixture), ``latent_share`` the
weight of its late part for one change. All numbers come from
:class:`~ccm.engine.params.Params`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ccm.engine.params import DEFAULT_PARAMS, Params
from ccm.engine.priors import NO_PRIORS, Priors

#: edge kinds of the propagation graph (``src`` needs ``dst``)
DEPENDS_ON, HAS_CONFIG = 0, 1
HOUR_US = 3_600 * 1_000_000

_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")
_OPTION = re.compile(r"([A-Za-z_][A-Za-z0-9_.\-]*)\s*=\s*([^,;&\s]*)")


@dataclass(frozen=True, slots=True, eq=False)
class EdgeTable:
    """Per-edge structural features of the propagation graph (one entry per edge).

    ``src`` depends on ``dst`` (a caller on its callee, or a component on a config key
    it reads). Unknown values are NaN (floats) and the schema defaults (flags).
    """

    src: np.ndarray          # int32
    dst: np.ndarray          # int32
    kind: np.ndarray         # int8: DEPENDS_ON or HAS_CONFIG
    hard: np.ndarray         # bool (schema default true)
    is_async: np.ndarray     # bool
    fallback: np.ndarray     # bool
    cached: np.ndarray       # bool
    calls: np.ndarray        # float64 calls per second (or call count), NaN if unknown
    timeout_ms: np.ndarray   # float64, NaN if unknown
    retries: np.ndarray      # float64, 0 if unknown
    learned: np.ndarray      # float64 learned propagation (memory), NaN if none

    @classmethod
    def build(cls, src: Sequence[int] | np.ndarray, dst: Sequence[int] | np.ndarray, *,
              kind: Any = None, hard: Any = None, is_async: Any = None, fallback: Any = None,
              cached: Any = None, calls: Any = None, timeout_ms: Any = None,
              retries: Any = None, learned: Any = None) -> EdgeTable:
        """An edge table from arrays; omitted features take their defaults."""
        s = np.ascontiguousarray(src, dtype=np.int32)
        n = len(s)

        def arr(value: Any, dtype: Any, default: Any) -> np.ndarray:
            if value is None:
                return np.full(n, default, dtype=dtype)
            out = np.ascontiguousarray(value, dtype=dtype)
            if out.shape != (n,):
                raise ValueError(f"edge feature has shape {out.shape}, expected ({n},)")
            return out

        return cls(s, arr(dst, np.int32, 0), arr(kind, np.int8, DEPENDS_ON),
                   arr(hard, np.bool_, True), arr(is_async, np.bool_, False),
                   arr(fallback, np.bool_, False), arr(cached, np.bool_, False),
                   arr(calls, np.float64, np.nan), arr(timeout_ms, np.float64, np.nan),
                   arr(retries, np.float64, 0.0), arr(learned, np.float64, np.nan))

    def __len__(self) -> int:
        return len(self.src)


def _shares(group: np.ndarray, calls: np.ndarray, dep: np.ndarray, n: int) -> np.ndarray:
    """Share of each dependency edge's calls among the edges of its ``group`` node.

    Unknown rates take the mean known rate of the group (1 when none is known); a group
    whose rates are all zero shares equally.
    """
    known = dep & ~np.isnan(calls)
    total_known = np.bincount(group[known], weights=calls[known], minlength=n)
    count_known = np.bincount(group[known], minlength=n)
    mean_known = np.ones(n)
    np.divide(total_known, count_known, out=mean_known, where=count_known > 0)
    c = np.where(dep, np.where(np.isnan(calls), mean_known[group], calls), 0.0)
    total = np.bincount(group, weights=c, minlength=n)
    degree = np.bincount(group[dep], minlength=n).astype(np.float64)
    g_total = total[group]
    share = np.zeros(len(c))
    np.divide(c, g_total, out=share, where=dep & (g_total > 0))
    equal = dep & (g_total <= 0)
    share[equal] = 1.0 / np.maximum(degree[group[equal]], 1.0)
    return share


def edge_probabilities(edges: EdgeTable, n_nodes: int, params: Params = DEFAULT_PARAMS
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(p, share, in_share, p_td)`` for every edge.

    ``p``: a failure of ``dst`` reaches ``src``. ``share``: share of ``src``'s calls that go
    to ``dst``. ``in_share``: share of ``dst``'s incoming calls that come from ``src``.
    ``p_td``: a failing ``src`` makes ``dst`` see a traffic drop.
    """
    P = params
    dep = edges.kind == DEPENDS_ON
    share = _shares(edges.src, edges.calls, dep, n_nodes)
    in_share = _shares(edges.dst, edges.calls, dep, n_nodes)
    p = np.where(edges.hard, P.p_hard, P.p_soft)
    p = p * np.where(edges.is_async, P.async_factor, 1.0)
    p = p * np.where(edges.fallback, P.fallback_factor, 1.0)
    p = p * np.where(edges.cached, P.cached_factor, 1.0)
    p = p * (P.share_floor + (1.0 - P.share_floor) * share)
    p = p * np.maximum(P.retry_floor, P.retry_factor ** np.maximum(edges.retries, 0.0))
    long_timeout = np.nan_to_num(edges.timeout_ms, nan=0.0) >= P.long_timeout_ms
    p = np.minimum(p * np.where(long_timeout, P.long_timeout_factor, 1.0), P.p_max)
    learned = ~np.isnan(edges.learned)
    p = np.where(learned, P.memory_weight * np.nan_to_num(edges.learned)
                 + (1.0 - P.memory_weight) * p, p)
    p = np.where(dep, p, P.p_config)
    p = np.clip(p, 0.0, P.p_max)
    p_td = np.where(dep, np.minimum(P.p_traffic_drop * in_share, P.p_max), 0.0)
    return (np.ascontiguousarray(p), share, in_share, np.ascontiguousarray(p_td))


def name_words(name: str) -> set[str]:
    """Lower-case words of a key or option name: ``syncTimeout`` -> {sync, timeout}."""
    return {w.lower() for w in _WORD.findall(name)}


def changed_options(old: Any, new: Any) -> set[str]:
    """Names of ``name=value`` options (connection-string style) that differ between two
    configuration values."""
    def opts(v: Any) -> dict[str, str]:
        return dict(_OPTION.findall(v)) if isinstance(v, str) else {}

    a, b = opts(old), opts(new)
    return {k for k in set(a) | set(b) if a.get(k) != b.get(k)}


#: option names (lower case, without ``_`` and ``-``) that give a value's expiry time
_EXPIRY_OPTIONS = frozenset({"notafter", "expires", "expiresat", "expiry", "expiration",
                             "expirationtime", "validuntil"})


def value_expiry(value: Any) -> int | None:
    """The expiry time (µs) written inside a configuration value as an option, as an
    X.509 summary or a connection string writes it (``CN=api.example, notAfter=2020-02-03
    T13:30:00Z``, ``token=...;expires=...``); None when there is none or it is no time.

    >>> from graph_schema import format_time
    >>> format_time(value_expiry("CN=auth.example, notAfter=2020-02-03T13:30:00Z"))
    '2020-02-03T13:30:00Z'
    >>> value_expiry("redis:6379,syncTimeout=50") is None
    True
    """
    from graph_schema import parse_time
    from graph_schema.timeutil import TimeParseError

    if not isinstance(value, str):
        return None
    for name, text in _OPTION.findall(value):
        if name.lower().replace("_", "").replace("-", "") in _EXPIRY_OPTIONS:
            try:
                return parse_time(text)
            except TimeParseError:
                return None
    return None


def is_risky(keys: Iterable[str], diff: Iterable[Mapping[str, Any]] = (),
             params: Params = DEFAULT_PARAMS) -> bool:
    """True when a changed key name, or an option changed inside a key's value, names a
    timeout or a limit (words of :attr:`Params.risky_names`)."""
    risky = set(params.risky_names)
    names = list(keys)
    for item in diff:
        if isinstance(item, Mapping):
            names.extend(changed_options(item.get("old"), item.get("new")))
    return any(name_words(n) & risky for n in names)


def change_prior(change_kind: str, target: str, *, keys: Iterable[str] = (),
                 diff: Iterable[Mapping[str, Any]] = (), destructive: bool = False,
                 reversible: bool | None = None, params: Params = DEFAULT_PARAMS,
                 priors: Priors = NO_PRIORS) -> float:
    """q(c): the prior probability that a change fails.

    >>> round(change_prior("deploy", "service:cart"), 3)
    0.1

    A config change's prior (0.10) is raised by half when it sets a timeout or limit:

    >>> round(change_prior("config_change", "service:cart", keys=["REDIS_TIMEOUT_MS"]), 3)
    0.15
    """
    q = params.kind_prior_of(change_kind)
    if is_risky(keys, diff, params):
        q *= params.risky_key_factor
    if destructive:
        q *= params.destructive_factor
    if reversible is False:
        q *= params.irreversible_factor
    q = min(q, params.q_max)
    memory = priors.lookup(change_kind, target)
    if memory is not None:
        q = memory.update(q, params.prior_strength)
    return float(min(max(q, 1e-6), params.q_max))


def spontaneous_rate(node_kind: str, params: Params = DEFAULT_PARAMS,
                     priors: Priors = NO_PRIORS) -> float:
    """Failures per hour of one component of ``node_kind`` on its own: the kind's rate,
    moved by the tenant's resolved incidents (empirical Bayes). The default rates imply
    that a share ``1 - change_share`` of incidents are spontaneous; with ``a``
    spontaneous and ``b`` change-caused incidents on this kind, the share becomes
    ``(s (1 - change_share) + a) / (s + a + b)`` (``s`` = ``balance_strength``) and the
    rate moves by the ratio of the two odds.

    >>> spontaneous_rate("datastore")
    0.0003
    >>> from ccm.engine.priors import Beta, PriorTable
    >>> mostly_infra = PriorTable(balance={"datastore": Beta(18, 2)})
    >>> round(spontaneous_rate("datastore", priors=mostly_infra) / 3e-4, 1)
    5.4
    """
    rate = params.spontaneous_rate_of(node_kind)
    seen = priors.balance(node_kind)
    if seen is None:
        return rate
    share0 = 1.0 - params.change_share
    share = seen.update(share0, params.balance_strength)
    factor = (share / (1.0 - share)) / (share0 / (1.0 - share0))
    return float(min(rate * factor, 1.0))


def latent_share(change_kind: str, *, keys: Iterable[str] = (),
                 diff: Iterable[Mapping[str, Any]] = (), params: Params = DEFAULT_PARAMS
                 ) -> float:
    """The share of a change's possible failures that surface hours to days later: its
    kind's, raised for a timeout or limit change (those bite when load reaches the limit).

    >>> latent_share("deploy"), latent_share("deploy", keys=["POOL_SIZE"])
    (0.2, 0.5)
    """
    share = params.latent_share_of(change_kind)
    if is_risky(keys, diff, params):
        share = max(share, params.risky_latent_share)
    return float(share)


def _log_lognormal(hours: np.ndarray, median: float, sigma: float) -> np.ndarray:
    z = (np.log(hours) - np.log(median)) / sigma
    return -0.5 * z * z - np.log(hours * sigma * np.sqrt(2.0 * np.pi))


def onset_log_density(delay_us: Any, latent: Any, params: Params = DEFAULT_PARAMS
                      ) -> np.ndarray:
    """log f(delay), per hour: the density of the delay from a failing change to the
    first alert it causes. A mixture of a prompt log-normal (minutes) with weight
    ``1 - latent`` and a late one (hours to days) with weight ``latent``; delays under
    ``onset_min_s`` count as that, and a negative delay (within the clock skew) is as
    unlikely as a normal clock error of ``clock_error_s`` that large.

    >>> f = lambda minutes: float(np.exp(onset_log_density(minutes * 60e6, 0.2)))
    >>> f(10) > f(60) > f(6 * 60) > f(3 * 24 * 60) > 0
    True
    """
    p = params
    delay = np.asarray(delay_us, np.float64)
    hours = np.maximum(delay, p.onset_min_s * 1e6) / HOUR_US
    latent = np.asarray(latent, np.float64)
    prompt = _log_lognormal(hours, p.onset_prompt_median_min / 60.0, p.onset_prompt_sigma)
    late = _log_lognormal(hours, p.onset_latent_median_hours, p.onset_latent_sigma)
    skew = np.minimum(delay, 0.0) / (p.clock_error_s * 1e6)
    with np.errstate(divide="ignore"):
        return (np.logaddexp(np.log1p(-latent) + prompt, np.log(latent) + late)
                - 0.5 * skew * skew)


def onset_log_density_max(latent: Any, params: Params = DEFAULT_PARAMS) -> np.ndarray:
    """An upper bound of :func:`onset_log_density` over all delays (the sum of the two
    components' maxima), for ranking bounds."""
    p = params
    h_min = p.onset_min_s / 3600.0
    out = []
    for median, sigma in ((p.onset_prompt_median_min / 60.0, p.onset_prompt_sigma),
                          (p.onset_latent_median_hours, p.onset_latent_sigma)):
        mode = max(median * np.exp(-sigma * sigma), h_min)
        out.append(_log_lognormal(np.array([mode]), median, sigma)[0])
    latent = np.asarray(latent, np.float64)
    with np.errstate(divide="ignore"):
        return np.logaddexp(np.log1p(-latent) + out[0], np.log(latent) + out[1])
