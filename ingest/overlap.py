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
(measured: about 2.8 CPU-seconds per 100,000 facts against 2.35). So the CPU
time both get is checked as they go, and while it is under 1.2 CPUs this
process writes the batches itself, trying the writer again now and then.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from ccm.errors import BatchRejected
from graph_schema import FactError, NodeFact, validate
from graph_schema.facts import Fact
from ingest.core import Batch, FileReport
from ingest.writer import Writer, WriterDied, WriterFailed

if TYPE_CHECKING:
    from ingest.pipeline import _Run

#: batches handed to the writer and not yet answered, at most
DEPTH = 3
#: every this many batches sent to the writer, the two processes' CPU share is checked
WINDOW = 16
#: below this share (CPU seconds of both per second) they are not getting two CPUs
#: (other work holds one): the next batches are written here (less CPU in all)
MIN_SHARE = 1.2
#: batches written here before the writer is tried again (doubled at each busy check
#: in a row, so that a machine that stays busy is soon written alone)
LOCAL_BATCHES = 24

_Flight = tuple[Batch, int, list[Fact]]


class Overlap:
    """Takes one file's batches for a run, writing them through ``writer``."""

    def __init__(self, run: _Run, fr: FileReport, writer: Writer) -> None:
        self.run, self.fr, self.writer = run, fr, writer
        self.resolver = run.ctx.resolver
        self.flying: deque[_Flight] = deque()
        #: batches to hand over before the next one is built; True: build it again first
        self.todo: deque[tuple[Batch, bool]] = deque()
        #: batches still to write in this process (the CPUs were found busy), and the
        #: batches sent, wall and CPU time when the current window began
        self.local_left = 0
        self.backoff = LOCAL_BATCHES
        self.window = self._clocks(0)

    def take(self, batches: Iterable[Batch]) -> Iterator[Batch]:
        """Take each batch (yielded once handed over, for progress); every batch is
        settled when this ends, even early."""
        try:
            for batch in batches:
                self.todo.append((batch, False))
                self._drain(until=DEPTH)
                yield batch
        except WriterDied:
            for _, token, _ in self.flying:
                self.resolver.discard(token)
            self.flying.clear()
            self.todo.clear()
            raise
        finally:
            self._drain(until=1)

    def _drain(self, until: int) -> None:
        """Hand over what is to do, settling the oldest batch in flight whenever
        ``until`` are; ``until=1``: settle everything."""
        while self.todo or (until == 1 and self.flying):
            local = self.local_left > 0
            if self.flying and (len(self.flying) >= until or not self.todo or local):
                self._settle_oldest()
                continue
            batch, again = self.todo.popleft()
            if again and batch.redo is not None and not batch.after_stage:
                from ingest.pipeline import _rebuild

                batch = _rebuild(batch)
            if local:
                self.local_left -= 1
                self.run._take(batch, self.fr)
                if not self.local_left:
                    self.window = self._clocks(0)
                continue
            flight = self._hand_over(batch)
            if flight is not None:
                self.flying.append(flight)
                self._check_share()

    def _clocks(self, sent: int) -> tuple[int, float, float | None]:
        """``sent``, the wall time, and the CPU time of both processes (None: unknown)."""
        child = self.writer.cpu_seconds()
        return sent, time.perf_counter(), None if child is None else child + time.process_time()

    def _check_share(self) -> None:
        """Every :data:`WINDOW` batches sent: if the two processes got less than
        :data:`MIN_SHARE` CPUs meanwhile, they are sharing one (other work holds the
        other); write the next :data:`LOCAL_BATCHES` here."""
        sent, wall, cpu = self.window
        if sent + 1 < WINDOW:
            self.window = (sent + 1, wall, cpu)
            return
        self.window = now = self._clocks(0)
        if cpu is not None and now[2] is not None and now[2] - cpu < MIN_SHARE * (now[1] - wall):
            self.local_left, self.backoff = self.backoff, 2 * self.backoff
        else:
            self.backoff = LOCAL_BATCHES

    def _settle_oldest(self) -> None:
        if self._settle(self.flying.popleft()):
            return
        # not written: the writer skips the batches sent after it; build them again
        skipped = [self._skipped(f) for f in self.flying]
        self.flying.clear()
        self.writer.resync()
        self.resolver.drop_pending()  # of the batch built last, if it is still to do
        self.todo = deque([(b, True) for b in skipped] + [(b, True) for b, _ in self.todo])

    def _hand_over(self, batch: Batch) -> _Flight | None:
        """Send ``batch`` to the writer (validated), or take it here as usual: a batch
        with an error, one that waits for its stage, or any while the writer starts."""
        run, writer = self.run, self.writer
        try:
            if batch.error is not None or batch.after_stage or not batch.facts \
                    or (not self.flying and not writer.poll_ready()):
                run._take(batch, self.fr)
                return None
            self.fr.batches += 1
            try:
                facts = [validate(f) for f in batch.facts]
            except FactError as exc:
                run._reject(batch, self.fr, str(exc), self.resolver.seal())
                return None
            token = self.resolver.seal(f.ref for f in facts if type(f) is NodeFact)
            try:
                writer.send(facts)
            except WriterDied:
                self.resolver.discard(token)
                raise
        except WriterDied as exc:
            raise WriterDied(f"{exc}, before writing {batch.where} (the batches before it "
                             "were written; ingesting the file again is safe)") from None
        return batch, token, facts

    def _skipped(self, flight: _Flight) -> Batch:
        batch, token, _ = flight
        try:
            self.writer.skipped()
        except WriterDied as exc:
            raise WriterDied(f"{exc}, before writing {batch.where} (the batches before it "
                             "were written; ingesting the file again is safe)") from None
        self.resolver.discard(token)
        self.fr.batches -= 1
        return batch

    def _settle(self, flight: _Flight) -> bool:
        """Account for the oldest batch in flight once its result is back; True if
        written."""
        batch, token, facts = flight
        run, fr = self.run, self.fr
        try:
            result = self.writer.result()
        except WriterDied as exc:
            self.resolver.discard(token)
            raise WriterDied(f"{exc}, while writing {batch.where} (which may or may not be "
                             "written; the batches before it were; ingesting the file again "
                             "is safe)") from None
        except WriterFailed:  # rolled back there: write it here, with the usual outcome
            run._write(batch, fr, token, True)
            return False
        except BatchRejected as exc:
            unknown = exc.field in ("from", "to") and "unknown node" in exc.error.problem
            if unknown and batch.redo is not None:
                self.resolver.discard(token)
                run.deferred.append((batch, fr))
            else:
                run._reject(batch, fr, str(exc), token)
            return False
        fr.added += result.added
        fr.unchanged += result.unchanged
        fr.closed += result.closed
        self.resolver.commit(token, (f.ref for f in facts if type(f) is NodeFact))
        if batch.on_written is not None:
            batch.on_written()
        return True
