"""The running gateway: building, profiles, store, engine, ingest and their threads."""

from __future__ import annotations

import logging
import queue
import secrets
import threading
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import col

from gateway.building import Building, load_building
from gateway.errors import ConfigError
from gateway.events import Event, kind_of
from gateway.ingest.embedded_broker import EmbeddedBroker, broker_answers
from gateway.ingest.messages import RawMessage
from gateway.ingest.pipeline import DeviceLive, Pipeline
from gateway.ingest.transport import MqttTransport
from gateway.occupancy import OccupancyEngine
from gateway.profiles import ProfileRegistry
from gateway.settings import Settings
from gateway.store import BatchWriter, create_db_engine, init_db
from gateway.store.sync import sync_building
from gateway.store.tables import Device

log = logging.getLogger(__name__)

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


class Gateway:
    """Owns every long-lived part; ``start`` and ``stop`` run and drain them in order."""

    def __init__(self, settings: Settings, clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.clock = clock
        self.started_at = clock()
        self.building: Building = load_building(settings.building)
        self.registry = ProfileRegistry.load(settings.profiles_dir)
        missing = sorted(
            {d.profile for d in self.building.devices.values()} - set(self.registry.names)
        )
        if missing:
            raise ConfigError(
                f"{settings.building}: devices name profiles that do not exist in "
                f"{settings.profiles_dir}: {', '.join(missing)}"
            )
        self.admin_token = self._admin_token()
        self.db: Engine = create_db_engine(settings.database_url)
        init_db(self.db)
        sync_building(self.db, self.building)
        self.writer = BatchWriter(self.db)
        self.state_lock = threading.RLock()
        self.engine = OccupancyEngine(self.building, settings.occupancy, self.started_at)
        self.devices = self._load_devices()
        self._warm_engine()
        m = settings.mqtt
        self.queue: queue.Queue[RawMessage] = queue.Queue(maxsize=m.queue_size)
        self.transport = MqttTransport(m, self.registry.subscriptions(), self.queue)
        self.pipeline = Pipeline(
            self.building,
            self.registry,
            self.writer,
            devices=self.devices,
            apply=self._apply,
            ack=self.transport.ack,
            batch_size=m.batch_size,
            batch_ms=m.batch_ms,
            clock=clock,
        )
        self.embedded_broker: EmbeddedBroker | None = None
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    # -- lifecycle --------------------------------------------------------------------------
    def start(self) -> None:
        """Start the broker if needed, the MQTT client, the worker and the ticker."""
        host, port = self.transport.host, self.transport.port
        if not broker_answers(host, port):
            if self.settings.mqtt.embedded and host in LOCAL_HOSTS:
                log.info("no broker answers at %s:%s; starting the embedded broker", host, port)
                self.embedded_broker = EmbeddedBroker(port)
                self.embedded_broker.start()
            else:
                log.warning("no broker answers at %s:%s yet; will keep trying", host, port)
        self._threads = [
            threading.Thread(
                target=self.pipeline.run, args=(self.queue, self._stop), name="ingest-worker"
            ),
            threading.Thread(target=self._tick_loop, name="engine-ticker", daemon=True),
        ]
        for t in self._threads:
            t.start()
        self.transport.start()

    def stop(self) -> None:
        """Stop taking messages, drain and commit what is in flight, then disconnect."""
        self.transport.accepting = False
        self._stop.set()
        for t in self._threads:
            t.join(timeout=30)
        self.transport.stop()
        log.info(
            "gateway stopped: %d messages committed, %d left in the queue",
            self.pipeline.stats.committed,
            self.queue.qsize(),
        )
        if self.embedded_broker is not None:
            self.embedded_broker.stop()
        self.db.dispose()

    # -- engine -----------------------------------------------------------------------------
    def _apply(self, events: list[Event], now: float) -> None:
        with self.state_lock:
            for ev in events:
                self.engine.apply(ev, now)

    def _tick_loop(self) -> None:
        period = self.settings.occupancy.tick_s
        while not self._stop.wait(period):
            with self.state_lock:
                self.engine.tick(self.clock())

    def _load_devices(self) -> dict[str, DeviceLive]:
        devices = {
            d.id: DeviceLive(d.id, d.profile, d.space, True) for d in self.building.devices.values()
        }
        with self.db.connect() as conn:
            rows = conn.execute(
                select(Device).where(col(Device.site) == self.building.site.id)
            ).all()
        for r in rows:
            live = devices.get(r.id)
            if live is None:
                live = devices[r.id] = DeviceLive(r.id, r.profile, None, False)
            live.online, live.first_seen, live.last_seen = r.online, r.first_seen, r.last_seen
            live.readings = dict(r.readings or {})
        return devices

    def _warm_engine(self) -> None:
        """Restore the live evidence from each device's last stored readings."""
        site, now = self.building.site.id, self.clock()
        for d in self.devices.values():
            if not d.bound or d.space is None:
                continue
            for q, r in d.readings.items():
                ev = Event(
                    site, d.id, d.space, float(r["ts"]), kind_of(q), q, r["value"], r.get("unit")
                )
                self.engine.apply(ev, now)

    def _admin_token(self) -> str:
        if self.settings.admin_token is not None:
            return self.settings.admin_token.get_secret_value()
        path = Path(".gateway") / "admin-token"
        if path.exists():
            return path.read_text().strip()
        path.parent.mkdir(parents=True, exist_ok=True)
        token = secrets.token_urlsafe(24)
        path.write_text(token + "\n")
        path.chmod(0o600)
        log.info("no GATEWAY_ADMIN_TOKEN set; generated one in %s", path.resolve())
        return token
