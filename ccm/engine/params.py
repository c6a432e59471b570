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
#: (causes a user-visible degradation). See :attr:`Params.kind_prior`.
DEFAULT_KIND_PRIOR: tuple[tuple[str, float], ...] = (
    # DORA's State of DevOps reports put the change failure rate of most teams at
    # 5-15 % per deploy; we take the middle.
    ("deploy", 0.10),
    # Config pushes cause about as many outages as binary pushes (Google SRE
    # postmortem analyses) while being validated less; same base as deploys.
    ("config_change", 0.10),
    # Flags are usually ramped gradually and switched off in seconds.
    ("feature_flag", 0.05),
    # Migrations touch shared state and are hard to undo.
    ("schema_migration", 0.15),
    # Network, node-pool, storage changes hit many services at once.
    ("infra_change", 0.12),
    # Expiring certificates and DNS mistakes are classic whole-site outages.
    ("cert_or_dns", 0.15),
    ("capacity", 0.05),
    ("dependency_upgrade", 0.10),
    # Rolling back restores a state that worked; restarts and scaling rarely break.
    ("rollback", 0.03),
    ("restart", 0.02),
    ("scale", 0.03),
    ("removal", 0.10),
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
    #: under load; doubling is conservative against their share in postmortems.
    risky_key_factor: float = 2.0
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

    # -- time prior: when a bad change shows -------------------------------------------------
    #: weight of a change of age a (hours) is (1 + a / scale) ** -shape: a heavy tail,
    #: no cut-off, because latent failures surface at the next traffic peak, batch run or
    #: certificate expiry, often days later. Half the weight is gone after a day.
    delay_scale_hours: float = 24.0
    #: shape 1: a hyperbolic tail, so a month-old change keeps ~3 % of a fresh one's weight.
    delay_shape: float = 1.0
    #: clocks of different sources disagree; a change this much after an alert's onset
    #: may still have caused it.
    clock_skew_s: float = 60.0

    # -- spontaneous failures ---------------------------------------------------------------
    #: prior that a given node fails on its own at the time of the symptoms, on the same
    #: scale as q(c) * time weight: changes cause about 70 % of incidents (Google SRE
    #: book), so one node's spontaneous failure weighs a few percent of a fresh change.
    spontaneous_prior: float = 0.005

    # -- the alerting process ---------------------------------------------------------------
    #: an alert fires on a healthy node (noise, flapping, a threshold set too tight).
    false_alert: float = 0.01
    #: an impacted, monitored node does not alert (threshold not reached, rule missing).
    missed_alert: float = 0.1
    #: most services have no traffic-drop alert at all, so its absence says little.
    missed_traffic_drop: float = 0.7

    # -- numerics ---------------------------------------------------------------------------
    #: noisy-OR fixpoint tolerance (change of a probability that stops iteration).
    tol: float = 1e-12
    #: in root-cause analysis, impact below this does not propagate further: it cannot
    #: change a ranking, and it bounds the work per hypothesis on hub-heavy graphs.
    floor: float = 1e-4
    #: sweeps over one strongly connected component before giving up on convergence.
    max_sweeps: int = 10_000
    #: symptoms a chain may end at: probability under which a symptom is not "explained".
    explain_min: float = 0.05

    def __post_init__(self) -> None:
        for name in ("p_hard", "p_soft", "async_factor", "fallback_factor", "cached_factor",
                     "share_floor", "retry_factor", "retry_floor", "p_config", "p_max",
                     "memory_weight", "p_traffic_drop", "q_max", "false_alert",
                     "missed_alert", "missed_traffic_drop", "spontaneous_prior"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"Params.{name} must be within [0, 1], got {value!r}")
        for name in ("false_alert", "missed_alert", "missed_traffic_drop", "spontaneous_prior"):
            if not 0.0 < getattr(self, name) < 1.0:
                raise ValueError(f"Params.{name} must be within (0, 1) (it is used as a log)")
        if self.delay_scale_hours <= 0 or self.prior_strength <= 0:
            raise ValueError("Params.delay_scale_hours and prior_strength must be > 0")

    def kind_prior_of(self, change_kind: str) -> float:
        """The structural prior of a change kind."""
        for kind, q in self.kind_prior:
            if kind == change_kind:
                return q
        return self.unknown_kind_prior


DEFAULT_PARAMS = Params()
