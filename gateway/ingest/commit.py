"""Commit: write a batch, isolate the rows the store refuses, acknowledge, hand on the events.

A batch is acknowledged only once written; the device table and the event sink take it only
once acknowledged, so whatever happens after, it is never processed twice.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable

from gateway.credential import CredentialHasher
from gateway.ingest.batch import Batch
from gateway.ingest.isolate import Isolation, commit_isolating
from gateway.ingest.live import IngestStats
from gateway.ingest.messages import RawMessage
from gateway.ingest.ports import AckPort, EventSink
from gateway.state.config import Current
from gateway.state.devices import DeviceTable
from gateway.store.refusals import StoreDataError
from gateway.store.writer import BatchWriter

log = logging.getLogger(__name__)


class Committer:
    """Writes batches with ``writer``, acknowledges through ``acks``, applies to the live
    side (``devices``, then ``sink``)."""

    def __init__(
        self,
        config: Current,
        writer: BatchWriter,
        devices: DeviceTable,
        sink: EventSink,
        acks: AckPort | None,
        stats: IngestStats,
        *,
        hasher: CredentialHasher,
        clock: Callable[[], float] = time.time,
        on_backlog: Callable[[float, str], None] = lambda held_s, why: None,
    ) -> None:
        self.config, self.writer, self.devices, self.sink = config, writer, devices, sink
        self.acks, self.stats, self.hasher, self.clock = acks, stats, hasher, clock
        # the store took writes again after refusing them: a backlog, not a flood, follows
        self.on_backlog = on_backlog
        self.store_ok = True
        # since when (monotonic) the store has refused batches: the broker holds the stream
        # meanwhile, and what it queued is a backlog when the store is back
        self.refused_since: float | None = None
        self.crash_after_batches = 0  # tests: exit right after this many commits, before acks

    def stale(self, msgs: list[RawMessage]) -> bool:
        """True when one of ``msgs`` came on a connection that has gone since."""
        return self.acks is not None and any(self.acks.is_stale(m) for m in msgs)

    def commit(self, msgs: list[RawMessage], batch: Batch, sink: EventSink | None = None) -> None:
        """Write ``batch``, then acknowledge ``msgs`` and apply the batch to the live state
        (the events to ``sink`` when given, else to this committer's).

        Raises StoreError (nothing acknowledged) when the store refuses it. When it refuses
        it for its data, the messages it refuses are dead-lettered and the rest committed."""
        if not batch.written:
            self.devices.settle(batch.devices)
            try:
                self.writer.write(batch)
            except StoreDataError as err:
                landed = commit_isolating(self._isolation(), batch, err)
                batch.events, batch.devices = landed.events, landed.devices
                batch.written = True
        self.store_ok = True
        if self.refused_since is not None:  # before the acks let the broker send the rest
            held, self.refused_since = time.monotonic() - self.refused_since, None
            self.on_backlog(held, "the store took writes again")
        if self.crash_after_batches and self.writer.batches_written >= self.crash_after_batches:
            os._exit(137)  # fault injection for tests: committed, never acknowledged
        if self.acks is not None:
            self.acks.ack_messages(msgs)
        self.stats.committed += len(msgs)
        try:  # committed and acknowledged: whatever happens now, never process it again
            self.devices.apply(batch.devices, batch.evicted)
            if batch.events:
                (sink or self.sink).apply_events([e for e, _ in batch.events], self.clock())
        except Exception:
            log.exception("applying a committed batch to the live state failed")

    def refused(self, err: Exception) -> None:
        """The store refused a batch (it is kept and retried)."""
        self.store_ok = False
        if self.refused_since is None:
            self.refused_since = time.monotonic()
        self.stats.store_errors += 1
        self.stats.last_store_error = str(err)

    def _isolation(self) -> Isolation:
        site = self.config.get().building.site.id
        return Isolation(self.writer, self.devices.settle, site, self.hasher, self.stats)
