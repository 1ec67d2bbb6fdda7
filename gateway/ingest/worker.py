"""The live worker: one thread prepares batch N+1 while another commits batch N, in order.

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
from typing import TYPE_CHECKING, TypeVar

from gateway.errors import StoreError
from gateway.events import Event
from gateway.ingest.handoff import Handoff
from gateway.ingest.messages import RawMessage
from gateway.store.writer import Batch
from gateway.supervisor import Loop

if TYPE_CHECKING:
    from gateway.ingest.pipeline import Pipeline

log = logging.getLogger(__name__)

Prepared = tuple[list[RawMessage], Batch]
# messages decoded into a waiting batch between two looks at whether the committer is free:
# a few milliseconds of decoding, where a whole queue's worth had kept it waiting for 30-90 ms
GROW_STEP = 200
APPLY_TRIES = 3  # a batch whose apply keeps failing is given up (logged) after this many
T = TypeVar("T")


def run_worker(pipe: Pipeline, source: Handoff, stop: threading.Event) -> None:
    """Collect, prepare and hand batches to the committer until ``stop`` and ``source`` is
    empty; returns once every prepared batch is committed (or given up at shutdown).

    A prepared batch goes to the committer at once when it is idle. While it is busy, what
    arrives meanwhile is prepared and added to the same batch (up to ``batch_size``), so
    under load batches grow instead of queueing: the per-commit cost (a sync to disk, a
    round trip to the writer process) is paid once for all of them."""
    ready: queue.Queue[Prepared | None] = queue.Queue(maxsize=1)
    sup = pipe.supervisor
    committer = threading.Thread(
        target=_commit_loop, args=(pipe, ready, stop), name="ingest-commit", daemon=True
    )
    commit_loop = sup.loop("ingest-commit")
    commit_loop.thread, commit_loop.stopped = committer, False
    applier = _Applier(pipe.apply, sup.loop("ingest-apply"))
    pipe.apply_later = applier.submit
    loop = sup.loop("ingest-worker")
    committer.start()
    pending: Prepared | None = None
    try:
        while not (stop.is_set() and source.empty() and pending is None):
            loop.beat()  # before taking messages: a failing pass holds none of them
            if pending is not None:
                full = len(pending[0]) >= pipe.batch_size or stop.is_set()
                if full or pipe.idle():
                    _hand_on(pipe, ready, pending)
                    pending = None
                    continue
            if pending is None:
                room = pipe.batch_size
            else:  # in short runs, so the batch goes on soon after the committer is free
                room = min(pipe.batch_size - len(pending[0]), GROW_STEP)
            msgs = source.get_many(room, timeout=0.2 if pending is None else 0.002)
            if not msgs:
                continue
            if pending is None:
                msgs = _collect(pipe, msgs, source, stop)
            elif any(m.dup and m.qos for m in msgs):
                # a redelivery is checked against committed batches only: commit this first
                _hand_on(pipe, ready, pending)
                pending = None
            prepared = _prepare_until_done(pipe, msgs, stop)
            if prepared is None:
                continue
            if pending is None:
                pending = prepared
            else:
                pending[0].extend(prepared[0])
                pending[1].extend(prepared[1])
    finally:
        if pending is not None:
            _hand_on(pipe, ready, pending)
        ready.put(None)
        committer.join()
        pipe.apply_later = None
        applier.close()  # every committed batch applied before the worker returns


def _hand_on(pipe: Pipeline, ready: queue.Queue[Prepared | None], batch: Prepared) -> None:
    """Give a prepared batch to the committer (waiting while one is already waiting)."""
    try:
        pipe.writer.seal(batch[1])
    except Exception:  # the write packs it then, where a failure is retried
        log.exception("packing a batch ahead of its commit failed")
        batch[1].sealed = None
    pipe.begin_flight()
    ready.put(batch)


class _Applier:
    """Applies committed batches' events to the live state on a thread of its own, in commit
    order, so the commit thread can start the next batch meanwhile. Bounded: a commit waits
    when two batches are still to be applied."""

    def __init__(self, apply: Callable[[list[Event], float], None], loop: Loop) -> None:
        self.apply = apply
        self.loop = loop
        self._q: queue.Queue[tuple[list[Event], float] | None] = queue.Queue(maxsize=2)
        self._thread = threading.Thread(target=self._run, name="ingest-apply", daemon=True)
        loop.thread, loop.stopped = self._thread, False
        self._thread.start()

    def submit(self, events: list[Event], now: float) -> None:
        self._q.put((events, now))

    def close(self) -> None:
        self._q.put(None)
        self._thread.join()

    def _run(self) -> None:
        while (item := self._q.get()) is not None:
            for attempt in range(APPLY_TRIES):
                try:
                    self.loop.beat()
                    self.apply(*item)
                except Exception as err:  # the live state must go on with the next batch
                    self.loop.failed(err, "applying a committed batch to the live state")
                    if attempt + 1 == APPLY_TRIES:
                        log.error("gave up applying a batch of %d events", len(item[0]))
                    else:
                        time.sleep(0.05)
                else:
                    self.loop.passed()
                    break


def _collect(
    pipe: Pipeline, msgs: list[RawMessage], source: Handoff, stop: threading.Event
) -> list[RawMessage]:
    """A batch: up to ``batch_size``, at most ``batch_ms`` old, closed early when the stream
    pauses for a 25th of ``batch_ms`` (light traffic commits at once; under load the committer
    is busy, messages gather in the queue meanwhile and the next batch takes them at once)."""
    gap = max(pipe.batch_s / 25, 0.001)
    now = time.monotonic()
    deadline, quiet_until = now + pipe.batch_s, now + gap
    while len(msgs) < pipe.batch_size:
        now = time.monotonic()
        if stop.is_set() or now >= deadline or now >= quiet_until:
            break
        # short waits, so a stop commits what is held at once
        more = source.get_many(
            pipe.batch_size - len(msgs), min(deadline - now, quiet_until - now, 0.05)
        )
        if more:
            msgs = [*msgs, *more]
            quiet_until = time.monotonic() + gap
    return msgs


def _prepare_until_done(
    pipe: Pipeline, msgs: list[RawMessage], stop: threading.Event
) -> Prepared | None:
    """Prepare a batch; a store error (reading the redelivery record) is retried like a
    failed commit. None when given up at shutdown (nothing of it acknowledged)."""
    return _retry(pipe, lambda: pipe.prepare(msgs), len(msgs), stop, "ingest-worker")


def _commit_loop(
    pipe: Pipeline, ready: queue.Queue[Prepared | None], stop: threading.Event
) -> None:
    gave_up = False
    while True:
        item = ready.get()
        if item is None:
            return
        try:
            if not gave_up:  # a later batch must not commit past one left unacknowledged
                commit = _Commit(pipe, *item)
                gave_up = _retry(pipe, commit, len(item[0]), stop, "ingest-commit") is None
        finally:
            pipe.end_flight()


class _Commit:
    """One attempt at committing a prepared batch (retried as a whole on a store error)."""

    def __init__(self, pipe: Pipeline, msgs: list[RawMessage], batch: Batch) -> None:
        self.pipe, self.msgs, self.batch = pipe, msgs, batch

    def __call__(self) -> bool:
        pipe = self.pipe
        pipe.supervisor.loop("ingest-commit").beat()
        fresh = not pipe.writer.landed(self.batch)  # committed by an earlier try: keep it
        if fresh and pipe.is_stale is not None and any(pipe.is_stale(m) for m in self.msgs):
            # the connection changed while it waited: prepare it again without the messages
            # the broker will resend (every earlier batch has committed by now)
            self.msgs, self.batch = pipe.prepare(self.msgs, after_earlier=False)
        pipe.commit(self.msgs, self.batch)
        return True


def _retry(
    pipe: Pipeline, step: Callable[[], T], n: int, stop: threading.Event, name: str
) -> T | None:
    """Run ``step`` until it succeeds; a store error or a bug keeps the batch, acknowledges
    nothing and retries with backoff, so the broker holds (and redelivers) rather than us
    dropping it. None when given up at shutdown. Each try is a pass of loop ``name``."""
    delay = 0.2
    loop = pipe.supervisor.loop(name)
    while True:
        try:
            done = step()
            loop.passed()
            return done
        except StoreError as err:
            pipe.store_ok = False
            if pipe.refused_since is None:
                pipe.refused_since = time.monotonic()
            pipe.stats.store_errors += 1
            pipe.stats.last_store_error = str(err)
            log.error("store refused a batch of %d messages, retrying: %s", n, err)
            if stop.is_set() and delay > 5:
                log.error("giving up on %d unacknowledged messages at shutdown", n)
                return None
        except Exception as err:  # a bug must not kill the worker: keep it, unacknowledged
            pipe.stats.store_errors += 1
            loop.failed(err, f"a batch of {n} messages")
            if stop.is_set():
                return None
        time.sleep(delay)
        delay = min(delay * 2, 10.0)
