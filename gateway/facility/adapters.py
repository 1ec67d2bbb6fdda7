"""The facility ports over other parts: MQTT out as the printers' command channel, and --
until the composition root hands the services ``gateway.state.live.LiveState`` and
``gateway.state.config.Current`` -- the live view and the configuration over today's parts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any

from gateway.building import Building
from gateway.ingest.bridges import BridgeWatch
from gateway.occupancy.accumulate import Finding
from gateway.occupancy.bookings import BookingWindow
from gateway.occupancy.engine import OccupancyEngine
from gateway.occupancy.fusion import OCCUPIED
from gateway.profiles import ProfileRegistry
from gateway.publish.client import OutClient
from gateway.state.config import Snapshot
from gateway.state.devices import DeviceLive, DeviceTable


class PublisherCommands:
    """:class:`~gateway.facility.ports.Commands` on the MQTT-out client: not retained."""

    def __init__(self, client: OutClient) -> None:
        self._client = client

    def send(self, topic: str, payload: bytes) -> None:
        self._client.publish(topic, payload, retain=False)


class GatewayLive:
    """:class:`~gateway.facility.ports.LiveView` over the engine (under the lock its owner
    keeps), the device table and the bridge watch."""

    def __init__(
        self,
        engine: OccupancyEngine,
        engine_lock: AbstractContextManager[Any],
        devices: DeviceTable,
        bridges: BridgeWatch,
        building: Callable[[], Building],
    ) -> None:
        self._engine, self._engine_lock = engine, engine_lock
        self._devices, self._bridges, self._building = devices, bridges, building

    def pending_findings(self) -> list[Finding]:
        with self._engine_lock:
            return list(self._engine.out.findings)

    def set_bookings(self, space: str, windows: Sequence[BookingWindow], now: float) -> None:
        with self._engine_lock:
            if space in self._engine.spaces:
                self._engine.set_bookings(space, windows, now)

    def occupied(self, spaces: Iterable[str]) -> set[str]:
        with self._engine_lock:
            held = self._engine.spaces
            return {s for s in spaces if s in held and held[s].state == OCCUPIED}

    def devices(self) -> list[DeviceLive]:
        return self._devices.all()

    def device(self, device_id: str) -> DeviceLive | None:
        return self._devices.get(device_id)

    def bridges(self) -> dict[str, dict[str, Any]]:
        return self._bridges.view(self._building())

    def own_online(self, device_id: str) -> bool | None:
        return self._bridges.own.get(device_id)


class GatewayConfig:
    """:class:`~gateway.facility.ports.ConfigSource` over the parts a reload reassigns."""

    def __init__(
        self,
        parts: Callable[[], tuple[Building, ProfileRegistry, Mapping[str, float]]],
        default_silence_s: float,
    ) -> None:
        self._parts, self._default = parts, default_silence_s
        self._snapshot: Snapshot | None = None

    def get(self) -> Snapshot:
        building, registry, silence = self._parts()
        s = self._snapshot
        if s is None or not (
            s.building is building and s.registry is registry and s.silence_s is silence
        ):
            s = self._snapshot = Snapshot(building, registry, silence, self._default)
        return s
