"""Ingest as one line: transport -> hand-off -> loop -> decode -> store -> acknowledge -> live.

=================  ===========================================================
step               file
=================  ===========================================================
transport          ``gateway.ingest.transport`` (MQTT; implements ``AckPort``)
hand-off           ``gateway.ingest.handoff`` (bounded, chunked)
loop               ``gateway.ingest.loop`` (decode and commit threads)
decode             ``gateway.ingest.decode`` (screen, profiles, binding)
store              ``gateway.ingest.commit`` -> ``gateway.store.writer``
acknowledge        ``gateway.ingest.commit`` -> ``AckPort``
live state         ``gateway.ingest.commit`` -> ``DeviceTable``, ``EventSink``
=================  ===========================================================

:class:`Pipeline` builds the stages and hands them to the loop; ``process`` runs one batch
through decode and commit on the calling thread, which is how tests feed a list of recorded
messages through the real path (with ``gateway.ingest.ports``' in-memory seams).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable

from gateway.credential import CredentialHasher
from gateway.ingest.batch import Batch
from gateway.ingest.bridges import BridgeWatch
from gateway.ingest.commit import Committer
from gateway.ingest.decode import Decoder
from gateway.ingest.floods import DeadLetterLimit, UnknownDevices
from gateway.ingest.handoff import Handoff
from gateway.ingest.live import IngestStats
from gateway.ingest.loop import Stages, run_loop
from gateway.ingest.messages import RawMessage
from gateway.ingest.ports import AckPort, EventSink
from gateway.ingest.screen import Screen
from gateway.state.config import Current
from gateway.state.devices import DeviceTable
from gateway.store.writer import BatchWriter
from gateway.supervisor import Supervisor

__all__ = ["IngestStats", "Pipeline"]


class Pipeline:
    """Decode, bind, batch, commit, then acknowledge and apply to the live state."""

    def __init__(
        self,
        config: Current,
        writer: BatchWriter,
        devices: DeviceTable,
        sink: EventSink,
        acks: AckPort | None = None,
        *,
        screen: Screen | None = None,
        batch_size: int = 500,
        batch_ms: int = 50,
        clock: Callable[[], float] = time.time,
        hasher: CredentialHasher | None = None,
        dead_letter_limit: DeadLetterLimit | None = None,
        max_unknown_devices: int = 0,
        bridges: BridgeWatch | None = None,
    ) -> None:
        building = config.get().building
        self.writer, self.devices, self.screen = writer, devices, screen
        # each bridge's state, and what its devices said of themselves meanwhile
        self.bridges = bridges if bridges is not None else BridgeWatch(building)
        devices.force_offline(self.bridges.seed(devices.all()))
        # credentials are hashed with the site's key; without one, a key of this pipeline's own
        self.hasher = hasher or CredentialHasher.ephemeral(building.site.id)
        self.stats = IngestStats()
        self.batch_size, self.batch_s = batch_size, batch_ms / 1000
        # the live loop's threads report their passes here (the gateway sets its own)
        self.supervisor = Supervisor()
        # bounds against a flood of fresh topics (None, 0: unbounded)
        unknown = UnknownDevices(max_unknown_devices) if max_unknown_devices else None
        if unknown is not None:
            unknown.load(devices.unbound_seen())
        self.decoder = Decoder(
            config, devices, self.bridges, self.hasher, self.stats,
            committed=writer.committed,
            is_stale=acks.is_stale if acks is not None else None,
            screen=screen, dead_letter_limit=dead_letter_limit, unknown=unknown,
        )  # fmt: skip
        self.committer = Committer(
            config, writer, devices, sink, acks, self.stats, hasher=self.hasher, clock=clock,
            on_backlog=screen.backlog if screen is not None else lambda held_s, why: None,
        )  # fmt: skip

    @property
    def store_ok(self) -> bool:
        """False while the store refuses batches."""
        return self.committer.store_ok

    @property
    def crash_after_batches(self) -> int:
        """Tests: exit right after this many commits, before their acknowledgements."""
        return self.committer.crash_after_batches

    @crash_after_batches.setter
    def crash_after_batches(self, n: int) -> None:
        self.committer.crash_after_batches = n

    def run(self, source: Handoff, stop: threading.Event) -> None:
        """Drain ``source`` in batches until ``stop`` is set and the queue is empty."""
        stages = Stages(self.decoder, self.committer, self.supervisor, self.batch_size,
                        self.batch_s)  # fmt: skip
        run_loop(stages, source, stop)

    def process(self, msgs: Iterable[RawMessage]) -> Batch:
        """Decode and commit ``msgs`` as one batch on this thread: acknowledge them, apply
        them to the live state."""
        kept, batch = self.decoder.decode(list(msgs))
        self.committer.commit(kept, batch)
        return batch
