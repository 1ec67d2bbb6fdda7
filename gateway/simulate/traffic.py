"""The building's traffic without I/O: simulated devices per binding, advanced by simulated time."""

from __future__ import annotations

import logging

from gateway.building import Building, DeviceBinding
from gateway.simulate import script as scripting
from gateway.simulate.bookings import Booker
from gateway.simulate.core import Behaviour, Message, SimDevice, World
from gateway.simulate.doors import Door
from gateway.simulate.env import Climates, RefEnvironment, ZigbeeAirQuality, ZigbeeTempHum
from gateway.simulate.lorawan import ChirpstackCounter
from gateway.simulate.people import People
from gateway.simulate.printers import Printer
from gateway.simulate.script import Script
from gateway.simulate.sensors import Counter, Pir, Presence, ZigbeeContact, ZigbeePir
from gateway.simulate.truth import TruthRecorder

log = logging.getLogger(__name__)

#: Words in a zigbee2mqtt device's ``model`` (or, without one, its id) that pick its behaviour.
_ZIGBEE_KINDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("presence", ("mmwave", "presence", "radar", "fp1", "fp2", "zy-m100")),
    ("contact", ("contact", "mccgq", "door", "window")),
    ("airq", ("airq", "air", "co2", "voc", "pm25")),
    ("temphum", ("temphum", "wsdcgq", "temp", "humid", "climate")),
    ("motion", ("motion", "pir", "rtcgq", "occupancy")),
)


def zigbee_kind(binding: DeviceBinding) -> str:
    """What a zigbee2mqtt device is: presence, contact, airq, temphum or motion (the default)."""
    for text in (binding.model, binding.id):
        label = (text or "").lower()
        for kind, words in _ZIGBEE_KINDS:
            if any(word in label for word in words):
                return kind
    return "motion"


def occupancy_kind(binding: DeviceBinding) -> str:
    """What a ``ref-occupancy`` device is: ``presence`` (mmWave, desk) or ``motion`` (PIR)."""
    label = f"{binding.model or ''} {binding.id}".lower()
    if any(word in label for word in ("mmwave", "presence", "desk", "radar")):
        return "presence"
    return "motion"


class Traffic:
    """Every simulated device of a building, driven by one simulated clock; ``advance`` to move.

    ``script`` replaces some spaces' planned visits and plays sensor outages; ``truth``
    records every space's head count (:mod:`gateway.simulate.truth`).
    """

    def __init__(
        self,
        building: Building,
        *,
        seed: int,
        start: float,
        min_gap: float,
        behaviour: Behaviour | None = None,
        script: Script | None = None,
        truth: bool = False,
    ) -> None:
        self.world = World(building, seed=seed, start=start, min_gap=min_gap, behaviour=behaviour)
        self.climates = Climates(self.world)
        self.people = People(self.world, building)
        self.booker: Booker | None = None  # made at ``begin``, once a script set its spaces
        self.truth = TruthRecorder(self.world) if truth else None
        self.devices: list[SimDevice] = []
        self.by_id: dict[str, tuple[DeviceBinding, SimDevice]] = {}
        self.zigbee: list[str] = []
        skipped: set[str] = set()
        for binding in building.devices.values():
            device = self._make(binding)
            if device is None:
                skipped.add(binding.profile)
                continue
            self.devices.append(device)
            self.by_id[binding.id] = (binding, device)
            if binding.profile == "zigbee2mqtt":
                self.zigbee.append(binding.id)
            if isinstance(device, Door) and binding.space is None:
                self.people.arrival_sinks.append(device.arrivals)
        if skipped:
            log.info("simulator: no behaviour for profiles %s; those devices stay silent", skipped)
        if script is not None:
            scripting.apply(self, script)
            if self.truth is not None:
                self.truth.outages = list(script.outages)
        self.started = False

    def _make(self, b: DeviceBinding) -> SimDevice | None:
        w, sid = self.world, b.space
        if b.profile == "ref-door":
            return Door(w, b.id, sid)
        if b.profile == "ref-printer":
            lead = not any(isinstance(d, Printer) for d in self.devices)
            return Printer(w, b.id, sid, lead=lead)
        if b.profile == "ref-counter":
            return Counter(w, b.id, sid)
        if b.profile == "chirpstack" and "vs121" in f"{b.model or ''} {b.id}".lower():
            return ChirpstackCounter(w, b.id, sid)
        if b.profile == "ref-environment":
            return RefEnvironment(w, b.id, sid, self.climates)
        if b.profile == "ref-occupancy":
            if occupancy_kind(b) == "presence":
                return Presence(w, b.id, sid, zigbee=False)
            return Pir(w, b.id, sid, self.climates)
        if b.profile == "zigbee2mqtt":
            kind = zigbee_kind(b)
            if kind == "presence":
                return Presence(w, b.id, sid, zigbee=True)
            if kind == "contact":
                return ZigbeeContact(w, b.id, sid)
            if kind == "airq":
                return ZigbeeAirQuality(w, b.id, sid, self.climates)
            if kind == "temphum":
                return ZigbeeTempHum(w, b.id, sid, self.climates)
            return ZigbeePir(w, b.id, sid, self.climates)
        return None

    @property
    def now(self) -> float:
        """The simulated time (epoch seconds)."""
        return self.world.clock.now

    def begin(self) -> list[Message]:
        """Availability and initial state of every device."""
        now = self.world.clock.now
        for name in self.zigbee:
            self.world.emit(f"zigbee2mqtt/{name}/availability", {"state": "online"})
        self.people.start(now)
        self.booker = Booker(self.world, self.people, self.world.building)
        self.booker.start(now)
        if self.truth is not None:
            self.truth.begin(now)
        self.climates.settle(now)
        for device in self.devices:
            device.start(now)
        self.started = True
        return self.world.drain()

    def advance(self, until: float) -> list[Message]:
        """Everything that happens up to simulated time ``until``, in time order."""
        if not self.started:
            out = self.begin()
            self.world.clock.run_until(until)
            return out + self.world.drain()
        self.world.clock.run_until(until)
        return self.world.drain()

    def end(self) -> list[Message]:
        """What devices say when they go away: offline status and availability."""
        now = self.world.clock.now
        for device in self.devices:
            device.stop(now)
        for name in self.zigbee:
            self.world.emit(f"zigbee2mqtt/{name}/availability", {"state": "offline"})
        return self.world.drain()
