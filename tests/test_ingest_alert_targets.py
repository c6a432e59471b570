"""Which component an alert is about: its labels, read in a configurable order."""

from __future__ import annotations

import json
import re

import pytest

from ccm.errors import ConfigError
from graph_schema import NodeFact
from ingest import ingest_paths
from ingest.alert_targets import (
    DEFAULT_RULES,
    Step,
    TargetRules,
    load_target_rules,
    owner_names,
    placeholder_ref,
    resolve_target,
)
from ingest.resolver import Resolver
from tests.helpers import LATER


@pytest.mark.parametrize(("pod", "owner"), [
    ("cartservice-6d84fcdd5b-xk2pf", "cartservice"),     # a Deployment's pod
    ("redis-cart-7c8b9d4f5-bcdfz", "redis-cart"),
    ("redis-0", "redis"),                                 # a StatefulSet's
    ("node-exporter-x7k2p", "node-exporter"),             # a DaemonSet's
    ("my-app-worker-abcde", "my-app-worker-abcde"),       # vowels: no generated suffix
])
def test_a_pod_name_gives_its_owners_name_first(pod, owner):
    assert owner_names(pod)[0] == owner
    assert owner_names(pod)[-1] == pod


@pytest.fixture
def resolver(embedded):
    embedded.write([NodeFact("service", n, {}, 0) for n in
                    ("cartservice", "kube-state-metrics", "reviews", "checkout")]
                   + [NodeFact("cache", "redis-cart", {}, 0)])
    return Resolver(embedded)


@pytest.mark.parametrize(("labels", "target"), [
    ({"deployment": "cartservice", "pod": "kube-state-metrics-7f6b9c5d48-q4wzt"},
     "service:cartservice"),
    ({"replicaset": "cartservice-6d84fcdd5b"}, "service:cartservice"),
    ({"statefulset": "redis-cart"}, "cache:redis-cart"),
    ({"destination_workload": "reviews", "source_workload": "cartservice"}, "service:reviews"),
    ({"source_workload": "cartservice"}, "service:cartservice"),
    ({"service_name": "checkout", "job": "otel-collector"}, "service:checkout"),
    ({"k8s_deployment_name": "checkout"}, "service:checkout"),
    ({"pod": "cartservice-6d84fcdd5b-xk2pf", "service": "kube-state-metrics"},
     "service:cartservice"),
    # a known component that is an exporter is never the answer of service/app/job
    ({"job": "kube-state-metrics", "namespace": "default"}, None),
    ({"app": "reviews"}, "service:reviews"),
    ({"app": "ratings"}, None),                        # unknown: no phantom service
    ({"ccm_node": "ratings"}, "service:ratings"),      # explicit: as the rule says
    ({"ccm_node": "cache:redis-cart"}, "cache:redis-cart"),
    ({"service": "cache:redis-cart"}, "cache:redis-cart"),      # a reference, known
    ({"service": "cache:redis"}, None),                          # a reference, unknown
])
def test_labels_resolve_in_the_documented_order(resolver, labels, target):
    assert resolve_target(resolver, labels) == target


def test_the_placeholder_is_per_namespace():
    assert placeholder_ref({"namespace": "monitoring"}) == "external:unresolved.monitoring"
    assert placeholder_ref({}) == "external:unresolved"


@pytest.mark.parametrize(("labels", "nothing"), [
    ({"alertname": "Watchdog", "severity": "none"}, True),
    ({"alertname": "InfoInhibitor", "namespace": "default"}, True),
    ({"alertname": "Custom", "prometheus": "monitoring/k8s"}, True),
    ({"alertname": "KubeNodeNotReady", "node": "worker-1"}, False),
    ({"alertname": "Custom", "job": "api"}, False),
])
def test_alerts_about_no_component_are_known(labels, nothing):
    assert DEFAULT_RULES.about_nothing(labels) is nothing


def test_the_order_exporters_and_meta_alerts_can_be_replaced_by_a_yaml_file(tmp_path, embedded):
    path = tmp_path / "targets.yaml"
    path.write_text("order:\n  - {label: team_service, as: workload}\n  - {label: job}\n"
                    "exporters: [scraper]\nmeta_alerts: [Heartbeat]\n")
    rules = load_target_rules(path)
    assert [(s.label, s.kind) for s in rules.order] == [("team_service", "workload"),
                                                        ("job", "name")]
    assert rules.exporters == ("scraper",) and rules.meta_alerts == ("Heartbeat",)
    embedded.write([NodeFact("service", n, {}, 0) for n in ("billing", "scraper")])
    r = Resolver(embedded)
    assert resolve_target(r, {"team_service": "billing", "deployment": "x"}, rules) \
        == "service:billing"
    assert resolve_target(r, {"job": "scraper"}, rules) is None
    assert rules.about_nothing({"alertname": "Heartbeat", "job": "billing"})


def test_a_bad_targets_file_is_refused_naming_line_and_field(tmp_path):
    path = tmp_path / "targets.yaml"
    path.write_text("order:\n  - {label: pod, as: guess}\n")
    with pytest.raises(ConfigError, match=r"targets.yaml:2: order\.0\.as.*'guess'"):
        load_target_rules(path)
    path.write_text("exporter: [x]\n")
    with pytest.raises(ConfigError, match="exporter"):
        load_target_rules(path)


def test_ingest_reads_labels_by_the_rules_it_is_given(embedded, tmp_path):
    embedded.write([NodeFact("service", "billing", {}, 0)])
    payload = {"version": "4", "status": "firing", "receiver": "r", "groupKey": "{}:{}",
               "alerts": [{"labels": {"alertname": "X", "team_service": "billing"},
                           "startsAt": "2026-03-05T09:00:00Z", "fingerprint": "f1"}]}
    path = tmp_path / "webhook.json"
    path.write_text(json.dumps(payload))
    report = ingest_paths(embedded, [path]).files[0]
    assert report.skipped == {"alert without target": 1}      # no label the order reads
    rules = TargetRules(order=(Step("team_service", "workload"),))
    assert ingest_paths(embedded, [path], alert_targets=rules).ok
    assert [(e.src, e.dst) for e in embedded.graph(LATER).edges_of("SYMPTOM_OF")] == [
        ("alert:f1@2026-03-05T09:00:00Z", "service:billing")]


def test_the_documented_order_exporters_and_meta_alerts_are_the_codes():
    from pathlib import Path

    doc = (Path(__file__).parent.parent / "docs" / "ingest.md").read_text()
    section = doc[doc.index("### Alert targets"):doc.index("### Alert signal table")]
    rows = [line.split("|") for line in section.splitlines()
            if line.startswith("| ") and "read as" not in line]
    # each row: its labels (a parenthesis says when a step applies) and how they are read
    steps = [(label, row[3].strip()) for row in rows
             for label in re.findall(r"`([a-z_0-9]+)`", re.sub(r"\(.*?\)", "", row[2]))]
    assert steps == [(s.label, s.kind) for s in DEFAULT_RULES.order]
    for pattern in DEFAULT_RULES.exporters:
        assert f"`{pattern}`" in section
    for name in DEFAULT_RULES.meta_alerts[:2]:
        assert f"`{name}`" in doc
