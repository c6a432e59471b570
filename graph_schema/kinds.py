"""The CCM graph schema, declared once.

Validation, the SQLite DDL, the Neo4j constraints and indexes, and the schema
reference in ``docs/schema.md`` are all derived from the declarations below.
Bump :data:`SCHEMA_VERSION` whenever a change here is not backward compatible
with data already stored (a removed kind or attribute, a narrowed type).
"""

from __future__ import annotations

from graph_schema.model import Attr, EdgeKind, NodeKind

#: stored with the data; a store written by a newer version is refused
SCHEMA_VERSION = 1

SIGNALS = ("errors", "latency", "traffic_drop", "down", "saturation", "crash")
CHANGE_KINDS = (
    "deploy", "config_change", "feature_flag", "schema_migration", "infra_change",
    "cert_or_dns", "capacity", "dependency_upgrade", "rollback", "restart", "scale",
    "removal",
)

# -- attributes shared by every component kind (service, datastore, cache, ...) --
_COMPONENT_ATTRS = (
    Attr("entrypoint", "bool", "Receives user traffic directly (a front door)."),
    Attr("rps", "float", "Requests per second arriving at this entrypoint.", min=0),
    Attr("zone", "str", "Name of the trust zone the component runs in."),
    Attr("owner", "str", "Owning team's name."),
    Attr("tier", "str", "Service tier used by blast-radius policies.",
         choices=("critical", "high", "medium", "low")),
    Attr("monitored", "bool", "Whether alerts exist for it (default true): quiet "
         "monitored nodes are evidence in root-cause analysis."),
    Attr("namespace", "str", "Kubernetes namespace or equivalent grouping."),
    Attr("language", "str", "Implementation language."),
    Attr("image", "str", "Container image currently deployed."),
    Attr("version", "str", "Version currently deployed."),
    Attr("replicas", "int", "Desired replica count.", min=0),
    Attr("description", "str", "Free text; stored as data, never interpreted."),
    Attr("labels", "json", "Source labels (string map)."),
    Attr("annotations", "json", "Source annotations (string map); data only."),
    Attr("workload", "str", "Kubernetes workload kind that runs it (Deployment, ...)."),
    Attr("system", "str", "Backstage system it belongs to."),
    Attr("lifecycle", "str", "Backstage lifecycle (production, experimental...)."),
    Attr("aliases", "json", "Other names sources call it by (its Kubernetes workloads, "
         "name.namespace, cluster DNS names, app labels, OpenTelemetry service.name); "
         "name resolution finds the node by any of them."),
    Attr("unresolved", "bool", "A placeholder standing for components that a source "
         "named but that could not be resolved (an alert whose labels name no known "
         "component): kept so nothing is lost, never blamed as a root cause."),
)

COMPONENT_KINDS = ("service", "datastore", "cache", "queue", "gateway", "external")

_component_docs = {
    "service": "A running service (an application workload).",
    "datastore": "A database or other durable store (PostgreSQL, MongoDB, ...).",
    "cache": "A cache (Redis, Memcached, Valkey, ...).",
    "queue": "A message queue or stream (RabbitMQ, Kafka topic, NATS, ...).",
    "gateway": "An ingress, API gateway or load balancer in front of services.",
    "external": "A third-party dependency outside the operator's control.",
}

NODE_KINDS: tuple[NodeKind, ...] = tuple(
    NodeKind(kind, _component_docs[kind], _COMPONENT_ATTRS) for kind in COMPONENT_KINDS
) + (
    NodeKind(
        "config",
        "One configuration key of one owner, addressed config:<owner>/<key>.",
        (
            Attr("owner", "str", "Name of the component (or ConfigMap) owning the key."),
            Attr("key", "str", "The key."),
            Attr("value", "str", "Current value (secrets are never stored: only a hash)."),
            Attr("value_hash", "str", "sha256 of a value that must not be stored."),
            Attr("expires_at", "time",
                 "When the value stops being valid (a certificate's notAfter, a token's "
                 "expiry); also read from a notAfter=/expires= option inside the value."),
            Attr("configmap", "str", "ConfigMap the key comes from, if any."),
        ),
        name_pattern=r"[^/\s]+/[^\s]+",
        name_hint="'<owner>/<key>'",
    ),
    NodeKind(
        "change",
        "A change to production: deploy, config change, flag flip, migration, ...",
        (
            Attr("change_kind", "str", "What kind of change.", choices=CHANGE_KINDS),
            Attr("time", "time", "When it happened (microseconds since the epoch, UTC)."),
            Attr("target", "str", "Reference of the node it changed."),
            Attr("version", "str", "Version deployed, if any."),
            Attr("previous_version", "str", "Version it replaced, if known."),
            Attr("keys", "str_list", "Configuration keys it changed."),
            Attr("diff", "json", "Key-level changes: [{key, old, new}]."),
            Attr("description", "str", "Free text; stored as data, never interpreted."),
            Attr("author", "str", "Who or what made it."),
            Attr("reversible", "bool", "Whether it can be reverted."),
            Attr("destructive", "bool", "Destroys data or state (e.g. a dropping migration)."),
            Attr("flag", "str", "Feature flag name, for flag flips."),
            Attr("event_type", "str", "Source event type (e.g. a CDEvents type)."),
            Attr("artifact", "str", "Artifact deployed (e.g. a package URL)."),
            Attr("environment", "str", "Environment it happened in, as the source names it."),
            Attr("outcome", "str", "Observed outcome, once known.",
                 choices=("healthy", "unhealthy", "unknown"), carried=True),
            Attr("tenant", "str", "Tenant whose memory it belongs to (changes CCM made); "
                 "empty for ingested changes, which every tenant of the store sees."),
        ),
    ),
    NodeKind(
        "alert",
        "An alert that fired on a node.",
        (
            Attr("alertname", "str", "Alert rule name."),
            Attr("service", "str", "Reference of the node the alert is about."),
            Attr("signal", "str", "What the alert measures.", choices=SIGNALS),
            Attr("severity", "str", "Severity label as given."),
            Attr("status", "str", "firing or resolved.", choices=("firing", "resolved")),
            Attr("starts_at", "time", "Onset (microseconds since the epoch, UTC)."),
            Attr("ends_at", "time", "End, if resolved."),
            Attr("fingerprint", "str", "Alertmanager fingerprint."),
            Attr("summary", "str", "Summary text; data only, never interpreted."),
            Attr("labels", "json", "All labels; data only."),
            Attr("annotations", "json", "All annotations; data only."),
            Attr("generator_url", "str", "Link back to the alert's source."),
        ),
    ),
    NodeKind(
        "incident",
        "An incident, possibly resolved with a confirmed causal chain.",
        (
            Attr("title", "str", "Title."),
            Attr("severity", "str", "Severity as given."),
            Attr("status", "str", "Lifecycle state.", choices=("open", "resolved")),
            Attr("started_at", "time", "Start of impact."),
            Attr("detected_at", "time", "When it was detected."),
            Attr("resolved_at", "time", "When it was resolved."),
            Attr("impact", "str", "User impact; data only."),
            Attr("summary", "str", "Summary; data only."),
            Attr("root_cause", "str", "Reference of the confirmed root cause."),
            Attr("chain", "str_list", "Confirmed causal chain, cause first."),
            Attr("url", "str", "Link to the postmortem."),
            Attr("timeline", "json", "Timeline entries [{time, text}]; data only."),
            Attr("tenant", "str", "Tenant whose memory it belongs to; empty: shared."),
        ),
    ),
    NodeKind(
        "action",
        "An action an agent proposed or executed through CCM.",
        (
            Attr("action_type", "str", "Registered action name."),
            Attr("target", "str", "Reference of the node it acts on."),
            Attr("status", "str", "Lifecycle state."),
            Attr("verdict", "str", "Policy verdict.", choices=("proceed", "review", "refuse")),
            Attr("agent", "str", "Identity that proposed it."),
            Attr("model", "str", "Model name and version of the proposing agent."),
            Attr("params", "json", "Validated inputs."),
            Attr("outcome", "str", "Observed outcome.", choices=("healthy", "unhealthy")),
            Attr("predicted_p95_traffic", "float", "Predicted p95 impacted traffic share."),
            Attr("observed_impacted", "str_list", "Nodes observed impacted."),
            Attr("proposed_at", "time", "When it was proposed."),
            Attr("closed_at", "time", "When it closed."),
            Attr("tenant", "str", "Tenant whose memory it belongs to."),
            Attr("change_kind", "str", "What it is as a change to production.",
                 choices=CHANGE_KINDS),
            Attr("session", "str", "The agent's session (plan) it belongs to."),
            Attr("predicted_p_fail", "float", "Predicted probability that it fails.",
                 min=0, max=1),
            Attr("predicted_services_p95", "float", "Predicted p95 of impacted services.",
                 min=0),
            Attr("predicted_nodes", "json", "Predicted impact probability per node "
                 "(the most likely ones): {ref: p}."),
            Attr("edge_evidence", "json", "Observed propagation per dependency "
                 "{'caller|callee': 1 reached / 0 spared} after an unhealthy outcome."),
            Attr("dry_run", "bool", "Executed in dry-run mode (nothing happened)."),
            Attr("revert_of", "str", "Id of the action this one reverted."),
            Attr("reverted", "bool", "It was reverted after an unhealthy outcome."),
        ),
    ),
    NodeKind(
        "policy",
        "A policy rule, e.g. one generated by an incident's follow-ups.",
        (
            Attr("rule", "str", "Rule type."),
            Attr("description", "str", "Free text; data only."),
            Attr("params", "json", "Rule parameters."),
            Attr("status", "str", "Proposed, active or retired.",
                 choices=("proposed", "active", "retired")),
        ),
    ),
    NodeKind(
        "zone",
        "A trust zone (network boundary) components run in.",
        (
            Attr("description", "str", "Free text."),
            Attr("trust", "str", "Trust level.", choices=("public", "internal", "restricted")),
        ),
    ),
    NodeKind(
        "team",
        "A team that owns components.",
        (
            Attr("description", "str", "Free text."),
            Attr("email", "str", "Contact address."),
            Attr("chat", "str", "Chat channel."),
        ),
    ),
    NodeKind(
        "system",
        "A group of components that together provide a capability (Backstage System).",
        (
            Attr("description", "str", "Free text."),
            Attr("owner", "str", "Owning team's name."),
        ),
    ),
    NodeKind(
        "api",
        "An API provided by a component and consumed by others (Backstage API).",
        (
            Attr("description", "str", "Free text."),
            Attr("api_type", "str", "openapi, grpc, asyncapi, graphql, ..."),
            Attr("owner", "str", "Owning team's name."),
            Attr("lifecycle", "str", "Backstage lifecycle."),
        ),
    ),
)

_ANY = tuple(k.name for k in NODE_KINDS)
_COMP = COMPONENT_KINDS

EDGE_KINDS: tuple[EdgeKind, ...] = (
    EdgeKind(
        "DEPENDS_ON",
        "Caller -> callee: the caller needs the callee (a call, a read, a publish).",
        _COMP, _COMP,
        (
            Attr("protocol", "str", "grpc, http, redis, sql, amqp, ..."),
            Attr("calls_per_s", "float", "Calls per second from caller to callee.", min=0),
            Attr("call_count", "int", "Calls observed (e.g. Jaeger callCount).", min=0),
            Attr("hard", "bool", "The caller fails without it (default true)."),
            Attr("async", "bool", "Fire-and-forget or queued (default false)."),
            Attr("fallback", "bool", "The caller has a fallback (default false)."),
            Attr("cached", "bool", "Responses are cached by the caller."),
            Attr("timeout_ms", "float", "Client timeout.", min=0),
            Attr("retries", "int", "Client retries.", min=0),
            Attr("error_rate", "float", "Observed error share of calls.", min=0, max=1),
            Attr("p50_ms", "float", "Observed median latency.", min=0),
            Attr("p95_ms", "float", "Observed p95 latency.", min=0),
            Attr("p99_ms", "float", "Observed p99 latency.", min=0),
            Attr("evidence", "str", "Where the edge was seen."),
            Attr("propagation", "float", "Learned propagation probability (memory).",
                 min=0, max=1, carried=True),
        ),
    ),
    EdgeKind(
        "HAS_CONFIG",
        "A component reads a configuration key.",
        _COMP, ("config",),
        (
            Attr("via", "str", "How: env, envFrom, configMapKeyRef, file, ..."),
            Attr("env", "str", "Environment variable name, when read from one."),
        ),
    ),
    EdgeKind(
        "CHANGED",
        "A change -> what it changed (a component, a config key, ...).",
        ("change",), _ANY,
        (Attr("keys", "str_list", "Keys changed on that node."),),
    ),
    EdgeKind(
        "CAUSED",
        "A confirmed causal link, from a resolved incident or postmortem.",
        _ANY, _ANY,
        (
            Attr("incident", "str", "Reference of the incident that established it."),
            Attr("confidence", "float", "Confidence in the link.", min=0, max=1),
            Attr("evidence", "str", "Why; data only."),
        ),
    ),
    EdgeKind(
        "SYMPTOM_OF",
        "An alert -> the node it is about.",
        ("alert",), tuple(k for k in _ANY if k != "alert"),
        (Attr("signal", "str", "The alert's signal.", choices=SIGNALS),),
    ),
    EdgeKind("IN_ZONE", "A component runs in a trust zone.", _COMP, ("zone",)),
    EdgeKind("OWNED_BY", "A component (or system or API) is owned by a team.",
             _COMP + ("system", "api"), ("team",)),
    EdgeKind("TARGETS", "An action -> the node it acts on.", ("action",), _ANY),
    EdgeKind("GENERATED", "An incident -> a policy its follow-ups produced.",
             ("incident",), ("policy",)),
    EdgeKind("PART_OF", "A component or API belongs to a system.",
             _COMP + ("api",), ("system",)),
    EdgeKind("PROVIDES_API", "A component provides an API.", _COMP, ("api",)),
    EdgeKind("CONSUMES_API", "A component consumes an API.", _COMP, ("api",)),
    EdgeKind("INVOLVES", "An incident involved a node (alerting, degraded, changed).",
             ("incident",), tuple(k for k in _ANY if k != "incident")),
)

NODE_KIND_MAP = {k.name: k for k in NODE_KINDS}
EDGE_KIND_MAP = {k.name: k for k in EDGE_KINDS}
