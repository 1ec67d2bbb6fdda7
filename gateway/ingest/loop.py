"""The loop: one thread decodes batch N+1 while another commits batch N, in order.

Decoding holds the GIL; SQLite's statement steps and the fsync of a commit release it, so the
two stages overlap. Each batch is still acknowledged only after its own commit, batches commit
and acknowledge in the order they arrived, and at most one prepared batch waits for the
committer (with the one being committed, that bounds what is held in memory).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from gateway.errors import StoreError
from gateway.events import Event
from gateway.ingest.batch import Batch
from gateway.ingest.commit import Committer
from gateway.ingest.decode import Decoder
from gateway.ingest.handoff import Handoff
from gateway.ingest.live import IngestStats
from gateway.ingest.messages import RawMessage
from gateway.ingest.ports import EventSink
from gateway.supervisor import Loop, Supervisor

log = logging.getLogger(__name__)

Prepared = tuple[list[RawMessage], Batch]
# messages decoded into a waiting batch between two looks at whether the committer is free:
# a few milliseconds of decoding, where a whole queue's worth had kept it waiting for 30-90 ms
GROW_STEP = 200
APPLY_TRIES = 3  # a batch whose apply keeps failing is given up (logged) after this many
T = TypeVar("T")


@dataclass(slots=True)
class Stages:
    """What the loop drives: the decoder, the committer, the supervisor its threads report
    to, and how large and how old a batch may grow."""

    decoder: Decoder
    committer: Committer
    supervisor: Supervisor
    batch_size: int = 500
    batch_s: float = 0.05


class Flight:
    """Batches decoded and not yet committed (the loop runs one ahead)."""

    def __init__(self) -> None:
        self._n = 0
        self._cond = threading.Condition()

    def begin(self) -> None:
        with self._cond:
            self._n += 1

    def end(self) -> None:
        with self._cond:
            self._n -= 1
            if self._n == 0:
                self._cond.notify_all()

    def idle(self) -> bool:
        """True when no decoded batch is waiting or being committed."""
        return self._n == 0

    def wait_idle(self) -> None:
        with self._cond:
            self._cond.wait_for(lambda: self._n == 0)


def run_loop(st: Stages, source: Handoff, stop: threading.Event) -> None:
    """Collect, decode and hand batches to the committer until ``stop`` and ``source`` is
    empty; returns once every decoded batch is committed (or given up at shutdown).

    A decoded batch goes to the committer at once when it is idle. While it is busy, what
    arrives meanwhile is decoded and added to the same batch (up to ``batch_size``), so
    under load batches grow instead of queueing: the per-commit cost (a sync to disk, a
    round trip to the writer process) is paid once for all of them."""
    ready: queue.Queue[Prepared | None] = queue.Queue(maxsize=1)
    flight = Flight()
    applier = _Applier(st.committer.sink, st.supervisor.loop("ingest-apply"), st.committer.stats)
    committer = threading.Thread(
        target=_commit_loop, args=(st, ready, stop, flight, applier), name="ingest-commit",
        daemon=True,
    )  # fmt: skip
    commit_loop = st.supervisor.loop("ingest-commit")
    commit_loop.thread, commit_loop.stopped = committer, False
    committer.start()
    try:
        _decode_loop(st, source, stop, ready, flight)
    finally:
        ready.put(None)
        committer.join()
        applier.close()  # every committed batch applied before the loop returns


def _decode_loop(st: Stages, source: Handoff, stop: threading.Event,
                 ready: queue.Queue[Prepared | None], flight: Flight) -> None:  # fmt: skip
    loop = st.supervisor.loop("ingest-worker")
    pending: Prepared | None = None
    try:
        while not (stop.is_set() and source.empty() and pending is None):
            loop.beat()  # before taking messages: a failing pass holds none of them
            if pending is not None:
                full = len(pending[0]) >= st.batch_size or stop.is_set()
                if full or flight.idle():
                    _hand_on(st, ready, pending, flight)
                    pending = None
                    continue
            if pending is None:
                room = st.batch_size
            else:  # in short runs, so the batch goes on soon after the committer is free
                room = min(st.batch_size - len(pending[0]), GROW_STEP)
            msgs = source.get_many(room, timeout=0.2 if pending is None else 0.002)
            if not msgs:
                continue
            if pending is None:
                msgs = _collect(st, msgs, source, stop)
            elif any(m.dup and m.qos for m in msgs):
                # a redelivery is checked against committed batches only: commit this first
                _hand_on(st, ready, pending, flight)
                pending = None
            prepared = _decode_until_done(st, msgs, stop, flight)
            if prepared is None:
                continue
            if pending is None:
                pending = prepared
            else:
                pending[0].extend(prepared[0])
                pending[1].extend(prepared[1])
    finally:
        if pending is not None:
            _hand_on(st, ready, pending, flight)


def _hand_on(st: Stages, ready: queue.Queue[Prepared | None], batch: Prepared,
             flight: Flight) -> None:  # fmt: skip
    """Give a decoded batch to the committer (waiting while one is already waiting)."""
    try:
        st.committer.writer.seal(batch[1])
    except Exception:  # the write packs it then, where a failure is retried
        log.exception("packing a batch ahead of its commit failed")
        batch[1].sealed = None
    flight.begin()
    ready.put(batch)


class _Applier:
    """Applies committed batches' events to the live state on a thread of its own, in commit
    order, so the commit thread can start the next batch meanwhile. Bounded: a commit waits
    when two batches are still to be applied."""

    def __init__(self, sink: EventSink, loop: Loop, stats: IngestStats) -> None:
        self.sink = sink
        self.loop = loop
        self.stats = stats
        self._q: queue.Queue[tuple[list[Event], float] | None] = queue.Queue(maxsize=2)
        self._thread = threading.Thread(target=self._run, name="ingest-apply", daemon=True)
        loop.thread, loop.stopped = self._thread, False
        self._thread.start()

    def apply_events(self, events: list[Event], now: float) -> None:
        self.stats.handed_on += len(events)
        self._q.put((events, now))

    def close(self) -> None:
        self._q.put(None)
        self._thread.join()

    def _run(self) -> None:
        while (item := self._q.get()) is not None:
            for attempt in range(APPLY_TRIES):
                try:
                    self.loop.beat()
                    self.sink.apply_events(*item)
                except Exception as err:  # the live state must go on with the next batch
                    self.loop.failed(err, "applying a committed batch to the live state")
                    if attempt + 1 == APPLY_TRIES:
                        log.error("gave up applying a batch of %d events", len(item[0]))
                    else:
                        time.sleep(0.05)
                else:
                    self.loop.passed()
                    break
            self.stats.applied += len(item[0])


def _collect(
    st: Stages, msgs: list[RawMessage], source: Handoff, stop: threading.Event
) -> list[RawMessage]:
    """A batch: up to ``batch_size``, at most ``batch_s`` old, closed early when the stream
    pauses for a 25th of ``batch_s`` (light traffic commits at once; under load the committer
    is busy, messages gather in the queue meanwhile and the next batch takes them at once)."""
    gap = max(st.batch_s / 25, 0.001)
    now = time.monotonic()
    deadline, quiet_until = now + st.batch_s, now + gap
    while len(msgs) < st.batch_size:
        now = time.monotonic()
        if stop.is_set() or now >= deadline or now >= quiet_until:
            break
        # short waits, so a stop commits what is held at once
        more = source.get_many(
            st.batch_size - len(msgs), min(deadline - now, quiet_until - now, 0.05)
        )
        if more:
            msgs = [*msgs, *more]
            quiet_until = time.monotonic() + gap
    return msgs


def _decode_until_done(
    st: Stages, msgs: list[RawMessage], stop: threading.Event, flight: Flight
) -> Prepared | None:
    """Decode a batch; a store error (reading the redelivery record) is retried like a
    failed commit. None when given up at shutdown (nothing of it acknowledged).

    A batch holding DUPs waits until every earlier batch has committed, so the redelivery
    of a message in a batch still committing is recognised too."""
    if any(m.dup and m.qos for m in msgs):
        flight.wait_idle()
    return _retry(st, lambda: st.decoder.decode(msgs), len(msgs), stop, "ingest-worker")


def _commit_loop(st: Stages, ready: queue.Queue[Prepared | None], stop: threading.Event,
                 flight: Flight, sink: EventSink) -> None:  # fmt: skip
    gave_up = False
    while True:
        item = ready.get()
        if item is None:
            return
        try:
            if not gave_up:  # a later batch must not commit past one left unacknowledged
                commit = _Commit(st, *item, sink)
                gave_up = _retry(st, commit, len(item[0]), stop, "ingest-commit") is None
        finally:
            flight.end()


class _Commit:
    """One attempt at committing a decoded batch (retried as a whole on a store error)."""

    def __init__(self, st: Stages, msgs: list[RawMessage], batch: Batch, sink: EventSink) -> None:
        self.st, self.msgs, self.batch, self.sink = st, msgs, batch, sink

    def __call__(self) -> bool:
        st = self.st
        st.supervisor.loop("ingest-commit").beat()
        committer = st.committer
        fresh = not committer.writer.landed(self.batch)  # committed by an earlier try: keep it
        if fresh and committer.stale(self.msgs):
            # the connection changed while it waited: decode it again without the messages
            # the broker will resend (every earlier batch has committed by now)
            self.msgs, self.batch = st.decoder.decode(self.msgs)
        committer.commit(self.msgs, self.batch, self.sink)
        return True


def _retry(st: Stages, step: Callable[[], T], n: int, stop: threading.Event, name: str) -> T | None:
    """Run ``step`` until it succeeds; a store error or a bug keeps the batch, acknowledges
    nothing and retries with backoff, so the broker holds (and redelivers) rather than us
    dropping it. None when given up at shutdown. Each try is a pass of loop ``name``."""
    delay = 0.2
    loop = st.supervisor.loop(name)
    while True:
        try:
            done = step()
            loop.passed()
            return done
        except StoreError as err:
            st.committer.refused(err)
            log.error("store refused a batch of %d messages, retrying: %s", n, err)
            if stop.is_set() and delay > 5:
                log.error("giving up on %d unacknowledged messages at shutdown", n)
                return None
        except Exception as err:  # a bug must not kill the worker: keep it, unacknowledged
            st.committer.stats.store_errors += 1
            loop.failed(err, f"a batch of {n} messages")
            if stop.is_set():
                return None
        time.sleep(delay)
        delay = min(delay * 2, 10.0)
