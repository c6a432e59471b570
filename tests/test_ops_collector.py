"""The collector is tuned only by a process that owns itself, and only while it says so."""

from __future__ import annotations

import gc

import pytest
from click.testing import CliRunner

import ccm.cli.ingest_cmd
from ccm.cli import cli
from ccm.engine import longlived
from ccm.ops.collector import owned_collector
from ingest import gcpause


def tuned() -> tuple[bool, bool]:
    """Whether each setting is on now (read by setting it back as it was)."""
    frozen, paused = longlived.enable(), gcpause.enable()
    longlived.enable(frozen)
    gcpause.enable(paused)
    return frozen, paused


def test_the_library_leaves_the_collector_alone():
    before = gc.get_threshold()
    gc.unfreeze()
    assert tuned() == (False, False)
    with gcpause.fewer_collections():
        assert gc.get_threshold() == before
    assert longlived.settle(longlived.LARGE) is False
    assert gc.get_freeze_count() == 0


def test_an_owned_collector_is_tuned_inside_and_left_as_it_was_after():
    with owned_collector():
        assert tuned() == (True, True)
        with gcpause.fewer_collections():
            assert gc.get_threshold()[0] == gcpause.INGEST_GC_THRESHOLD
        with owned_collector(False):
            assert tuned() == (False, False)
        assert tuned() == (True, True)
        gc.unfreeze()
    assert tuned() == (False, False)


@pytest.mark.parametrize(("flag", "expected"), [((), (True, True)),
                                                (("--no-gc-tuning",), (False, False))])
def test_ccm_ingest_tunes_its_collector_unless_told_not_to(tmp_path, monkeypatch, flag,
                                                           expected):
    seen: list[tuple[bool, bool]] = []
    real = ccm.cli.ingest_cmd.ingest_paths

    def spy(*args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(tuned())
        return real(*args, **kwargs)

    monkeypatch.setattr(ccm.cli.ingest_cmd, "ingest_paths", spy)
    manifest = tmp_path / "svc.yaml"
    manifest.write_text("apiVersion: v1\nkind: Service\nmetadata: {name: web}\n"
                        "spec: {selector: {app: web}}\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["ingest", *flag, "--store",
                                      str(tmp_path / "s.sqlite"), str(manifest)])
    assert result.exit_code == 0, result.output
    assert seen == [expected]
    assert tuned() == (False, False)
