"""A writer process: the embedded store's writes on the second CPU while ingest maps.

For a large native JSONL file into the embedded (SQLite) store, the pipeline
(:mod:`ingest.pipeline`) reads, parses, maps and validates batch k+1 in this
process while a child process (:func:`main`, given the store's file) plans
and writes batch k in its own connection to the same file. Each batch is still
one transaction, written in order; a few batches are in flight at a time, and the
batches after one that was not written are skipped by the child and built again
(:mod:`ingest.overlap`), so a rejected batch is handled exactly as without it.

Batches travel as pickled tuples of primitives (a fact is ``(0, kind, name,
attrs, valid_from, valid_to, source, origin)``, ``(1, kind, src, dst, ...)`` or
``(2, fact_id, at, source, origin)``), about half a microsecond per fact both
ways; results come back as ``("ok", added, unchanged, closed)``, ``("rejected",
where, field, value, problem, index, total)`` or ``("failed", message)``. The
child starts in the background (about 0.2 s): batches are written in this
process until it says it is ready. If it dies, :class:`WriterDied` says so; it
never hangs the ingest.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import select
import signal
import struct
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

from ccm.errors import BatchRejected, CCMError
from ccm.store.plan import canonical_attrs
from ccm.store.types import WriteResult
from graph_schema import Close, EdgeFact, FactError, NodeFact
from graph_schema.facts import Fact

#: input files at least this big (bytes) are written through a writer process;
#: smaller ones are not worth a process start (measured: about 0.2 s of the other CPU)
MIN_BYTES = 4 * 1024 * 1024
_LEN = struct.Struct("<I")
#: clock ticks per second (of /proc CPU times)
TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


class WriterDied(CCMError):
    """The writer process stopped (or could not be reached) before answering."""


def to_tuples(facts: Sequence[Fact]) -> tuple[list[tuple[Any, ...]], list[Any]]:
    """The compact, picklable form of validated facts (see the module docstring), and
    each one's canonical attributes (:func:`ccm.store.plan.canonical_attrs`, computed
    here to spare the writer process: it is the busier one)."""
    out: list[tuple[Any, ...]] = []
    canon: list[Any] = []
    for f in facts:
        if type(f) is EdgeFact:
            out.append((1, f.kind, f.src, f.dst, f.attrs, f.valid_from, f.valid_to, f.source,
                        f.origin))
        elif type(f) is NodeFact:
            out.append((0, f.kind, f.name, f.attrs, f.valid_from, f.valid_to, f.source,
                        f.origin))
        else:
            assert type(f) is Close
            out.append((2, f.fact_id, f.at, f.source, f.origin))
            canon.append(None)
            continue
        canon.append(canonical_attrs(f.attrs))
    return out, canon


def from_tuples(rows: Sequence[tuple[Any, ...]]) -> list[Fact]:
    """The facts :func:`to_tuples` encoded."""
    return [EdgeFact(*r[1:]) if r[0] == 1 else NodeFact(*r[1:]) if r[0] == 0 else Close(*r[1:])
            for r in rows]


def _send(out: IO[bytes], msg: Any) -> None:
    data = pickle.dumps(msg, protocol=pickle.HIGHEST_PROTOCOL)
    out.write(_LEN.pack(len(data)))
    out.write(data)
    out.flush()


def _recv(inp: IO[bytes]) -> Any:
    """The next message, or None at the end of the stream."""
    head = inp.read(_LEN.size)
    if len(head) < _LEN.size:
        return None
    (n,) = _LEN.unpack(head)
    data = inp.read(n)
    if len(data) < n:
        return None
    return pickle.loads(data)  # noqa: S301 - our own child, over our own pipe


def eligible(store: Any) -> bool:
    """Whether ``store`` can be written by a writer process: the embedded store on
    its own clock (an injected clock cannot cross a process), on a POSIX machine
    (pipes polled with select, CPU time read from /proc) where this process may use
    two CPUs (:func:`usable_cpus`), unless ``CCM_INGEST_WRITER=0``."""
    from ccm.store.embedded import EmbeddedStore
    from graph_schema.timeutil import now_micros

    return (os.name == "posix" and bool(sys.executable) and type(store) is EmbeddedStore
            and store._clock is now_micros and usable_cpus() >= 2
            and os.environ.get("CCM_INGEST_WRITER") != "0")


def usable_cpus(cgroup: Path = Path("/sys/fs/cgroup"),
                self_cgroup: Path = Path("/proc/self/cgroup")) -> float:
    """How many CPUs this process may use: the CPUs it may run on, capped by the CPU
    quotas of its cgroup and the cgroups above it (a container's CPU limit: v2
    ``cpu.max``, or v1 ``cpu.cfs_quota_us`` over ``cpu.cfs_period_us``).
    ``/proc/stat``, which :mod:`ingest.overlap` reads for idle time, shows the
    host's CPUs, so without this a container limited to one CPU would start a
    writer that only competes with this process for it."""
    try:
        cpus = float(len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        cpus = float(os.cpu_count() or 1)
    return min([cpus, *_cgroup_quotas(cgroup, self_cgroup)])


def _cgroup_quotas(root: Path, self_cgroup: Path) -> list[float]:
    """The CPU quotas (in CPUs) of this process's cgroups, from its own up."""
    try:
        lines = self_cgroup.read_text().splitlines()
    except OSError:
        return []
    quotas: list[float] = []
    for line in lines:
        hid, controllers, path = (line.split(":", 2) + ["", ""])[:3]
        if hid == "0" and controllers == "":  # v2: one hierarchy, cpu.max per level
            files: tuple[str, ...] = ("cpu.max",)
            v2 = True
            base = root
        elif "cpu" in controllers.split(","):  # v1: the cpu controller's hierarchy
            files, v2 = ("cpu.cfs_quota_us", "cpu.cfs_period_us"), False
            base = next((root / c for c in (controllers, "cpu", "cpu,cpuacct")
                         if (root / c).is_dir()), root / "cpu")
        else:
            continue
        parts = [p for p in path.strip().split("/") if p]
        for depth in range(len(parts), -1, -1):
            folder = base.joinpath(*parts[:depth])
            try:
                texts = [(folder / f).read_text().split() for f in files]
                if v2:
                    quota, period = texts[0]
                else:
                    quota, period = texts[0][0], texts[1][0]
                if quota not in ("max", "-1") and int(period) > 0:
                    quotas.append(int(quota) / int(period))
            except (OSError, ValueError, IndexError):
                continue
    return quotas


class Writer:
    """The parent's end: starts the child, sends a batch, waits for its result."""

    def __init__(self, path: Path) -> None:
        root = str(Path(__file__).resolve().parent.parent)
        env = {**os.environ,
               "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")])}
        self.proc = subprocess.Popen(  # noqa: S603 - this interpreter, this module
            [sys.executable, "-c", "import sys, ingest.writer as w; sys.exit(w.main(sys.argv[1:]))",
             str(path)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self._in, self._out = self.proc.stdin, self.proc.stdout
        self.ready = False

    def poll_ready(self) -> bool:
        """Whether the child has started (never waits)."""
        if not self.ready and select.select([self._out], [], [], 0)[0]:
            msg = self._recv()
            if msg != ("ready",):
                raise WriterDied(f"the writer process said {msg!r} instead of ready")
            self.ready = True
        return self.ready

    def cpu_seconds(self) -> float | None:
        """CPU time the child has used so far (None where /proc cannot tell)."""
        try:
            stat = Path(f"/proc/{self.proc.pid}/stat").read_bytes()
            fields = stat[stat.rindex(b")") + 2:].split()
            return (int(fields[11]) + int(fields[12])) / TICKS
        except (OSError, ValueError, IndexError):
            return None

    def send(self, facts: Sequence[Fact]) -> None:
        try:
            _send(self._in, to_tuples(facts))
        except (BrokenPipeError, OSError) as exc:
            raise self._died(f"cannot reach it ({exc})") from None

    def resync(self) -> None:
        """After a batch that was not written (and the ones sent after it, skipped):
        write what comes next."""
        try:
            _send(self._in, "resync")
        except OSError as exc:
            raise self._died(f"cannot reach it ({exc})") from None

    def skipped(self) -> None:
        """Read the answer for a batch sent after one that was not written."""
        msg = self._recv()
        if msg != ("skipped",):
            raise WriterDied(f"the writer process answered {msg[0]!r} for a skipped batch")

    def result(self) -> WriteResult:
        """The result of the batch sent last; raises its BatchRejected, or
        :class:`WriterDied`. A batch the child failed to write for another reason
        (its transaction rolled back) raises :class:`WriterFailed`."""
        msg = self._recv()
        if msg[0] == "ok":
            return WriteResult(added=msg[1], unchanged=msg[2], closed=msg[3])
        if msg[0] == "rejected":
            where, field, value, problem, index, total = msg[1:]
            raise BatchRejected(FactError(where, field, value, problem), index, total)
        raise WriterFailed(str(msg[1]))

    def _recv(self) -> Any:
        try:
            msg = _recv(self._out)
        except OSError as exc:
            raise self._died(str(exc)) from None
        if msg is None:
            raise self._died("no answer")
        return msg

    def _died(self, why: str) -> WriterDied:
        try:
            code = self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        return WriterDied(f"the writer process stopped (exit code {code}): {why}")

    def close(self) -> None:
        """End the child (it finishes nothing: no batch is in flight) and reap it."""
        with contextlib.suppress(OSError):
            self._in.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._out.close()


class WriterFailed(CCMError):
    """The child could not write a batch for a reason other than its facts (rolled back)."""


def _answer(store: Any, msg: tuple[list[tuple[Any, ...]], list[Any]]) -> tuple[Any, ...]:
    rows, canon = msg
    try:
        r = store.write(from_tuples(rows), validated=True, canon=canon)
    except BatchRejected as exc:
        e = exc.error
        value = e.value
        try:
            pickle.dumps(value)
        except Exception:  # noqa: BLE001 - any value that does not pickle is shown as text
            value = repr(value)
        return ("rejected", e.where, e.field, value, e.problem, exc.index, exc.total)
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which retries in-process
        return ("failed", f"{type(exc).__name__}: {exc}")
    return ("ok", r.added, r.unchanged, r.closed)


def main(argv: list[str]) -> int:
    """The child: write each batch read from stdin, answer on stdout, until stdin ends."""
    from ccm.store.embedded import EmbeddedStore
    from ingest.gcpause import enable, fewer_collections

    inp, out = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing but answers goes to the parent's pipe
    # Ctrl-C reaches the whole process group: the parent decides (it closes our stdin)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    store = EmbeddedStore(argv[0])
    enable()  # this process is ingest's own: its collector may be tuned
    try:
        with fewer_collections():
            _send(out, ("ready",))
            skipping = False  # after a batch not written, until the parent resyncs
            while (msg := _recv(inp)) is not None:
                if msg == "resync":
                    skipping = False
                elif skipping:
                    _send(out, ("skipped",))
                else:
                    answer = _answer(store, msg)
                    skipping = answer[0] != "ok"
                    _send(out, answer)
    except BrokenPipeError:
        return 1
    finally:
        store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
