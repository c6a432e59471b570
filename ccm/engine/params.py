"""Every parameter of the causal model, in one place, with the reason for each value.

One configuration serves every case: these are defaults argued from how
production systems fail, never values fitted to a benchmark case. Memory
(``ccm.memory``) corrects them with observed outcomes through the ``propagation``
edge attribute and the :class:`~ccm.engine.priors.Priors` table, not by editing
this file.

>>> from ccm.engine.params import Params
>>> Params().p_hard
0.9
>>> Params(p_hard=0.8).p_hard        # a variant for an experiment; frozen and hashable
0.8
"""

from __future__ import annotations

from dataclasses import dataclass

#: change kind -> structural prior probability that a change of that kind fails
#: (causes a user-visible degradation, now or later). See :attr:`Params.kind_prior`.
#: Every kind that changes what runs in production gets the same base rate: published
#: change-failure rates differ between kinds of change by a small factor at most, and
#: what does differ between kinds is modelled elsewhere, once: *when* a change bites
#: (capacity, limits, migrations and certificates mostly late: DEFAULT_LATENT_SHARE),
#: *how far* it reaches (the propagation model), whether it can be undone
#: (``irreversible_factor``), and what it changed (``risky_key_factor``,
#: ``destructive_factor``). Lowering a kind's prior because it "rarely breaks at once"
#: counts its lateness twice. So where and when a change was made (the evidence)
#: decides between changes, not their kind.
DEFAULT_KIND_PRIOR: tuple[tuple[str, float], ...] = (
    # DORA's State of DevOps reports put the change failure rate of most teams at
    # 5-15 % per deploy; we take the middle.
    ("deploy", 0.10),
    # Config pushes cause about as many outages as binary pushes (Google SRE
    # postmortem analyses): same base as deploys.
    ("config_change", 0.10),
    # A flag flip is when the code a deploy shipped dark first runs in production: as
    # risky as the deploy. A gradual ramp limits how much traffic a bad flag reaches
    # (the propagation's and alerting's business), not whether the new path is broken.
    ("feature_flag", 0.10),
    # Migrations touch shared state: their reach is the propagation model's business,
    # their being hard to undo ``irreversible_factor``'s, dropping data
    # ``destructive_factor``'s, and their biting under data growth the latent share's.
    ("schema_migration", 0.10),
    # Network, node-pool, storage changes: as risky as a deploy, with a wider reach
    # (the reach is the propagation model's business, not the prior's).
    ("infra_change", 0.10),
    # Certificates and DNS records take whole sites down, but that is their reach
    # (propagation) and their TTLs make them late (latent share), not a higher rate.
    ("cert_or_dns", 0.10),
    # Capacity changes (scale-down, quota, instance size) break at the next peak more
    # than at once: that lateness is DEFAULT_LATENT_SHARE's (0.5), not a lower rate.
    ("capacity", 0.10),
    ("dependency_upgrade", 0.10),
    # Rolling back restores a state that worked; restarts and scaling rarely break.
    ("rollback", 0.04),
    ("restart", 0.03),
    ("scale", 0.04),
    ("removal", 0.10),
)

#: change kind -> share of its failures that surface late (hours to days: at the next
#: traffic peak, batch run, cache or TTL expiry, data growth) rather than within
#: minutes. Code and flag changes mostly fail in the canary or the first minutes of
#: traffic; capacity, limits, certificates/DNS (TTLs) and migrations (data growth,
#: missing indexes) fail under load or when something expires.
DEFAULT_LATENT_SHARE: tuple[tuple[str, float], ...] = (
    ("deploy", 0.2),
    ("config_change", 0.2),
    ("feature_flag", 0.15),
    ("schema_migration", 0.4),
    ("infra_change", 0.3),
    ("cert_or_dns", 0.4),
    ("capacity", 0.5),
    ("dependency_upgrade", 0.3),
    ("rollback", 0.1),
    ("restart", 0.1),
    ("scale", 0.3),
    ("removal", 0.3),
)

#: component kind -> rate per hour at which one component of that kind fails on its
#: own (no change), badly enough to alert. Changes cause most incidents (about 70 %
#: in Google's SRE data); with a change failure rate around 0.1 and one change every
#: few days per component, the remaining 30 % put a service's own failures at about
#: one a year (1e-4 an hour). Shared infrastructure (datastores, caches, queues,
#: gateways, external providers) fails on its own several times as often: disks fill,
#: replicas diverge, connection limits and provider outages hit it without a change.
DEFAULT_SPONTANEOUS_RATE: tuple[tuple[str, float], ...] = (
    ("service", 1e-4),
    ("datastore", 3e-4),
    ("cache", 3e-4),
    ("queue", 3e-4),
    ("gateway", 3e-4),
    ("external", 3e-4),
)

#: key and option names that make a change a timeout/limit change (matched as
#: case-insensitive substrings of configuration key names and of option names
#: inside connection-string values, e.g. ``syncTimeout`` in ``host:6379,syncTimeout=50``)
DEFAULT_RISKY_NAMES: tuple[str, ...] = (
    "timeout", "deadline", "limit", "max", "min_", "pool", "size", "retry", "retries",
    "conn", "thread", "worker", "quota", "ttl", "buffer", "capacity", "rate", "backoff",
)


@dataclass(frozen=True, slots=True)
class Params:
    """The causal propagation model's parameters (see each field's comment for why)."""

    # -- edge propagation p(u, v): a failure of callee v reaches caller u ---------------
    #: a hard synchronous dependency without fallback: most requests that need v fail
    #: when v fails; not 1.0 because load balancing, partial outages and health checks
    #: often keep part of the traffic working.
    p_hard: float = 0.9
    #: a soft dependency (the caller degrades gracefully, e.g. hides a widget).
    p_soft: float = 0.3
    #: fire-and-forget / queued calls: the caller's own requests succeed; only a full
    #: queue or a blocking publish propagates.
    async_factor: float = 0.3
    #: an explicit fallback (default value, secondary) catches most failures.
    fallback_factor: float = 0.35
    #: cached responses keep serving while the cache is warm.
    cached_factor: float = 0.6
    #: call share s of u's calls that go to v scales p by floor + (1 - floor) * s:
    #: a dependency used by few requests still breaks those requests, and alert
    #: thresholds (1-5 % errors) trip on small shares, so share at most halves p.
    share_floor: float = 0.5
    #: each client retry hides part of a partial (transient) failure, never a full one.
    retry_factor: float = 0.9
    #: retries cannot hide a dependency that is down: their effect is bounded.
    retry_floor: float = 0.6
    #: a client timeout this long lets a slow callee hold the caller's threads...
    long_timeout_ms: float = 10_000.0
    #: ...so slowness propagates a little more often.
    long_timeout_factor: float = 1.1
    #: a broken configuration key breaks the component that reads it (HAS_CONFIG).
    p_config: float = 0.9
    #: no propagation is certain; also keeps the incremental noisy-OR well conditioned.
    p_max: float = 0.99
    #: weight of a learned ``propagation`` edge attribute (memory) against the
    #: structural estimate: observed outcomes dominate, structure keeps a say.
    memory_weight: float = 0.8

    # -- traffic drop: a failing caller u starves its callee v -------------------------
    #: v sees a drop when the failing caller carries most of its traffic; scaled by the
    #: share of v's incoming calls that come from u.
    p_traffic_drop: float = 0.8

    # -- change priors q(c) ---------------------------------------------------------------
    #: structural prior by change kind (see DEFAULT_KIND_PRIOR for the reasons)
    kind_prior: tuple[tuple[str, float], ...] = DEFAULT_KIND_PRIOR
    #: prior for a change kind missing from the table
    unknown_kind_prior: float = 0.10
    #: timeout and limit changes are the classic latent failure: fine in tests, bite
    #: under load. A moderate factor: the content of a change shifts its odds by a small
    #: factor, it must not outweigh where and when it was made. (Their lateness is
    #: modelled apart, by ``risky_latent_share``.)
    risky_key_factor: float = 1.5
    #: words that make a key or option name a timeout/limit (see DEFAULT_RISKY_NAMES)
    risky_names: tuple[str, ...] = DEFAULT_RISKY_NAMES
    #: destructive migrations (drop/rename column, delete data) fail often and badly.
    destructive_factor: float = 3.0
    #: an irreversible change cannot be rolled back, so its failures last longer and
    #: are more likely to be the cause of an ongoing incident.
    irreversible_factor: float = 1.3
    #: cap: no change is certain to fail.
    q_max: float = 0.9
    #: pseudo-count of the structural prior when memory supplies outcome counts
    #: (Beta(strength*q, strength*(1-q)) updated with observed failures/successes):
    #: ten outcomes move the estimate halfway.
    prior_strength: float = 10.0

    # -- onset delay: when a bad change shows (a density, part of the likelihood) ----------
    #: share of each kind's failures that surface hours to days later (see
    #: DEFAULT_LATENT_SHARE); the rest surface within minutes.
    latent_share: tuple[tuple[str, float], ...] = DEFAULT_LATENT_SHARE
    #: latent share of a change kind missing from the table
    unknown_latent_share: float = 0.25
    #: a timeout or limit change fails when load reaches the new limit: at least half of
    #: its failures are late.
    risky_latent_share: float = 0.5
    #: prompt failures: delay from the change to the first alert it causes is log-normal
    #: with this median (a rollout of a few minutes, then the alert rule's detection
    #: window)...
    onset_prompt_median_min: float = 12.0
    #: ...and this spread of its logarithm: 90 % between 2 minutes and an hour. Alerts
    #: rarely fire within a minute of a change: rules evaluate every 15-60 s and most
    #: hold for a few minutes before firing, and rollouts take minutes.
    onset_prompt_sigma: float = 1.0
    #: late failures: log-normal with a median of a day (the next daily peak, nightly
    #: batch, TTL)...
    onset_latent_median_hours: float = 24.0
    #: ...and a wide spread: 90 % between an hour and three weeks, no cut-off (a
    #: month-old change keeps a small density).
    onset_latent_sigma: float = 2.0
    #: a delay shorter than this (clock error can even make it negative) counts as this
    #: long: timestamps of different sources are rounded and skewed by tens of seconds.
    onset_min_s: float = 30.0
    #: clocks of different sources disagree; a change this much after an alert's onset
    #: may still have caused it (three clock errors)...
    clock_skew_s: float = 60.0
    #: ...but the density of a negative delay d falls as a normal clock error of this
    #: size would make it, exp(-d^2 / 2 error^2): a change recorded after the alert it is
    #: to explain is unlikely, if not impossible, to be its cause.
    clock_error_s: float = 20.0

    # -- spontaneous failures and expiries -----------------------------------------------------
    #: failures per hour of one component of a kind, on its own (see
    #: DEFAULT_SPONTANEOUS_RATE); compared with q(c) times the onset density (also per
    #: hour), so a change competes with the component failing by itself.
    spontaneous_rate: tuple[tuple[str, float], ...] = DEFAULT_SPONTANEOUS_RATE
    #: rate of a component kind missing from the table
    unknown_spontaneous_rate: float = 1e-4
    #: the share of incidents a change causes that the default rates imply (Google's SRE
    #: data: about 70 %); a tenant's resolved incidents move it per component kind
    #: (``ccm.engine.model.spontaneous_rate``)...
    change_share: float = 0.7
    #: ...weighing as this many incidents: ten resolved incidents move it halfway.
    balance_strength: float = 10.0
    #: a configuration value that carries an expiry (a certificate's notAfter, a token's
    #: expiry) and is still in place after it has passed: most such values are in use, and
    #: an expired certificate fails every new handshake.
    expiry_prior: float = 0.5
    #: an expiry bites at the next handshake or token refresh; cached sessions delay a few.
    expiry_latent_share: float = 0.1

    # -- the alerting process ---------------------------------------------------------------
    #: an alert fires on a healthy node (noise, flapping, a threshold set too tight).
    false_alert: float = 0.01
    #: an impacted, monitored node does not alert: a partial impact stays under the
    #: threshold, the rule is missing or silenced; many incidents are first reported by
    #: users. One in five.
    missed_alert: float = 0.2
    #: most services have no traffic-drop alert at all, so its absence says little.
    missed_traffic_drop: float = 0.7
    #: alert rules fire minutes after the condition starts (evaluation interval and a
    #: ``for:`` clause): at a question asked m minutes after the first symptom, an
    #: impacted node is still quiet with probability exp(-m / this), on top of
    #: ``missed_alert``.
    alert_delay_min: float = 5.0

    # -- confidence -----------------------------------------------------------------------
    #: the posterior is the softmax of the log scores divided by this: the model counts
    #: every alert and quiet node as independent evidence, while a cascade's alerts are
    #: correlated (one failure, seen many times), so raw posteriors are overconfident.
    #: Temperature scaling (Guo et al., 2017) tempers that with one number, set where the
    #: worse of the top-1 posterior's expected calibration errors on the two development
    #: sets (chaos and default mix, seed 7) is least (docs/bench.md, "Calibration"); it
    #: never changes a ranking.
    posterior_temperature: float = 1.45
    #: the top two roots are a close call when the first is less than this many times as
    #: probable as the second: the answer then names what would separate them.
    close_ratio: float = 3.0

    # -- numerics ---------------------------------------------------------------------------
    #: noisy-OR fixpoint tolerance (change of a probability that stops iteration).
    tol: float = 1e-12
    #: in root-cause analysis, impact below this does not propagate further: it cannot
    #: change a ranking, and it bounds the work per hypothesis on hub-heavy graphs.
    floor: float = 1e-4
    #: sweeps over one strongly connected component before giving up on convergence.
    max_sweeps: int = 10_000
    #: impact probability under which a symptom is not "explained": a chain does not end
    #: at it, and its onset does not time the hypothesis.
    explain_min: float = 0.05

    def __post_init__(self) -> None:
        for name in ("p_hard", "p_soft", "async_factor", "fallback_factor", "cached_factor",
                     "share_floor", "retry_factor", "retry_floor", "p_config", "p_max",
                     "memory_weight", "p_traffic_drop", "q_max", "false_alert",
                     "missed_alert", "missed_traffic_drop", "expiry_prior",
                     "expiry_latent_share", "unknown_latent_share", "risky_latent_share",
                     "change_share"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"Params.{name} must be within [0, 1], got {value!r}")
        for name in ("false_alert", "missed_alert", "missed_traffic_drop", "expiry_prior",
                     "change_share"):
            if not 0.0 < getattr(self, name) < 1.0:
                raise ValueError(f"Params.{name} must be within (0, 1) (it is used as a log)")
        for name in ("prior_strength", "onset_prompt_median_min", "onset_prompt_sigma",
                     "onset_latent_median_hours", "onset_latent_sigma", "onset_min_s",
                     "clock_error_s",
                     "alert_delay_min", "unknown_spontaneous_rate", "posterior_temperature",
                     "balance_strength"):
            if not getattr(self, name) > 0:
                raise ValueError(f"Params.{name} must be > 0, got {getattr(self, name)!r}")
        if not self.close_ratio >= 1.0:
            raise ValueError(f"Params.close_ratio must be >= 1, got {self.close_ratio!r}")
        for table in ("kind_prior", "latent_share", "spontaneous_rate"):
            for kind, value in getattr(self, table):
                if not 0.0 < value <= 1.0:
                    raise ValueError(f"Params.{table}[{kind!r}] must be within (0, 1]")

    def kind_prior_of(self, change_kind: str) -> float:
        """The structural prior of a change kind."""
        return _lookup(self.kind_prior, change_kind, self.unknown_kind_prior)

    def latent_share_of(self, change_kind: str) -> float:
        """The share of a change kind's failures that surface hours to days later."""
        return _lookup(self.latent_share, change_kind, self.unknown_latent_share)

    def spontaneous_rate_of(self, node_kind: str) -> float:
        """Failures per hour of one component of ``node_kind`` on its own."""
        return _lookup(self.spontaneous_rate, node_kind, self.unknown_spontaneous_rate)


def _lookup(table: tuple[tuple[str, float], ...], key: str, default: float) -> float:
    for k, value in table:
        if k == key:
            return value
    return default


DEFAULT_PARAMS = Params()
