"""Running the composed gateway: threads in order, the embedded broker, SIGHUP, draining."""

from __future__ import annotations

import logging
import signal
import threading
import time
from typing import Protocol

from sqlalchemy.exc import SQLAlchemyError

from gateway.api.running import Running
from gateway.building import Building
from gateway.clock import wall_seconds
from gateway.credential import CredentialHasher
from gateway.errors import StoreError
from gateway.ingest.embedded_broker import EmbeddedBroker, broker_answers
from gateway.publish import SpacePublisher
from gateway.state.keeper import EngineKeeper
from gateway.store.dead_letters import prune_dead_letters, scrub_dead_letters
from gateway.store.retention import Retention

log = logging.getLogger(__name__)

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


class Parts(Running, Protocol):
    """The built parts this runs (``gateway.runtime.build.Gateway``)."""

    @property
    def building(self) -> Building: ...
    @property
    def hasher(self) -> CredentialHasher: ...
    @property
    def keeper(self) -> EngineKeeper: ...
    @property
    def retention(self) -> Retention: ...
    @property
    def publisher(self) -> SpacePublisher | None: ...


class Lifecycle:
    """Starts the gateway's parts and loops, and stops and drains them in order."""

    def __init__(self, gw: Parts) -> None:
        self.gw = gw
        self.embedded_broker: EmbeddedBroker | None = None
        self._stop = threading.Event()
        self._save_now = threading.Event()  # the ticker asks for a save when it found something
        self._threads: list[threading.Thread] = []
        self._scrubbed_to = 0  # dead letters up to this id are checked for clear credentials

    def install_sighup(self) -> None:
        """Reload on SIGHUP (call from the main thread)."""
        signal.signal(
            signal.SIGHUP,
            lambda _sig, _frame: threading.Thread(
                target=self.gw.reconfigure.reload, name="reload"
            ).start(),
        )

    # -- start and stop ---------------------------------------------------------------------
    def start(self) -> None:
        """Start the broker if needed, the MQTT client, the worker and the ticker."""
        gw = self.gw
        self._broker()
        sup = gw.supervisor
        self._threads = [
            sup.thread("ingest-worker", gw.pipeline.run, gw.queue, self._stop, daemon=False),
            sup.thread("engine-ticker", self._tick_loop),
            sup.thread("engine-saver", self._save_loop),
            sup.thread("retention", self._retention_loop),
            sup.thread("erasures", self._erasure_loop),
        ]
        gw.services.start()
        gw.access.start()
        gw.transport.start()
        if gw.publisher is not None:
            gw.publisher.start()
        if gw.uplink is not None:
            gw.uplink.start()
        self._watch_network_threads()

    def _broker(self) -> None:
        host, port = self.gw.transport.host, self.gw.transport.port
        if broker_answers(host, port):
            return
        if self.gw.settings.mqtt.embedded and host in LOCAL_HOSTS:
            log.info("no broker answers at %s:%s; starting the embedded broker", host, port)
            self.embedded_broker = EmbeddedBroker(port)
            self.embedded_broker.start()
        else:
            log.warning("no broker answers at %s:%s yet; will keep trying", host, port)

    def _watch_network_threads(self) -> None:
        """paho's network threads run no code of ours to supervise: watch that they live."""
        gw = self.gw
        clients = [("mqtt-in", gw.transport.client), ("door-decider", gw.access.client.client)]
        if gw.publisher is not None:
            clients.append(("mqtt-out", gw.publisher.client.client))
        if gw.uplink is not None:
            clients.append(("uplink-mqtt", gw.uplink.client.client))
        for name, client in clients:
            thread = getattr(client, "_thread", None)  # paho's loop_start thread
            if isinstance(thread, threading.Thread):
                gw.supervisor.loop(name).thread = thread

    def stop(self) -> None:
        """Stop taking messages, drain and commit what is in flight, then disconnect."""
        gw = self.gw
        gw.transport.accepting = False
        gw.supervisor.stop()
        self._stop.set()
        self._save_now.set()
        for t in self._threads:
            t.join(timeout=30)
        gw.services.stop()
        gw.access.stop()
        if gw.publisher is not None:
            gw.publisher.stop()
        gw.transport.stop()
        log.info(
            "gateway stopped: %d messages committed, %d left in the queue",
            gw.pipeline.stats.committed,
            gw.queue.qsize(),
        )
        if self.embedded_broker is not None:
            self.embedded_broker.stop()
        gw.keeper.save()
        if gw.uplink is not None:
            gw.uplink.stop()
        gw.writer.close()
        gw.db.dispose()

    # -- the engine's loops -----------------------------------------------------------------
    def _tick_loop(self) -> None:
        """Tick the engine, then MQTT out's timers: each its own pass, so one failing does
        not hold the other (nor the saver, which runs on a thread of its own)."""
        sup = self.gw.supervisor
        ticks, out = sup.loop("engine-ticker"), sup.loop("mqtt-out-tick")
        while not self._stop.wait(self._until_next_tick()):
            ticks.run_pass(self.tick)
            if self.gw.publisher is not None:
                out.run_pass(lambda: self.gw.live.tick_listeners(self.gw.clock()))

    def _until_next_tick(self) -> float:
        """Seconds to the engine's next deadline, at most ``tick_s``: a ghost booking is
        released, a PIR room turns vacant, on time rather than up to a tick late."""
        period = self.gw.settings.occupancy.tick_s
        due = wall_seconds(self.gw.clock, self.gw.live.next_due() - self.gw.clock())
        return min(period, max(due + 0.001, 0.005))

    def tick(self) -> None:
        """One engine tick, timed; a finding is saved now, not at the next save."""
        t0 = time.perf_counter()
        found = self.gw.live.tick(self.gw.clock())
        self.gw.telemetry.engine_tick.observe(time.perf_counter() - t0)
        if found:
            self._save_now.set()

    def _save_loop(self) -> None:
        """Save rollups, idle episodes, findings and the snapshot every ``snapshot_s``."""
        saves = self.gw.supervisor.loop("engine-saver")
        while not self._stop.is_set():
            self._save_now.wait(self.gw.settings.occupancy.snapshot_s)
            self._save_now.clear()
            if self._stop.is_set():
                return  # stop() saves once more itself
            saves.run_pass(self._save_pass)

    def _retention_loop(self) -> None:
        """Prune raw events and audit entries past their windows, every ``every_s``."""
        passes = self.gw.supervisor.loop("retention")
        every = self.gw.settings.retention.every_s
        wait = min(30.0, every)  # the first pass: once start-up's own work is done
        while not self._stop.wait(wait):
            passes.run_pass(lambda: self.gw.retention.run_pass(self._stop))
            wait = every

    def _erasure_loop(self) -> None:
        """Apply erasures made outside this process, every ``access.erasure_check_s``."""
        checks = self.gw.supervisor.loop("erasures")
        every = self.gw.settings.access.erasure_check_s
        while not self._stop.wait(every):
            checks.run_pass(self.gw.access.apply_erasures)

    def _save_pass(self) -> None:
        keeper = self.gw.keeper
        if not keeper.save():
            raise StoreError(keeper.last_error or "engine output not saved")
        self.prune_dead_letters()

    def prune_dead_letters(self) -> None:
        """Keep the dead-letter table bounded: the oldest beyond the limit go, counted."""
        gw = self.gw
        site = gw.building.site.id
        try:
            gone = prune_dead_letters(gw.db, site, gw.settings.dead_letters_max, gw.clock())
            # letters kept by an older gateway may hold card numbers: a chunk each pass
            self._scrubbed_to = scrub_dead_letters(gw.db, site, gw.hasher.scrub, self._scrubbed_to)
        except SQLAlchemyError as err:
            log.warning("dead-letter pruning skipped: %s", err)
            return
        if gone:
            gw.writer.pruned(gone)
