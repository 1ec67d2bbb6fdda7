"""The composition root: builds the gateway's parts in order and wires them together.

Configuration and store first, then the live state (restored and warmed from the store),
then ingest (hand-off, transport, pipeline), then what reads and reacts (MQTT out, access
control, the uplink, the member services) and reconfiguration. ``gateway.runtime.lifecycle``
starts and stops what this builds. Only the entry point and the tests use this module.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from gateway.access.control import AccessControl
from gateway.building import Building
from gateway.credential import CredentialHasher
from gateway.facility.adapters import PublisherCommands
from gateway.facility.ports import FacilityPorts, SiteStore
from gateway.facility.services import MemberServices
from gateway.hub import Hub
from gateway.ingest import bridges
from gateway.ingest.floods import DeadLetterLimit
from gateway.ingest.handoff import Handoff
from gateway.ingest.pipeline import Pipeline
from gateway.ingest.screen import Screen
from gateway.ingest.transport import MqttTransport
from gateway.integrations.booking_hooks import BookingHooks
from gateway.integrations.calendars import Calendars
from gateway.integrations.webhooks import Webhooks
from gateway.occupancy import OccupancyEngine
from gateway.private_files import private_dir
from gateway.profiles import ProfileRegistry
from gateway.publish import SpacePublisher
from gateway.publish.uplink_wiring import build_uplink
from gateway.readmodel.queries import ReadModel
from gateway.reconfigure import Reconfigure, ReconfigureParts, load_configuration
from gateway.runtime import parts
from gateway.runtime.lifecycle import Lifecycle
from gateway.settings import Settings
from gateway.state.config import Current, Snapshot
from gateway.state.devices import DeviceLive, DeviceTable
from gateway.state.keeper import EngineKeeper
from gateway.state.live import LiveState
from gateway.store import create_db_engine, init_db
from gateway.store.bindings import load_bindings, with_bindings
from gateway.store.disk import DiskMonitor
from gateway.store.retention import Retention
from gateway.store.sync import sync_building
from gateway.supervisor import Supervisor
from gateway.telemetry import Telemetry

#: fault injection for the durability tests: exit right after this many commits, before
#: their acknowledgements are sent
FAULT_EXIT_AFTER = "GATEWAY_FAULT_EXIT_AFTER"


class Gateway:
    """Every long-lived part, built in order; ``start`` and ``stop`` run and drain them."""

    def __init__(self, settings: Settings, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.started_at = clock()
        self.supervisor = Supervisor(clock)  # every long-lived thread runs under it
        first = load_configuration(settings)  # checked before the store is opened
        building, registry = first.building, first.registry
        # the MQTT client id defaults to one of this site: two gateways on a broker both keep theirs
        self.settings = settings = settings.for_site(building.site.id)
        self.admin_token = parts.admin_token(settings)
        self._build_store(building, registry)
        self._build_live()
        self._build_ingest()
        self._build_readers()
        self._build_webhooks()
        self.reconfigure = Reconfigure(
            ReconfigureParts(
                settings,
                self.db,
                self.current,
                self.live,
                self.transport,
                self.bridges,
                self.access,
                clock,
                swap=self.current.swap,
            )
        )
        self.lifecycle = Lifecycle(self)

    # -- building ----------------------------------------------------------------------------
    def _build_store(self, building: Building, registry: ProfileRegistry) -> None:
        s = self.settings
        self.db = create_db_engine(s.database_url, busy_timeout_ms=s.database_busy_timeout_ms)
        init_db(self.db)
        site = building.site.id
        building = with_bindings(building, load_bindings(self.db, site))
        sync_building(self.db, building)
        self.current = Current(Snapshot.of(building, registry, s.occupancy.sensor_stale_s))
        self.writer = parts.batch_writer(s, self.db, site)
        self.telemetry = Telemetry()
        self.writer.observers.append(self.telemetry.observe_batch)
        self.disk = DiskMonitor(
            self.db,
            self.clock,
            events_stored=lambda: self.writer.events_stored,
            window_days=s.retention.events_days,
        )
        self.retention = Retention(
            self.db, site, s.retention, self.clock, lambda n: self.writer.pruned(0, events=n)
        )

    def _build_live(self) -> None:
        s, cur = self.settings, self.current.get()
        self.hub = Hub(self.supervisor)
        engine = OccupancyEngine(
            cur.building,
            s.occupancy,
            self.started_at,
            grace_s=s.bookings.grace_s,
            silence_s=cur.silence_s,
        )
        # each bridge's state (its last will): zigbee2mqtt's base topic follows the setting
        z2m_base = s.profile_variables.get("zigbee2mqtt", {}).get("base_topic")
        self.bridges = bridges.BridgeWatch(cur.building, z2m_base)
        self.devices = DeviceTable(parts.stored_devices(self.db, cur.building))
        self.live = LiveState(engine, self.devices, self.hub, self.current, self.bridges)
        self.engine = engine  # for tests to inspect; the parts reach it through ``live``
        self.keeper = EngineKeeper(self.live, self.db, cur.building.site.id, self.clock)
        self.keeper.restore()  # before the devices' readings warm it
        self.keeper.warm(self.devices.all())

    def _build_ingest(self) -> None:
        s, cur, m = self.settings, self.current.get(), self.settings.mqtt
        self.queue = Handoff(maxsize=m.queue_size)
        # one keyed credential hash for ingest, members and doors (key in access.key_dir)
        private_dir(s.access.key_dir)  # 0700 before any key is written into it
        self.hasher = CredentialHasher.from_key_dir(cur.building.site.id, s.access.key_dir)
        topics = bridges.subscriptions(
            cur.registry.subscriptions(), self.bridges.topics(cur.building)
        )
        ing = s.ingest
        # what a broker held while the gateway was away is a backlog, not a flood
        screen = Screen(
            ing.max_payload_bytes, ing.device_rate_per_s, ing.device_burst, clock=self.clock
        )
        self.transport = MqttTransport(
            m, topics, self.queue, on_backlog=screen.backlog, clock=self.clock
        )
        # the last time the store heard any device: how long a backlog the broker may hold
        self.transport.away_since = self.devices.latest_seen()
        self.pipeline = Pipeline(
            self.current,
            self.writer,
            self.devices,
            self.live,
            self.transport,
            screen=screen,
            batch_size=m.batch_size,
            batch_ms=m.batch_ms,
            clock=self.clock,
            hasher=self.hasher,
            dead_letter_limit=DeadLetterLimit(ing.dead_letters_per_s, ing.dead_letter_burst),
            max_unknown_devices=ing.max_unknown_devices,
            bridges=self.bridges,
        )
        self.pipeline.supervisor = self.supervisor
        self.pipeline.crash_after_batches = int(os.environ.get(FAULT_EXIT_AFTER, "0"))

    def _build_readers(self) -> None:
        s, cur, sup = self.settings, self.current.get(), self.supervisor
        self.publisher: SpacePublisher | None = None
        if s.publish.enabled:
            self.publisher = SpacePublisher(s.publish, s.mqtt, cur.building, self.live.space_view)
            self.publisher.client.loop = sup.loop("mqtt-out")
            self.live.add_listener(self.publisher)
        # tokens, members, grants, door decisions; granted badges feed the engine like events
        self.access = AccessControl(
            self.db,
            cur.building,
            cur.registry,
            s,
            self.clock,
            evidence=self.live.apply_events,
            hasher=self.hasher,
        )
        self.access.flusher.loop = sup.loop("access-audit")
        self.access.client.loop = sup.loop("door-decider")
        # utilization, recommendations, heatmap, portfolio: for the API and the uplink
        self.readmodel = ReadModel(
            self.db, s.occupancy, lambda: self.current.get().building, self.live.calendar
        )
        # northbound, store-and-forward; None when off
        self.uplink = build_uplink(s, cur.building.site.id, self.readmodel, self.hub, self.clock)
        if self.uplink is not None:
            self.uplink.loop = sup.loop("uplink")
            self.uplink.client.loop = sup.loop("uplink-mqtt")
        # bookings, print release, alerts, work orders: given the ports they need, no more
        out = None if self.publisher is None else PublisherCommands(self.publisher.client)
        self.services = MemberServices(
            FacilityPorts(
                SiteStore(self.db, self.clock, cur.building.site.id),
                self.current,
                self.live,
                self.hub,
                sup,
                s.bookings,
                s.alerts,
                members=self.access.directory,
                grants=self.access.grants,
                commands=out,
                disk=self.disk,
            )
        )
        self.access.decider.on_trip = self.services.door_trips  # a door's limit: alert + order
        # room calendars (a space's ``calendar:``) polled into bookings; started by ``start``
        self.calendars = Calendars(self.services.bookings, s.calendars, self.current, self.clock)
        # booking platforms' signed changes (POST /api/v1/integrations/bookings)
        self.booking_hooks = BookingHooks(self.services.bookings, s.booking_hooks, self.clock)

    def _build_webhooks(self) -> None:
        """Findings out: subscriptions, the durable outbox, its sender (started by ``start``)."""
        s, site = self.settings, self.current.get().building.site.id
        days = s.occupancy.lookback_days
        self.webhooks = Webhooks(
            self.db,
            site,
            s.webhooks,
            self.current,
            self.clock,
            grace_s=s.bookings.grace_s,
            link=f"http://{s.api.host}:{s.api.port}/",
            recommendations=lambda now: self.readmodel.underuse(now, days)[1],
        )
        alerts = self.services.alerts
        self.webhooks.raise_alert, self.webhooks.clear_alert = alerts.raise_, alerts.clear
        self.webhooks.attach(self.hub)

    # -- the configuration in force ----------------------------------------------------------
    @property
    def building(self) -> Building:
        return self.current.get().building

    @property
    def registry(self) -> ProfileRegistry:
        return self.current.get().registry

    def device_silence_s(self, device_id: str) -> float:
        """How long ``device_id`` may stay silent before it counts as offline."""
        return self.current.get().silence_of(device_id)

    # -- running -----------------------------------------------------------------------------
    def reload(self) -> tuple[bool, str]:
        """Reload the profiles and the building file; (ok, what happened or why not)."""
        return self.reconfigure.reload()

    def bind_device(self, device_id: str, space: str | None, profile: str | None) -> DeviceLive:
        """Bind a (discovered) device to a space; kept across restarts."""
        return self.reconfigure.bind_device(device_id, space, profile)

    def install_sighup(self) -> None:
        self.lifecycle.install_sighup()

    def start(self) -> None:
        self.lifecycle.start()
        self.webhooks.start(self.supervisor)
        self.calendars.start(self.supervisor)

    def stop(self) -> None:
        self.supervisor.stop()  # the webhook sender's return is a shutdown, not a death
        self.webhooks.stop()
        self.calendars.stop()
        self.lifecycle.stop()

    @property
    def embedded_broker(self) -> object | None:
        return self.lifecycle.embedded_broker
