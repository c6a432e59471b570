"""Overlapped writes: batch k is written by the writer process (:mod:`ingest.writer`)
while this process builds batch k+1 (and k+2).

Up to :data:`DEPTH` batches are in flight, written in order, each in its own
transaction. A batch is built as it would be once the batches in flight are
written: their nodes count as existing (the resolver's sealed tokens hold every
node of each). If a batch in flight is not written (rejected, or kept to retry
once its nodes exist), the writer skips the batches sent after it, and they and
the batch being built are built again, one by one, as they would have been
after that batch: the outcome is the same as writing every batch before
building the next.

Two processes only pay with a free CPU: with both CPUs busy (other work on the
machine) they share one and spend more CPU than one process writing alone
(measured: about 2.8 CPU-seconds per 100,000 facts against 2.35). So a file
starts written here; after a few batches, and every :data:`WINDOW` batches, the
writer is used if the machine had an idle CPU meanwhile (from ``/proc/stat``),
and left while the two processes get less than :data:`MIN_SHARE` CPUs.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterable, Iterator

from ccm.errors import BatchRejected
from graph_schema import FactError, NodeFact
from ingest.core import Batch, FileReport
from ingest.records import Ready, Sink, ready, rebuild
from ingest.writer import TICKS as _TICKS
from ingest.writer import Writer, WriterDied, WriterFailed

#: batches handed to the writer and not yet answered, at most
DEPTH = 3
#: every this many batches, whether to use the writer is decided again
WINDOW = 16
#: the first decision comes after this many batches (written here)
FIRST_WINDOW = 4
#: the writer is used once the machine had this many CPUs idle while this process
#: wrote alone (the writer would have them)
MIN_IDLE = 0.6
#: and left when the two processes get less than this many CPUs between them (other
#: work holds one): they then spend more CPU in all than this process writing alone
MIN_SHARE = 1.2

_Flight = tuple[Batch, int, Ready]


class Overlap:
    """Takes one file's batches for a run, writing them through ``writer``."""

    def __init__(self, run: Sink, fr: FileReport) -> None:
        self.run, self.fr = run, fr
        self.writer: Writer | None = None
        self.resolver = run.ctx.resolver
        self.flying: deque[_Flight] = deque()
        #: batches to hand over before the next one is built; True: build it again first
        self.todo: deque[tuple[Batch, bool]] = deque()
        #: whether batches are written here (until a check finds an idle CPU)
        self.local = True
        #: batches taken in this window; its start: wall time, and CPU ticks (idle ones of
        #: the machine while local, else used by both processes; None: unknown)
        self.window: tuple[int, float, float | None] = (
            WINDOW - FIRST_WINDOW, time.perf_counter(), _idle_ticks())

    def take(self, batches: Iterable[Batch]) -> Iterator[Batch]:
        """Take each batch (yielded once handed over, for progress); every batch is
        settled when this ends, even early."""
        dead = False
        try:
            for batch in batches:
                self.todo.append((batch, False))
                self._drain(until=DEPTH)
                yield batch
        except WriterDied:
            dead = True
            self._abandon()
            raise
        finally:
            if not dead:
                try:
                    self._drain(until=1)
                except WriterDied:
                    self._abandon()
                    raise

    def _abandon(self) -> None:
        """The writer died: forget the batches in flight and those still to do (the
        error names the first of them; the ones before it were written)."""
        for _, token, _ in self.flying:
            self.resolver.discard(token)
        self.flying.clear()
        self.todo.clear()
        self.resolver.drop_pending()  # of the batch built last, never handed over

    def _drain(self, until: int) -> None:
        """Hand over what is to do, settling the oldest batch in flight whenever
        ``until`` are; ``until=1``: settle everything."""
        while self.todo or (until == 1 and self.flying):
            local = self.local
            if self.flying and (len(self.flying) >= until or not self.todo or local):
                self._settle_oldest()
                continue
            batch, again = self.todo.popleft()
            if again and batch.redo is not None and not batch.after_stage:
                batch = rebuild(batch)
            if local or self.writer is None:
                self.run.take(batch, self.fr)
            else:
                flight = self._hand_over(batch, self.writer)
                if flight is not None:
                    self.flying.append(flight)
            self._check()

    def _check(self) -> None:
        """Every :data:`WINDOW` batches: while local, use the writer if the machine had
        :data:`MIN_IDLE` CPUs idle; while using it, leave it if both processes got less
        than :data:`MIN_SHARE` CPUs (other work holds one: they share the other)."""
        n, wall, ticks = self.window
        if n + 1 < WINDOW:
            self.window = (n + 1, wall, ticks)
            return
        elapsed = time.perf_counter() - wall
        if self.local:
            idle = _idle_ticks()
            if ticks is None or idle is None or (idle - ticks) / _TICKS >= MIN_IDLE * elapsed:
                self.writer = self.run.start_writer()
                self.local = self.writer is None
        else:
            assert self.writer is not None
            used = self.writer.cpu_seconds()
            if ticks is not None and used is not None and \
                    used + time.process_time() - ticks < MIN_SHARE * elapsed:
                self.local = True
        self._restart_window()

    def _restart_window(self) -> None:
        if self.local:
            self.window = (0, time.perf_counter(), _idle_ticks())
            return
        assert self.writer is not None
        used = self.writer.cpu_seconds()
        self.window = (0, time.perf_counter(),
                       None if used is None else used + time.process_time())

    def _settle_oldest(self) -> None:
        if self._settle(self.flying.popleft()):
            return
        # not written: the writer skips the batches sent after it; build them again
        assert self.writer is not None
        skipped = [self._skipped(self.writer, f) for f in self.flying]
        self.flying.clear()
        self.writer.resync()
        self.resolver.drop_pending()  # of the batch built last, if it is still to do
        self.todo = deque([(b, True) for b in skipped] + [(b, True) for b, _ in self.todo])

    def _hand_over(self, batch: Batch, writer: Writer) -> _Flight | None:
        """Send ``batch`` to the writer (validated), or take it here as usual: a batch
        with an error, one that waits for its stage, or any while the writer starts."""
        run = self.run
        try:
            if batch.error is not None or batch.after_stage or not batch.facts \
                    or (not self.flying and not writer.poll_ready()):
                run.take(batch, self.fr)
                return None
            self.fr.batches += 1
            try:
                rd = ready(batch)
            except FactError as exc:
                run.reject(batch, self.fr, str(exc), self.resolver.seal())
                return None
            token = self.resolver.seal(f.ref for f in rd.facts if type(f) is NodeFact)
            try:
                writer.send(rd.facts)
            except WriterDied:
                self.resolver.discard(token)
                raise
        except WriterDied as exc:
            raise WriterDied(f"{exc}, before writing {batch.where} (the batches before it "
                             "were written; ingesting the file again is safe)") from None
        return batch, token, rd

    def _skipped(self, writer: Writer, flight: _Flight) -> Batch:
        batch, token, _ = flight
        try:
            writer.skipped()
        except WriterDied as exc:
            raise WriterDied(f"{exc}, before writing {batch.where} (the batches before it "
                             "were written; ingesting the file again is safe)") from None
        self.resolver.discard(token)
        self.fr.batches -= 1
        return batch

    def _settle(self, flight: _Flight) -> bool:
        """Account for the oldest batch in flight once its result is back; True if
        written."""
        batch, token, rd = flight
        run, fr = self.run, self.fr
        assert self.writer is not None
        try:
            result = self.writer.result()
        except WriterDied as exc:
            self.resolver.discard(token)
            raise WriterDied(f"{exc}, while writing {batch.where} (which may or may not be "
                             "written; the batches before it were; ingesting the file again "
                             "is safe)") from None
        except (WriterFailed, BatchRejected):
            # rolled back there: write it here, with the usual outcome (a refused record
            # is rejected alone, a batch naming nodes not written yet kept to retry)
            run.write(batch, fr, token, True)
            return False
        run.written(batch, fr, token, rd, result)
        return True


def _idle_ticks() -> int | None:
    """Idle CPU time of the whole machine so far, in clock ticks (None: unknown)."""
    try:
        with open("/proc/stat", "rb") as fh:
            fields = fh.readline().split()
        return int(fields[4]) + int(fields[5])  # idle, iowait
    except (OSError, ValueError, IndexError):
        return None
