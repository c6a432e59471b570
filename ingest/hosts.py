"""Reading service addresses out of configuration values, and naming their protocol.

Shared by the Kubernetes adapter (container env vars) and the OTLP adapter (span
attributes). :func:`endpoints_in` finds the hosts a value names, in every shape
the spec lists: a bare name (``frontend``), ``name.namespace``,
``name.namespace.svc.cluster.local``, ``host:port``, URLs (``http://host:port/x``,
``redis://host:port``, ``mongodb://h1,h2/db``), ADO.NET / libpq style connection
strings (``Host=postgresql;Username=...``) and client option lists
(``redis-cart:6379,syncTimeout=50``). Nothing here resolves names: callers decide
which hosts are nodes they know.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_URL = re.compile(r"^(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*)://(?:[^@/?#]*@)?(?P<hosts>[^/?#]*)")
_LABEL = r"[a-z0-9](?:[-a-z0-9]*[a-z0-9])?"
_HOSTNAME = re.compile(rf"^{_LABEL}(?:\.{_LABEL})*$")
_IPV4 = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")
_CONN_KEYS = ("host", "hostname", "server", "data source", "address", "addr", "endpoint")
_CLUSTER_SUFFIXES = (".svc.cluster.local", ".cluster.local", ".svc")

SCHEME_PROTOCOLS = {
    "http": "http", "https": "http", "ws": "http", "wss": "http", "grpc": "grpc",
    "grpcs": "grpc", "dns": "grpc", "redis": "redis", "rediss": "redis",
    "postgres": "postgresql", "postgresql": "postgresql", "mysql": "mysql",
    "mariadb": "mysql", "mongodb": "mongodb", "mongodb+srv": "mongodb", "amqp": "amqp",
    "amqps": "amqp", "kafka": "kafka", "nats": "nats", "memcached": "memcached",
    "thrift": "thrift", "cassandra": "cql",
}
#: ports whose protocol is unambiguous
WELL_KNOWN_PORTS = {
    6379: "redis", 5432: "postgresql", 3306: "mysql", 27017: "mongodb", 5672: "amqp",
    9092: "kafka", 11211: "memcached", 4222: "nats", 9042: "cql", 26257: "postgresql",
}
#: ports that are usually HTTP when nothing better is known
HTTP_PORTS = {80, 443, 8080, 8443, 8000, 3000}
_NAME_PROTOCOLS = {
    "grpc": "grpc", "grpc-web": "grpc", "http": "http", "http2": "http", "https": "http",
    "thrift": "thrift", "redis": "redis", "mongo": "mongodb", "mongodb": "mongodb",
    "mysql": "mysql", "postgres": "postgresql", "postgresql": "postgresql", "amqp": "amqp",
    "kafka": "kafka", "memcached": "memcached", "nats": "nats", "cql": "cql",
}


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One host a value names: ``name`` (cluster suffixes removed), the namespace it
    names if any, its port and the URL scheme it came with."""

    name: str
    namespace: str | None = None
    port: int | None = None
    scheme: str | None = None
    #: the host as written has dots beyond a namespace (an outside domain name)
    dotted: bool = False
    #: the host as written (lower case), cluster suffixes kept
    host: str = field(default="", compare=False)


def endpoints_in(value: str) -> list[Endpoint]:
    """The hosts named by a configuration value, in order, without duplicates."""
    text = value.strip()
    if not text or "$(" in text or "${" in text or any(c.isspace() for c in text):
        return []
    out: list[Endpoint] = []
    if text.lower().startswith("jdbc:"):
        text = text[5:]
    m = _URL.match(text)
    if m:
        scheme = m.group("scheme").lower()
        for part in m.group("hosts").split(","):
            _add(out, part, scheme)
        return _dedupe(out)
    if "=" in text and ";" in text:
        for item in text.split(";"):
            key, sep, val = item.partition("=")
            if sep and key.strip().lower() in _CONN_KEYS:
                host = val.strip().removeprefix("tcp:")
                host, _, port = host.partition(",")
                _add(out, f"{host}:{port}" if port.strip().isdigit() else host, None)
        return _dedupe(out)
    for item in text.split(","):
        if "=" not in item:
            _add(out, item, None)
    return _dedupe(out)


def _add(out: list[Endpoint], hostport: str, scheme: str | None) -> None:
    host, _, port = hostport.strip().rpartition(":") if ":" in hostport else (hostport, "", "")
    host = host.strip().lower()
    if not host or _IPV4.match(host) or not _HOSTNAME.match(host):
        return
    if not any(c.isalpha() for c in host):
        return
    p = int(port) if port.isdigit() and 0 < int(port) < 65536 else None
    if port and p is None:
        return
    name, ns, dotted = split_cluster_host(host)
    out.append(Endpoint(name, ns, p, scheme, dotted, host))


def split_cluster_host(host: str) -> tuple[str, str | None, bool]:
    """``name.ns.svc.cluster.local`` -> (name, ns, False); ``api.example.com`` ->
    ("api", "example", True): the last flag says the name has more dots than a
    Kubernetes ``name.namespace``."""
    stripped = host
    for suffix in _CLUSTER_SUFFIXES:
        if stripped.endswith(suffix):
            stripped = stripped[: -len(suffix)]
            break
    parts = stripped.split(".")
    if len(parts) == 1:
        return parts[0], None, False
    return parts[0], parts[1], len(parts) > 2


def _dedupe(items: list[Endpoint]) -> list[Endpoint]:
    seen: set[tuple[str, str | None]] = set()
    out = []
    for e in items:
        if (e.name, e.namespace) not in seen:
            seen.add((e.name, e.namespace))
            out.append(e)
    return out


def port_name_protocol(name: str | None) -> str | None:
    """The protocol a port name says (Istio's ``<protocol>[-<suffix>]`` convention:
    ``grpc``, ``http``, ``tcp-redis``, ``grpc-web``)."""
    if not name:
        return None
    low = name.lower()
    if low in _NAME_PROTOCOLS:
        return _NAME_PROTOCOLS[low]
    head, _, rest = low.partition("-")
    if head in ("tcp", "udp", "tls"):
        return _NAME_PROTOCOLS.get(rest.split("-")[0]) if rest else None
    return _NAME_PROTOCOLS.get(head)


def infer_protocol(*, scheme: str | None = None, port: int | None = None,
                   app_protocol: str | None = None, port_name: str | None = None,
                   target_protocol: str | None = None) -> str | None:
    """The protocol of a call, from the strongest evidence available: the URL scheme,
    the Service port's ``appProtocol``, a well-known database port, the port's name,
    what the target is (a Redis cache speaks redis), a usual HTTP port."""
    if scheme and scheme in SCHEME_PROTOCOLS:
        return SCHEME_PROTOCOLS[scheme]
    if app_protocol:
        low = app_protocol.lower().split("/")[-1]
        named = _NAME_PROTOCOLS.get(low) or port_name_protocol(low)
        if named:
            return named
    if port in WELL_KNOWN_PORTS:
        return WELL_KNOWN_PORTS[port]
    named = port_name_protocol(port_name)
    if named:
        return named
    if target_protocol:
        return target_protocol
    if port in HTTP_PORTS:
        return "http"
    return None
