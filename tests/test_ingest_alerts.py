"""The mapping alert formats share: the signal vocabulary and the alertname table."""

from __future__ import annotations

import pytest
import yaml

from graph_schema import SIGNALS
from ingest.alert_targets import DEFAULT_META_ALERTS
from ingest.alerts import DEFAULT_SIGNALS, signal_for, signal_of_word
from tests.helpers import FIXTURES

RULES = sorted((FIXTURES / "real" / "alerts").glob("*-rules.yaml"))


@pytest.mark.parametrize(("word", "signal"), [
    ("timeouts", "latency"), ("Timeout", "latency"), ("slow", "latency"),
    ("5xx", "errors"), ("failures", "errors"), ("OOMKilled", "crash"), ("oom", "crash"),
    ("unavailable", "down"), ("throttling", "saturation"), ("disk", "saturation"),
    ("traffic-drop", "traffic_drop"), ("latency", "latency"), ("vibes", None), (3, None),
])
def test_signal_words_map_to_signals(word, signal):
    assert signal_of_word(word) == signal


def test_every_kube_prometheus_rule_has_a_signal_unless_it_is_about_no_component():
    names = {r["alert"] for path in RULES for g in yaml.safe_load(path.read_text())["spec"]
             ["groups"] for r in g["rules"] if "alert" in r}
    assert "KubePodCrashLooping" in names and "Watchdog" in names
    assert names - set(DEFAULT_SIGNALS) == set(DEFAULT_META_ALERTS) & names
    assert set(DEFAULT_SIGNALS.values()) <= set(SIGNALS)


def test_a_signal_label_word_wins_over_the_alert_name():
    assert signal_for("KubePodCrashLooping", {"signal": "oomkilled"}) == "crash"
    assert signal_for("KubePodCrashLooping", {"signal": "vibes"}) == "down"
    assert signal_for("SomethingNew", {}) == "errors"


def test_the_documented_signal_tables_are_the_codes():
    from pathlib import Path

    from ingest.alerts import SIGNAL_WORDS

    doc = (Path(__file__).parent.parent / "docs" / "ingest.md").read_text()
    section = doc[doc.index("### Alert signal table"):doc.index("## Native JSONL")]
    tables = section.split("**Signal words.**")
    for table, mapping in ((tables[0], DEFAULT_SIGNALS), (tables[1], SIGNAL_WORDS)):
        rows = {cells[1].strip(): {w.strip() for w in cells[2].split(",")}
                for cells in (line.split("|") for line in table.splitlines())
                if len(cells) > 3 and cells[1].strip() in SIGNALS}
        assert rows == {s: {k for k, v in mapping.items() if v == s} for s in SIGNALS}
