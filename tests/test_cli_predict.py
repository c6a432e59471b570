"""``ccm predict`` end to end: a subprocess on a store loaded from the demo data."""

from __future__ import annotations

import json

from tests.test_cli_rca import AT, ccm


def test_predict_prints_the_blast_radius_table_and_distribution(demo_store):
    out = ccm(demo_store, "predict", "deploy", "productcatalogservice", "--at", AT)
    assert out.returncode == 0, out.stderr
    assert "Blast radius of deploy service:productcatalogservice" in out.stdout
    assert "service:productcatalogservice -> service:frontend" in out.stdout
    assert "impacted traffic" in out.stdout and "p95" in out.stdout


def test_predict_as_json_is_seeded_and_reproducible(demo_store):
    args = ("predict", "config_change", "service:cartservice", "--key", "REDIS_ADDR",
            "--at", AT, "--samples", "500", "--seed", "4", "--json")
    a, b = json.loads(ccm(demo_store, *args).stdout), json.loads(ccm(demo_store, *args).stdout)
    assert a["traffic"] == b["traffic"] and a["services"] == b["services"]
    assert a["samples"] == 500 and a["seed"] == 4
    assert a["nodes"]["config:cartservice/REDIS_ADDR"] == 1.0
    assert a["paths"]["service:frontend"] == ["config:cartservice/REDIS_ADDR",
                                              "service:cartservice", "service:frontend"]
    assert 0 < a["traffic"]["mean"] <= a["traffic"]["p95"] <= 1


def test_predict_a_destructive_migration_has_a_higher_failure_prior(demo_store):
    plain = json.loads(ccm(demo_store, "predict", "schema_migration", "redis-cart", "--at", AT,
                           "--json").stdout)
    drop = json.loads(ccm(demo_store, "predict", "schema_migration", "redis-cart", "--at", AT,
                          "--destructive", "--json").stdout)
    assert drop["p_fail"] > plain["p_fail"]


def test_predict_an_unknown_target_exits_1_naming_it(demo_store):
    out = ccm(demo_store, "predict", "deploy", "service:nope", "--at", AT)
    assert out.returncode == 1 and "service:nope" in out.stderr


def test_predict_refuses_an_unknown_kind(demo_store):
    out = ccm(demo_store, "predict", "launch", "frontend", "--at", AT)
    assert out.returncode == 2 and "launch" in out.stderr
