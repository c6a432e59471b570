"""A crash during execute strands nothing: the executor's process dies with the server,
an action whose executing process is gone is reconciled to `unknown` with an alarm (never
run twice), and a person records its outcome, after which memory and the automatic revert
follow as usual (issue 16, fifth finding)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

import pytest

from ccm.actions.executors import CommandExecutor, ExecutionResult
from ccm.audit.log import Actor
from ccm.errors import ActionStateError
from ccm.store import EmbeddedStore
from tests.controlkit import config_change, controller, setup_store

ALICE = Actor("alice", "human")


class Crash(BaseException):
    """The server process dying mid-execution (nothing after it runs)."""


class CountingExecutor:
    name = "counting"

    def __init__(self, crash: bool) -> None:
        self.crash, self.calls = crash, 0

    def run(self, request):  # type: ignore[no-untyped-def]
        self.calls += 1
        if self.crash:
            raise Crash
        return ExecutionResult(True, "ok")


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


@pytest.fixture
def stranded(tmp_path, clock):
    """An approved config change whose server died inside the executor."""
    store = EmbeddedStore(tmp_path / "s.sqlite")
    setup_store(store, clock)
    crashing = CountingExecutor(crash=True)
    ctl = controller(store, clock, executor=crashing)
    rec = ctl.propose(config_change(clock, value="50"))
    ctl.approve(rec.id, "alice")
    with pytest.raises(Crash):
        ctl.execute(rec.id)
    yield store, clock, rec.id
    store.close()


def restarted(store, clock, executor=None):  # type: ignore[no-untyped-def]
    return controller(store, clock, executor=executor or CountingExecutor(crash=False))


def kill_owner(store, action_id: str) -> None:
    rec = store.get_record("actions", action_id)
    rec.doc["execution"]["owner"]["pid"] = dead_pid()
    store.put_record("actions", action_id, rec.doc)


def test_an_execution_whose_process_still_runs_is_left_alone(stranded):
    store, clock, aid = stranded
    assert restarted(store, clock).resume(aid).state == "executing"


def test_a_stranded_execution_becomes_unknown_with_an_alarm_and_never_runs_twice(stranded):
    store, clock, aid = stranded
    kill_owner(store, aid)
    again = CountingExecutor(crash=False)
    ctl = restarted(store, clock, again)
    assert [r.state for r in ctl.reconcile()] == ["unknown"]
    assert ctl.execute(aid).state == "unknown" and again.calls == 0
    alarms = [e for e in ctl.audit.entries() if e["kind"] == "alarm" and e["subject"] == aid]
    assert len(alarms) == 1 and "not run again" in alarms[0]["data"]["reason"]
    assert ctl.reconcile() == [] and len(
        [e for e in ctl.audit.entries() if e["kind"] == "alarm"]) == 1


def test_a_person_records_the_outcome_and_memory_and_revert_follow(stranded):
    store, clock, aid = stranded
    kill_owner(store, aid)
    revert_runs = CountingExecutor(crash=False)
    ctl = restarted(store, clock, revert_runs)
    ctl.resume(aid)
    with pytest.raises(ActionStateError, match="a person"):
        ctl.record_outcome(aid, False, by=ctl.actor_of(ctl.get(aid).proposal))
    rec = ctl.record_outcome(aid, False, by=ALICE, note="cart 5xx after the change")
    assert rec.state == "closed" and rec.doc["revert"]["ok"] and revert_runs.calls == 1
    node = store.graph().nodes[f"action:{aid}"]
    assert node.attrs["outcome"] == "unhealthy" and node.attrs["reverted"] is True


def test_the_command_executor_dies_with_the_server(tmp_path):
    pidfile = tmp_path / "child.pid"
    server = textwrap.dedent(f"""
        import sys
        from ccm.actions.executors import CommandExecutor, ExecutionRequest
        ex = CommandExecutor([sys.executable, "-c",
            "import os, time; open({str(pidfile)!r}, 'w').write(str(os.getpid())); time.sleep(600)"])
        ex.run(ExecutionRequest("act-x", "restart", "service:cart", {{}}, "bot", "default", 1))
    """)
    proc = subprocess.Popen([sys.executable, "-c", server])
    deadline = time.monotonic() + 60
    while not (pidfile.exists() and pidfile.read_text()):
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.05)
    child = int(pidfile.read_text())
    proc.kill()  # kill -9 of the server
    proc.wait()
    deadline = time.monotonic() + 30
    while alive(child):
        assert time.monotonic() < deadline, "the executor outlived the server"
        time.sleep(0.05)


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


def test_a_command_that_times_out_is_ended_with_its_process_group():
    ex = CommandExecutor([sys.executable, "-c", "import time; time.sleep(600)"], timeout_s=0.5)
    from ccm.actions.executors import ExecutionRequest

    result = ex.run(ExecutionRequest("act-y", "restart", "service:cart", {}, "bot", "default", 1))
    assert not result.ok and "timed out" in result.detail


def test_ccm_serve_reconciles_before_it_listens(stranded, tmp_path):
    from ccm.api import Settings
    from ccm.api.app import reconcile_actions
    from tests.controlkit import AUDIT_KEY

    store, clock, aid = stranded
    kill_owner(store, aid)
    settings = Settings(store=str(tmp_path / "s.sqlite"), audit_key=AUDIT_KEY.private_b64())
    assert reconcile_actions(settings, clock) == 1
    assert store.get_record("actions", aid).doc["state"] == "unknown"
