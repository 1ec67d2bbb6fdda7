"""The running gateway: building, profiles, store, engine, ingest and their threads."""

from __future__ import annotations

import logging
import os
import secrets
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import col

from gateway import reconfigure
from gateway.access.control import AccessControl
from gateway.access.roles import Principal
from gateway.building import Building, load_building
from gateway.building.base_topic import with_base_topic
from gateway.credential import CredentialHasher
from gateway.errors import ConfigError, StoreError
from gateway.events import Event, kind_of
from gateway.facility.adapters import GatewayConfig, GatewayLive, PublisherCommands
from gateway.facility.ports import FacilityPorts, SiteStore
from gateway.facility.services import MemberServices
from gateway.hub import Hub
from gateway.ingest import bridges
from gateway.ingest.embedded_broker import EmbeddedBroker, broker_answers
from gateway.ingest.floods import DeadLetterLimit
from gateway.ingest.handoff import Handoff
from gateway.ingest.messages import RawMessage
from gateway.ingest.pipeline import Pipeline
from gateway.ingest.screen import Screen
from gateway.ingest.transport import MqttTransport
from gateway.occupancy import OccupancyEngine
from gateway.occupancy import snapshot as engine_snapshot
from gateway.occupancy.accumulate import EngineOutput
from gateway.private_files import private_dir, write_new_private
from gateway.profiles import ProfileRegistry
from gateway.publish import SpacePublisher
from gateway.publish.uplink_wiring import build_uplink, episode_notice
from gateway.settings import Settings
from gateway.state.devices import DeviceLive, DeviceTable
from gateway.store import BatchWriter, create_db_engine, init_db, rollups
from gateway.store.bindings import load_bindings, with_bindings
from gateway.store.db import sqlite_file
from gateway.store.dead_letters import prune_dead_letters, scrub_dead_letters
from gateway.store.sync import sync_building
from gateway.store.tables import Device
from gateway.store.writer import Batch
from gateway.store.writer_process import WriterProcess
from gateway.supervisor import Supervisor
from gateway.telemetry import Telemetry

log = logging.getLogger(__name__)

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


class ReloadablePipeline(Pipeline):
    """A pipeline whose profiles and building are swapped between batches, never inside one."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.swap_lock = threading.Lock()

    def build(self, msgs: list[RawMessage]) -> tuple[list[RawMessage], Batch]:
        with self.swap_lock:
            return super().build(msgs)


class Gateway:
    """Owns every long-lived part; ``start`` and ``stop`` run and drain them in order."""

    def __init__(self, settings: Settings, clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.clock = clock
        self.started_at = clock()
        self.supervisor = Supervisor(clock)  # every long-lived thread runs under it
        # zigbee2mqtt's base topic: the building's bridges (the old setting is an alias)
        building, variables = with_base_topic(
            load_building(settings.building), settings.profile_variables
        )
        self.building: Building = building
        # the MQTT client id defaults to one of this site: two gateways on a broker both keep theirs
        settings = self.settings = settings.for_site(self.building.site.id)
        self.registry = ProfileRegistry.load(settings.profiles_dir, variables)
        missing = sorted(
            {d.profile for d in self.building.devices.values()} - set(self.registry.names)
        )
        if missing:
            raise ConfigError(
                f"{settings.building}: devices name profiles that do not exist in "
                f"{settings.profiles_dir}: {', '.join(missing)}"
            )
        self.admin_token = self._admin_token()
        self.db: Engine = create_db_engine(
            settings.database_url, busy_timeout_ms=settings.database_busy_timeout_ms
        )
        init_db(self.db)
        self.building = with_bindings(self.building, load_bindings(self.db, self.building.site.id))
        sync_building(self.db, self.building)
        self.writer = self._writer()
        self.telemetry = Telemetry()
        self.writer.observers.append(self.telemetry.observe_batch)
        self.state_lock = threading.RLock()
        self.hub = Hub(self.supervisor)
        self.silence_s = self._silence_timeouts()
        self.engine = OccupancyEngine(
            self.building,
            settings.occupancy,
            self.started_at,
            grace_s=settings.bookings.grace_s,
            silence_s=self.silence_s,
        )
        self._unsaved = EngineOutput()
        self._last_save_error: str | None = None
        self._scrubbed_to = 0  # dead letters up to this id are checked for clear credentials
        self._restore_engine()
        self.devices = DeviceTable(self._load_devices().values())
        self._warm_engine()
        m = settings.mqtt
        self.queue = Handoff(maxsize=m.queue_size)
        # one keyed credential hash for ingest, members and doors (key in access.key_dir)
        private_dir(settings.access.key_dir)  # 0700 before any key is written into it
        self.hasher = CredentialHasher.from_key_dir(self.building.site.id, settings.access.key_dir)
        # each bridge's state (its last will): zigbee2mqtt's base topic follows the setting
        z2m_base = settings.profile_variables.get("zigbee2mqtt", {}).get("base_topic")
        self.bridges = bridges.BridgeWatch(self.building, z2m_base)
        topics = self.registry.subscriptions()
        self.transport = MqttTransport(
            m,
            bridges.subscriptions(topics, self.bridges.topics(self.building)),
            self.queue,
            on_backlog=lambda held_s, why: self.pipeline.allow_backlog(held_s, why),
            clock=clock,
        )
        # the last time the store heard any device: how long a backlog the broker may hold
        self.transport.away_since = self.devices.latest_seen()
        self.pipeline = ReloadablePipeline(
            self.building,
            self.registry,
            self.writer,
            devices=self.devices,
            apply=self._apply,
            ack=self.transport.ack,
            ack_message=self.transport.ack_message,
            ack_batch=self.transport.ack_messages,
            is_stale=self.transport.is_stale,
            screen=Screen(
                settings.ingest.max_payload_bytes,
                settings.ingest.device_rate_per_s,
                settings.ingest.device_burst,
            ),
            batch_size=m.batch_size,
            batch_ms=m.batch_ms,
            clock=clock,
            hasher=self.hasher,
            dead_letter_limit=DeadLetterLimit(
                settings.ingest.dead_letters_per_s, settings.ingest.dead_letter_burst
            ),
            max_unknown_devices=settings.ingest.max_unknown_devices,
            bridges=self.bridges,
        )
        self.pipeline.supervisor = self.supervisor
        # Fault injection for the durability tests: exit right after this many commits,
        # before their acknowledgements are sent.
        self.pipeline.crash_after_batches = int(os.environ.get("GATEWAY_FAULT_EXIT_AFTER", "0"))
        self.publisher: SpacePublisher | None = None
        if settings.publish.enabled:
            self.publisher = SpacePublisher(
                settings.publish,
                m,
                self.building,
                self.engine.view,
                settings.occupancy.idle_after_s,
            )
        # tokens, members, grants, door decisions; granted badges feed the engine like events
        self.access = AccessControl(
            self.db,
            self.building,
            self.registry,
            settings,
            clock,
            evidence=self._apply,
            hasher=self.hasher,
        )
        self.members = self.access.directory
        self.uplink = build_uplink(self)  # northbound, store-and-forward; None when off
        # bookings, print release, alerts, work orders: given the ports they need, no more
        out = None if self.publisher is None else PublisherCommands(self.publisher.client)
        self.services = MemberServices(
            FacilityPorts(
                SiteStore(self.db, clock, self.building.site.id),
                GatewayConfig(
                    lambda: (self.building, self.registry, self.silence_s),
                    settings.occupancy.sensor_stale_s,
                ),
                GatewayLive(
                    self.engine, self.state_lock, self.devices, self.bridges, lambda: self.building
                ),
                self.hub,
                self.supervisor,
                settings.bookings,
                settings.alerts,
                members=self.access.directory,
                grants=self.access.grants,
                commands=out,
            )
        )
        self.access.decider.on_trip = self.services.door_trips  # a door's limit: alert + order
        self._supervise_parts()
        self.embedded_broker: EmbeddedBroker | None = None
        self._stop = threading.Event()
        self._save_now = threading.Event()  # the ticker asks for a save when it found something
        self._threads: list[threading.Thread] = []
        self._reload_lock = threading.Lock()

    # -- reconfigure (gateway/reconfigure.py) ---------------------------------------------
    def reload(self) -> tuple[bool, str]:
        """Reload the profiles and the building file; (ok, what happened or why not)."""
        return reconfigure.reload(self)

    def bind_device(self, device_id: str, space: str | None, profile: str | None) -> DeviceLive:
        """Bind a (discovered) device to a space through the API; kept across restarts."""
        return reconfigure.bind_device(self, device_id, space, profile)

    def lookup_token(self, presented: str) -> Principal | None:
        """The principal behind an API token (the bootstrap admin token is checked first)."""
        return self.access.tokens.lookup(presented)

    def install_sighup(self) -> None:
        """Reload on SIGHUP (call from the main thread)."""
        signal.signal(
            signal.SIGHUP,
            lambda _sig, _frame: threading.Thread(target=self.reload, name="reload").start(),
        )

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
        sup = self.supervisor
        self._threads = [
            sup.thread("ingest-worker", self.pipeline.run, self.queue, self._stop, daemon=False),
            sup.thread("engine-ticker", self._tick_loop),
            sup.thread("engine-saver", self._save_loop),
        ]
        self.services.start()
        self.access.start()
        self.transport.start()
        if self.publisher is not None:
            self.publisher.start()
        if self.uplink is not None:
            self.uplink.start()
        self._watch_network_threads()

    def _supervise_parts(self) -> None:
        """Hand each part that runs a loop of its own its record in the supervisor."""
        sup = self.supervisor
        self.access.flusher.loop = sup.loop("access-audit")
        self.access.client.loop = sup.loop("door-decider")
        if self.publisher is not None:
            self.publisher.client.loop = sup.loop("mqtt-out")
        if self.uplink is not None:
            self.uplink.loop = sup.loop("uplink")
            self.uplink.client.loop = sup.loop("uplink-mqtt")

    def _watch_network_threads(self) -> None:
        """paho's network threads run no code of ours to supervise: watch that they live."""
        sup = self.supervisor
        clients = [("mqtt-in", self.transport.client), ("door-decider", self.access.client.client)]
        if self.publisher is not None:
            clients.append(("mqtt-out", self.publisher.client.client))
        if self.uplink is not None:
            clients.append(("uplink-mqtt", self.uplink.client.client))
        for name, client in clients:
            thread = getattr(client, "_thread", None)  # paho's loop_start thread
            if isinstance(thread, threading.Thread):
                sup.loop(name).thread = thread

    def _writer(self) -> BatchWriter:
        """The batch writer: in a child process unless configured off or the store is an
        in-memory SQLite database (which another process cannot open)."""
        s = self.settings
        client, window, site = s.mqtt.client_id, s.ingest.redelivery_window, self.building.site.id
        url = make_url(s.database_url)
        in_memory = url.get_backend_name() == "sqlite" and sqlite_file(url) is None
        if not s.ingest.writer_process or in_memory:
            return BatchWriter(self.db, client=client, redelivery_window=window, site=site)
        return WriterProcess(
            self.db,
            s.database_url,
            client=client,
            redelivery_window=window,
            site=site,
            busy_timeout_ms=s.database_busy_timeout_ms,
        )

    def stop(self) -> None:
        """Stop taking messages, drain and commit what is in flight, then disconnect."""
        self.transport.accepting = False
        self.supervisor.stop()
        self._stop.set()
        self._save_now.set()
        for t in self._threads:
            t.join(timeout=30)
        self.services.stop()
        self.access.stop()
        if self.publisher is not None:
            self.publisher.stop()
        self.transport.stop()
        log.info(
            "gateway stopped: %d messages committed, %d left in the queue",
            self.pipeline.stats.committed,
            self.queue.qsize(),
        )
        if self.embedded_broker is not None:
            self.embedded_broker.stop()
        self._save_engine()
        if self.uplink is not None:
            self.uplink.stop()
        self.writer.close()
        self.db.dispose()

    # -- engine -----------------------------------------------------------------------------
    def _apply(self, events: list[Event], now: float) -> None:
        with self.state_lock:
            changed = self.engine.apply_all(events, now)
            self.hub.publish("events", events, now)
            self._spaces_changed(changed, now)

    def _silence_timeouts(self) -> dict[str, float]:
        """Per bound device, the silence its profile's availability allows before offline."""
        out: dict[str, float] = {}
        for d in self.building.devices.values():
            t = self.registry.silence_timeout(d.profile, d.model)
            if t is not None:
                out[d.id] = t
        return out

    def device_silence_s(self, device_id: str) -> float:
        """How long ``device_id`` may stay silent before it counts as offline."""
        return self.silence_s.get(device_id, self.settings.occupancy.sensor_stale_s)

    def _prune_dead_letters(self) -> None:
        """Keep the dead-letter table bounded: the oldest beyond the limit go, counted."""
        try:
            gone = prune_dead_letters(
                self.db, self.building.site.id, self.settings.dead_letters_max, self.clock()
            )
            # letters kept by an older gateway may hold card numbers: a chunk each pass
            self._scrubbed_to = scrub_dead_letters(
                self.db, self.building.site.id, self.hasher.scrub, self._scrubbed_to
            )
        except SQLAlchemyError as err:
            log.warning("dead-letter pruning skipped: %s", err)
            return
        if gone:
            with self.writer.counts_lock:
                self.writer.dead_letters -= gone

    def _tick_loop(self) -> None:
        """Tick the engine, then MQTT out's timers: each its own pass, so one failing does
        not hold the other (nor the saver, which runs on a thread of its own)."""
        ticks, out = self.supervisor.loop("engine-ticker"), self.supervisor.loop("mqtt-out-tick")
        while not self._stop.wait(self._until_next_tick()):
            ticks.run_pass(self._tick)
            if self.publisher is not None:
                out.run_pass(self._publisher_tick)

    def _until_next_tick(self) -> float:
        """Seconds to the engine's next deadline, at most ``tick_s``: a ghost booking is
        released, a PIR room turns vacant, on time rather than up to a tick late."""
        period = self.settings.occupancy.tick_s
        with self.state_lock:
            due = self.engine.next_due() - self.clock()
        return min(period, max(due + 0.001, 0.005))

    def _tick(self) -> None:
        with self.state_lock:
            t0 = time.perf_counter()
            now = self.clock()
            self._spaces_changed(self.engine.tick(now), now)
            self.telemetry.engine_tick.observe(time.perf_counter() - t0)
            if self.engine.out.findings:
                self._save_now.set()  # a ghost booking is released now, not at the next save

    def _publisher_tick(self) -> None:
        assert self.publisher is not None
        with self.state_lock:
            self.publisher.tick(self.clock())

    def _save_loop(self) -> None:
        """Save rollups, idle episodes, findings and the snapshot every ``snapshot_s``."""
        saves = self.supervisor.loop("engine-saver")
        while not self._stop.is_set():
            self._save_now.wait(self.settings.occupancy.snapshot_s)
            self._save_now.clear()
            if self._stop.is_set():
                return  # stop() saves once more itself
            saves.run_pass(self._save_pass)

    def _save_pass(self) -> None:
        if not self._save_engine():
            raise StoreError(self._last_save_error or "engine output not saved")
        self._prune_dead_letters()

    def _spaces_changed(self, space_ids: list[str], now: float) -> None:
        """Hand the spaces whose state changed to MQTT out and the hub (under ``state_lock``)."""
        if not space_ids:
            return
        if self.publisher is not None:
            self.publisher.publish_spaces(space_ids, now)
        self.hub.publish("spaces", space_ids, now)

    def _restore_engine(self) -> None:
        """Resume the engine from its last snapshot (before the devices' readings warm it)."""
        raw = rollups.load_snapshot(self.db, self.building.site.id)
        if raw is not None:
            n = engine_snapshot.restore(self.engine, raw, self.clock())
            log.info("engine state restored for %d spaces", n)

    def _save_engine(self) -> bool:
        """Write closed bins, day totals, idle episodes, findings and the snapshot together;
        False when the store refused them (they are kept for the next save)."""
        with self.state_lock:
            now = self.clock()
            self._unsaved.merge(self.engine.drain())
            out, self._unsaved = self._unsaved, EngineOutput()
            snap = engine_snapshot.dump(self.engine, now)
        try:
            eng, site = self.engine, self.building.site.id
            rollups.save(self.db, site, out, snap, now, eng.bin_s, eng.cal.day_of_bin)
        except StoreError as err:
            log.error("engine output not saved, will retry: %s", err)
            self._last_save_error = str(err)
            with self.state_lock:
                out.merge(self._unsaved)
                self._unsaved = out
            return False
        # told once saved, so a retried save is not told twice
        if out.findings:
            self.hub.publish("findings", out.findings, now)
        for ep in out.episodes.values():
            self.hub.publish("notices", episode_notice(ep), now)
        return True

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
        site = self.building.site.id
        self.engine.apply_all(
            (
                Event(site, d.id, d.space, float(r["ts"]), kind_of(q), q, r["value"], r.get("unit"))
                for d in self.devices.all()
                if d.bound and d.space is not None
                for q, r in d.readings.items()
            ),
            self.clock(),
        )

    def _admin_token(self) -> str:
        if self.settings.admin_token is not None:
            return self.settings.admin_token.get_secret_value()
        path = private_dir(Path(".gateway")) / "admin-token"
        token = secrets.token_urlsafe(24)
        if not write_new_private(path, (token + "\n").encode()):  # 0600 from its first byte
            return path.read_text().strip()
        log.info("no GATEWAY_ADMIN_TOKEN set; generated one in %s", path.resolve())
        return token
