"""The live state: the occupancy engine, the device table and the hub, behind one owner.

:class:`LiveState` owns the engine and the one lock that guards it. Ingest hands it each
committed batch's events (:meth:`LiveState.apply_events`, the ingest's event sink); the
ticker moves the engine's time on (:meth:`LiveState.tick`); every reader (routes, metrics,
the live stream, the services, the publishers) calls one of its read operations, which take
the lock themselves and hand back values the caller may keep. Nobody else takes the lock.

The device table keeps a lock of its own (``gateway.state.devices``); the device reads here
delegate to it and judge availability with the silence the configuration in force allows.
"""

from __future__ import annotations

import dataclasses
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol

from gateway.building import Building
from gateway.events import Event
from gateway.hub import Hub
from gateway.occupancy import OccupancyEngine
from gateway.occupancy import snapshot as engine_snapshot
from gateway.occupancy.accumulate import EngineOutput, Finding
from gateway.occupancy.bookings import BookingWindow, NoShowStats
from gateway.occupancy.calendar import Calendar
from gateway.occupancy.fusion import OCCUPIED
from gateway.occupancy.live import SpaceView, Transition
from gateway.state.config import Current
from gateway.state.devices import DeviceLive, DeviceTable


class BridgeStates(Protocol):
    """Each bridge's state, as ingest keeps it (``gateway.ingest.bridges.BridgeWatch``)."""

    @property
    def own(self) -> Mapping[str, bool | None]:
        """Bridged device -> its own availability, as it last said it."""
        ...

    def view(self, building: Building) -> dict[str, dict[str, Any]]: ...


class SpaceListener(Protocol):
    """A part told of the engine's transitions under the live state's lock (MQTT out)."""

    def transitions(self, changes: list[Transition], now: float) -> None: ...

    def tick(self, now: float) -> None: ...

    def set_building(self, building: Building, now: float) -> None: ...


class LiveState:
    """The engine, its lock, the device table and the hub; every caller's live reads."""

    def __init__(
        self,
        engine: OccupancyEngine,
        devices: DeviceTable,
        hub: Hub,
        config: Current,
        bridges: BridgeStates,
    ) -> None:
        self._engine = engine
        self._lock = threading.RLock()
        self.device_table = devices
        self.hub = hub
        self._config = config
        self._bridges = bridges
        self._listeners: list[SpaceListener] = []

    def add_listener(self, listener: SpaceListener) -> None:
        """Tell ``listener`` of every transition the engine decides (called under the lock):
        a space's state changed, it became idle, it stopped being idle."""
        with self._lock:
            self._engine.watch_transitions()
            self._listeners.append(listener)

    # -- writing: ingest, the ticker, reconfiguration --------------------------------------
    def apply_events(self, events: list[Event], now: float) -> None:
        """Fold a committed batch's events into the engine; tell who listens."""
        with self._lock:
            changed = self._engine.apply_all(events, now)
            self.hub.publish("events", events, now)
            self._spaces_changed(changed, now)

    def tick(self, now: float) -> bool:
        """Move the engine's time on to ``now``; True when it holds findings to save."""
        with self._lock:
            self._spaces_changed(self._engine.tick(now), now)
            return bool(self._engine.out.findings)

    def tick_listeners(self, now: float) -> None:
        """The listeners' own timers (a reconnection to serve, a retained sweep)."""
        with self._lock:
            for listener in self._listeners:
                listener.tick(now)

    def next_due(self) -> float:
        """When the engine's next deadline falls (a booking's grace, a PIR's hold)."""
        with self._lock:
            return self._engine.next_due()

    def add_spaces(self, space_ids: Iterable[str], now: float) -> None:
        """Start tracking spaces a reloaded building added (before the new set is in force)."""
        with self._lock:
            self._engine.add_spaces(space_ids, now)

    def set_silence(self, silence_s: Mapping[str, float]) -> None:
        """The devices' allowed silence, for evidence heard from now on."""
        with self._lock:
            self._engine.silence_s = silence_s

    def building_changed(self, building: Building, now: float) -> None:
        """Names, floors or types may have changed: the listeners publish them again."""
        with self._lock:
            for listener in self._listeners:
                listener.set_building(building, now)

    def set_bookings(self, space: str, windows: Sequence[BookingWindow], now: float) -> None:
        """Have the engine watch these booking windows of ``space`` (no-op for an unknown one)."""
        with self._lock:
            if space in self._engine.spaces:
                self._engine.set_bookings(space, windows, now)

    def _spaces_changed(self, space_ids: list[str], now: float) -> None:
        changes = self._engine.take_transitions()
        if changes:
            for listener in self._listeners:
                listener.transitions(changes, now)
        if space_ids:
            self.hub.publish("spaces", space_ids, now)

    # -- saving and restoring (gateway.state.keeper) -----------------------------------------
    def drain(self, now: float) -> tuple[EngineOutput, bytes]:
        """What the engine produced since the last drain, and its snapshot at ``now``."""
        with self._lock:
            return self._engine.drain(), engine_snapshot.dump(self._engine, now)

    def restore(self, raw: bytes, now: float) -> int:
        """Resume from a saved snapshot; the number of spaces restored."""
        with self._lock:
            return engine_snapshot.restore(self._engine, raw, now)

    def warm(self, events: Iterable[Event], now: float) -> None:
        """Fold stored readings in without telling anyone (start-up)."""
        with self._lock:
            self._engine.apply_all(events, now)

    @property
    def building(self) -> Building:
        """The building in force (a reload swaps it whole)."""
        return self._config.get().building

    @property
    def bin_s(self) -> int:
        return self._engine.bin_s

    @property
    def calendar(self) -> Calendar:
        """The site's business-hours calendar (fixed for the gateway's life)."""
        return self._engine.cal

    # -- reading spaces ----------------------------------------------------------------------
    def space_view(self, space_id: str, now: float) -> SpaceView:
        """One space's live state (KeyError for a space the engine does not track)."""
        with self._lock:
            return self._engine.view(space_id, now)

    def space_views(self, space_ids: Iterable[str], now: float) -> list[SpaceView]:
        """The live state of each of ``space_ids`` the engine tracks, in their order."""
        with self._lock:
            held = self._engine.spaces
            return [self._engine.view(sid, now) for sid in space_ids if sid in held]

    def free_now(self, now: float) -> list[SpaceView]:
        """Every vacant space, idle or not, with since-when."""
        with self._lock:
            return self._engine.free_now(now)

    def state_counts(self) -> Counter[str]:
        """How many spaces are in each state."""
        with self._lock:
            return Counter(sp.state for sp in self._engine.spaces.values())

    def idle_count(self, now: float) -> int:
        """How many spaces are idle now."""
        with self._lock:
            eng = self._engine
            return sum(1 for sid in eng.spaces if eng.view(sid, now).idle)

    def occupied(self, spaces: Iterable[str]) -> set[str]:
        """Which of ``spaces`` the engine holds occupied now."""
        with self._lock:
            held = self._engine.spaces
            return {s for s in spaces if s in held and held[s].state == OCCUPIED}

    def no_show(self) -> NoShowStats:
        """The no-show figures so far (a copy)."""
        with self._lock:
            return dataclasses.replace(self._engine.no_show)

    def rejected(self) -> dict[str, int]:
        """Events the engine refused or clamped, by reason."""
        with self._lock:
            return dict(self._engine.guard.rejected)

    def pending_findings(self) -> list[Finding]:
        """The engine's findings not yet saved (so not yet published on ``findings``)."""
        with self._lock:
            return list(self._engine.out.findings)

    # -- reading devices ---------------------------------------------------------------------
    def devices(self) -> list[DeviceLive]:
        """A copy of every device's live view, sorted by id."""
        return self.device_table.all()

    def device(self, device_id: str) -> DeviceLive | None:
        """A copy of one device's live view, None when the gateway never heard of it."""
        return self.device_table.get(device_id)

    def silence_of(self, device_id: str) -> float:
        """How long ``device_id`` may stay silent before it counts as offline."""
        return self._config.get().silence_of(device_id)

    def is_online(self, device: DeviceLive, now: float) -> bool:
        """Whether ``device`` counts as online now, by its own allowed silence."""
        return device.is_online(now, self.silence_of(device.id))

    def online_counts(self, now: float) -> tuple[int, int]:
        """Bound devices (online, offline) now."""
        return self.device_table.online_counts(now, self.silence_of)

    def bridges(self) -> dict[str, dict[str, Any]]:
        """Per bridge id: its state and how many devices it holds."""
        return self._bridges.view(self._config.get().building)

    def own_online(self, device_id: str) -> bool | None:
        """A bridged device's own availability, as it last said it (None: never said)."""
        return self._bridges.own.get(device_id)

    # -- subscribing -------------------------------------------------------------------------
    def subscribe(self, channel: str, callback: Callable[[Any, float], None]) -> Callable[[], None]:
        """Call ``callback(payload, now)`` for each item on a hub channel."""
        return self.hub.subscribe(channel, callback)
