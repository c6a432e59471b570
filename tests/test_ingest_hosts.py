"""Finding the hosts a configuration value names, and the protocol of a call."""

from __future__ import annotations

import pytest

from ingest.hosts import Endpoint, endpoints_in, infer_protocol, port_name_protocol


@pytest.mark.parametrize("value, expected", [
    ("frontend", [Endpoint("frontend")]),
    ("cartservice:7070", [Endpoint("cartservice", port=7070)]),
    ("cart.shop", [Endpoint("cart", "shop")]),
    ("cart.shop.svc.cluster.local:7070", [Endpoint("cart", "shop", 7070)]),
    ("cart.shop.svc", [Endpoint("cart", "shop")]),
    ("http://frontend:80/api/v1?x=1", [Endpoint("frontend", port=80, scheme="http")]),
    ("redis://user:pw@redis-cart:6379/0", [Endpoint("redis-cart", port=6379, scheme="redis")]),
    ("mongodb://db-a:27017,db-b:27017/geo",
     [Endpoint("db-a", port=27017, scheme="mongodb"), Endpoint("db-b", port=27017,
                                                               scheme="mongodb")]),
    ("jdbc:postgresql://orders-db:5432/orders",
     [Endpoint("orders-db", port=5432, scheme="postgresql")]),
    ("Host=postgresql;Username=app;Password=secret", [Endpoint("postgresql")]),
    ("Server=tcp:sqldb,1433;Database=x", [Endpoint("sqldb", port=1433)]),
    ("redis-cart:6379,syncTimeout=50", [Endpoint("redis-cart", port=6379)]),
    ("api.stripe.com:443", [Endpoint("api", "stripe", 443, dotted=True)]),
])
def test_every_address_shape_of_the_spec_names_its_host(value, expected):
    assert endpoints_in(value) == expected


@pytest.mark.parametrize("value", ["8080", "0.0.0.0", "10.0.0.1:80", "", "$(POD_IP):80",
                                   "a value with spaces", "${HOST}", "user:pass@host"])
def test_values_that_name_no_host_give_nothing(value):
    assert endpoints_in(value) == []


def test_words_are_only_candidate_hosts_the_caller_must_know():
    # "true" or "gcp" could be a workload's name: the Kubernetes adapter keeps a
    # candidate only when a workload, Service or node of that name exists
    assert endpoints_in("true") == [Endpoint("true")]


@pytest.mark.parametrize("name, protocol", [
    ("grpc", "grpc"), ("http", "http"), ("tcp-redis", "redis"), ("grpc-web", "grpc"),
    ("http2-api", "http"), ("tcp", None), (None, None), ("metrics", None),
])
def test_port_names_follow_the_istio_convention(name, protocol):
    assert port_name_protocol(name) == protocol


def test_protocol_evidence_is_weighed_strongest_first():
    assert infer_protocol(scheme="redis", port=80) == "redis"
    assert infer_protocol(app_protocol="kubernetes.io/h2c", port_name="grpc") == "grpc"
    assert infer_protocol(port=6379, port_name="tcp") == "redis"
    assert infer_protocol(port=5000, port_name="grpc") == "grpc"
    assert infer_protocol(port=1234, target_protocol="mongodb") == "mongodb"
    assert infer_protocol(port=8080) == "http"
    assert infer_protocol(port=1234) is None
