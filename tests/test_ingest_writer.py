"""The writer process: a big native file's writes overlap the building of its next batch,
and the store ends up with exactly the facts an in-process ingest writes."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import time
from pathlib import Path

from ccm.store import EmbeddedStore
from graph_schema import Close, EdgeFact, NodeFact
from graph_schema.timeutil import OPEN
from ingest import ingest_paths, overlap, pipeline
from ingest.writer import from_tuples, to_tuples, usable_cpus

AT = 1_772_323_200_000_000
_COLS = f"kind, attrs, hash, valid_from, valid_to, superseded_at = {OPEN}, source, origin"


def versions(path: Path) -> list[tuple]:
    """Every stored version, in write order, without the store's clock times."""
    with sqlite3.connect(path) as c:
        nodes = c.execute(f"SELECT ref, {_COLS} FROM node_versions ORDER BY seq").fetchall()
        edges = c.execute(f"SELECT fact_id, {_COLS} FROM edge_versions ORDER BY seq").fetchall()
        entities = c.execute("SELECT * FROM entities ORDER BY ref").fetchall()
    return [nodes, edges, entities]


def line(**rec) -> str:
    return json.dumps(rec) + "\n"


def topology(folder: Path) -> Path:
    """40 batches of 25 lines: services, databases named by bare names, a bad line (in
    batch 5), an edge to a node defined only later (batch 3 -> batch 30) and, in the
    batch after it, a bare name only that waiting batch defines."""
    out = []
    for i in range(1000):
        if i == 110:
            out.append("{not json\n")
        elif i == 59:
            out.append(line(type="edge", kind="DEPENDS_ON", **{"from": "svc-0", "to": "datastore:late"}))
        elif i == 62:
            out.append(line(type="node", kind="datastore", name="early"))
        elif i == 77:
            out.append(line(type="edge", kind="DEPENDS_ON", **{"from": "svc-3", "to": "early"}))
        elif i == 752:
            out.append(line(type="node", kind="datastore", name="late", attrs={"tier": "high"}))
        elif i % 3 == 0:
            out.append(line(type="node", kind="service", name=f"svc-{i}",
                            attrs={"language": "Go", "replicas": i % 7}))
        elif i % 3 == 1:
            out.append(line(type="node", kind="datastore", name=f"db-{i}"))
        else:
            out.append(line(type="edge", kind="DEPENDS_ON", time="2026-03-01T00:00:00Z",
                            attrs={"protocol": "grpc", "calls_per_s": 1e-7 * i},
                            **{"from": f"svc-{i - 2}", "to": f"db-{i - 1}"}))
    path = folder / "topology.jsonl"
    path.write_text("".join(out))
    return path


def alerts(folder: Path) -> Path:
    path = folder / "alerts.jsonl"
    path.write_text("".join(line(id=f"a-{i}", time="2026-03-02T00:00:00Z", service=f"x-{i % 40}",
                                 signal="errors", severity="warning",
                                 **({"ends_at": "2026-03-02T01:00:00Z"} if i % 2 else {}))
                            for i in range(400)))
    return path


def ingest(tmp_path: Path, name: str, files: list[Path], **kw):
    path = tmp_path / f"{name}.sqlite"
    store = EmbeddedStore(path)
    try:
        report = ingest_paths(store, files, at=AT, batch_size=25, **kw)
    finally:
        store.close()
    return report, path


def writer_children() -> list[int]:
    """Pids of this process's writer children."""
    out = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == os.getpid() and b"ingest.writer" in cmd:
            out.append(int(pid))
    return out


def use_the_writer_however_busy_the_machine_is(monkeypatch) -> None:
    monkeypatch.setattr(overlap, "MIN_IDLE", -1)
    monkeypatch.setattr(overlap, "MIN_SHARE", 0)
    monkeypatch.setattr(overlap, "FIRST_WINDOW", 1)


def test_facts_travel_to_the_writer_and_back_unchanged():
    facts = [NodeFact("service", "a", {"x": [1, 2.5]}, 5, None, "src", "f:1"),
             EdgeFact("DEPENDS_ON", "service:a", "service:b", {}, 0, 9, "", "f:2"),
             Close("service:a", 7, "src", "f:3")]
    rows, canon = to_tuples(facts)
    assert from_tuples(rows) == facts
    assert canon[0] == ('{"x":[1,2.5]}', canon[0][1]) and canon[2] is None


def test_a_big_file_through_the_writer_stores_exactly_what_an_in_process_ingest_does(
        tmp_path, monkeypatch):
    files = [topology(tmp_path), alerts(tmp_path)]
    monkeypatch.setenv("CCM_INGEST_WRITER", "0")
    plain, plain_path = ingest(tmp_path, "plain", files)
    monkeypatch.delenv("CCM_INGEST_WRITER")
    monkeypatch.setattr(pipeline, "MIN_BYTES", 0)
    use_the_writer_however_busy_the_machine_is(monkeypatch)
    started, resyncs, real = [], [], pipeline.Writer

    def counted(path: Path) -> pipeline.Writer:
        started.append(path)
        writer = real(path)
        resync = writer.resync
        writer.resync = lambda: resyncs.append(1) or resync()  # type: ignore[method-assign]
        return writer

    calls = []

    def wait_for_the_writer(name: str, done: int, total: int) -> None:
        calls.append(done)
        if len(calls) == 1:
            time.sleep(1)  # the writer is ready by now (about 0.2 s): batch 2 on go to it

    monkeypatch.setattr(pipeline, "Writer", counted)
    overlapped, path = ingest(tmp_path, "overlapped", files, progress=wait_for_the_writer)
    assert len(started) == 1  # one process for the run, both files
    # batches 3 and 7 were not written (3 waits for a node, 7 for batch 5's node): the
    # ones sent after them were skipped and built again
    assert len(resyncs) >= 2
    assert overlapped.to_dict() == plain.to_dict()
    # the bad line is rejected alone; the good lines of its batch are written
    errors = plain.files[0].errors
    assert len(errors) == 1 and "topology.jsonl:111" in errors[0] and "'(line)'" in errors[0]
    assert plain.totals()["rejected"] == 1
    assert versions(path) == versions(plain_path)
    g = versions(path)[1]
    assert any(r[0] == "service:svc-0|DEPENDS_ON|datastore:late" for r in g)
    assert any(r[0] == "service:svc-3|DEPENDS_ON|datastore:early" for r in g)
    assert writer_children() == []


def test_small_files_are_written_in_process(tmp_path, monkeypatch):
    started = []
    monkeypatch.setattr(pipeline, "Writer", started.append)
    report, _ = ingest(tmp_path, "small", [alerts(tmp_path)])
    assert report.ok and report.totals()["added"] > 0
    assert started == []


def test_batches_go_back_and_forth_between_the_writer_and_this_process_unchanged(
        tmp_path, monkeypatch):
    files = [topology(tmp_path)]
    monkeypatch.setenv("CCM_INGEST_WRITER", "0")
    plain, plain_path = ingest(tmp_path, "plain", files)
    monkeypatch.delenv("CCM_INGEST_WRITER")
    monkeypatch.setattr(pipeline, "MIN_BYTES", 0)
    # every 2 batches, the CPUs are found idle (while local) or too busy (while not)
    monkeypatch.setattr(overlap, "MIN_IDLE", -1)
    monkeypatch.setattr(overlap, "MIN_SHARE", 100)
    monkeypatch.setattr(overlap, "WINDOW", 2)
    monkeypatch.setattr(overlap, "FIRST_WINDOW", 1)
    sent, real = [], pipeline.Writer

    def counted(path: Path) -> pipeline.Writer:
        writer = real(path)
        send = writer.send
        writer.send = lambda facts: sent.append(1) or send(facts)  # type: ignore[method-assign]
        return writer

    monkeypatch.setattr(pipeline, "Writer", counted)
    calls = []

    def wait_for_the_writer(name: str, done: int, total: int) -> None:
        calls.append(done)
        if len(calls) == 1:
            time.sleep(1)

    mixed, path = ingest(tmp_path, "mixed", files, progress=wait_for_the_writer)
    assert 10 <= len(sent) <= 30  # of 40 batches: 2 at a time, between 2 written here
    assert mixed.to_dict() == plain.to_dict()
    assert versions(path) == versions(plain_path)


def test_a_writer_that_dies_is_named_and_nothing_hangs(tmp_path, monkeypatch):
    monkeypatch.setattr(pipeline, "MIN_BYTES", 0)
    use_the_writer_however_busy_the_machine_is(monkeypatch)
    path = topology(tmp_path)
    killed, calls = [], []

    def progress(name: str, done: int, total: int) -> None:
        calls.append(done)
        if len(calls) == 1:
            time.sleep(1)  # the writer is ready by now (about 0.2 s), unless the machine is busy
        if done > total // 2 and not killed:
            killed.extend(writer_children())
            for pid in killed:
                os.kill(pid, signal.SIGKILL)

    report, db = ingest(tmp_path, "died", [path], progress=progress)
    assert killed
    died = [e for e in report.files[0].errors if "writer process stopped" in e]
    assert len(died) == 1 and "ingesting the file again is safe" in died[0]
    written = len(versions(db)[0])
    assert written > 0
    monkeypatch.setenv("CCM_INGEST_WRITER", "0")
    store = EmbeddedStore(db)
    again = ingest_paths(store, [path], at=AT, batch_size=25)
    store.close()
    assert again.totals()["rejected"] == 1 and again.totals()["unchanged"] > 0
    assert len(versions(db)[0]) > written


def test_the_writer_can_be_turned_off(tmp_path, monkeypatch):
    monkeypatch.setattr(pipeline, "MIN_BYTES", 0)
    monkeypatch.setenv("CCM_INGEST_WRITER", "0")
    started = []
    monkeypatch.setattr(pipeline, "Writer", started.append)
    report, _ = ingest(tmp_path, "off", [alerts(tmp_path)])
    assert report.ok and started == []


def test_a_big_file_on_a_busy_machine_is_written_here_without_a_writer(tmp_path, monkeypatch):
    monkeypatch.setattr(pipeline, "MIN_BYTES", 0)
    monkeypatch.setattr(overlap, "MIN_IDLE", 100)  # never that many idle CPUs
    monkeypatch.setattr(overlap, "WINDOW", 2)
    started = []
    monkeypatch.setattr(pipeline, "Writer", started.append)
    report, _ = ingest(tmp_path, "busy", [alerts(tmp_path)])
    assert report.ok and report.totals()["added"] == 840 and started == []


def _cgroups(tmp_path, self_cgroup: str, files: dict[str, str]):
    root = tmp_path / "cgroup"
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    (tmp_path / "self").write_text(self_cgroup)
    return root, tmp_path / "self"


def test_a_container_cpu_limit_caps_the_cpus_a_writer_may_use(tmp_path):
    affinity = len(os.sched_getaffinity(0))
    # cgroup v2: the process's own cgroup says 1.5 CPUs, its parent 4, the root none
    root, me = _cgroups(tmp_path, "0::/pod/app\n", {
        "cpu.max": "max 100000\n", "pod/cpu.max": "400000 100000\n",
        "pod/app/cpu.max": "150000 100000\n"})
    assert usable_cpus(root, me) == min(affinity, 1.5)
    # cgroup v1: the cpu controller's hierarchy, quota -1 meaning none
    root, me = _cgroups(tmp_path / "v1", "4:cpu,cpuacct:/ctr\n1:memory:/ctr\n", {
        "cpu,cpuacct/ctr/cpu.cfs_quota_us": "50000\n",
        "cpu,cpuacct/ctr/cpu.cfs_period_us": "100000\n",
        "cpu,cpuacct/cpu.cfs_quota_us": "-1\n", "cpu,cpuacct/cpu.cfs_period_us": "100000\n"})
    assert usable_cpus(root, me) == 0.5
    # no quota anywhere, or nothing readable: the CPUs the process may run on
    root, me = _cgroups(tmp_path / "none", "0::/\n", {"cpu.max": "max 100000\n"})
    assert usable_cpus(root, me) == affinity
    assert usable_cpus(tmp_path / "missing", tmp_path / "missing-self") == affinity
