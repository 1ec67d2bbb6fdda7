"""The live device table: each device's binding, availability, last seen and latest readings.

One owner, one lock. Readers (API, alerts, metrics, the stream) get copies and never hold the
lock; ingest writes what each committed batch learned (``settle`` before the write, ``apply``
after it); a reload or a binding through the API rebinds devices (``rebind``, ``bind``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from gateway.building import Building
from gateway.store.rows import DeviceFacts

__all__ = ["DeviceLive", "DeviceTable", "Settling", "released_unknown"]


@dataclass(slots=True)
class DeviceLive:
    """A device's live view: binding, availability, last seen and latest readings."""

    id: str
    profile: str
    space: str | None
    bound: bool
    online: bool | None = None
    first_seen: float | None = None
    last_seen: float | None = None
    readings: dict[str, dict[str, Any]] = field(default_factory=dict)

    def is_online(self, now: float, stale_s: float) -> bool:
        """Its own availability when it has one, else heard from within ``stale_s``."""
        if self.online is not None:
            return self.online
        return self.last_seen is not None and now - self.last_seen <= stale_s

    def copy(self) -> DeviceLive:
        """A copy a reader may keep (the readings' mapping is its own)."""
        return replace(self, readings={k: dict(v) for k, v in self.readings.items()})


def released_unknown(readings: Mapping[str, Any]) -> bool:
    """The device was released to "never said" (its availability is None again)."""
    kept = readings.get("online")
    return bool(kept and kept.get("unknown"))


class Settling(Protocol):
    """What ``settle`` sets on a batch's device update before the write."""

    first_seen: float
    online: bool | None
    readings: dict[str, Any]


class DeviceTable:
    """Every device heard or bound, by id, behind its own lock."""

    def __init__(self, devices: Iterable[DeviceLive] = ()) -> None:
        self._devices: dict[str, DeviceLive] = {d.id: d for d in devices}
        self._lock = threading.Lock()

    # -- reading (copies) --------------------------------------------------------------------
    def all(self) -> list[DeviceLive]:
        """Every device, copied, sorted by id."""
        with self._lock:
            return [self._devices[k].copy() for k in sorted(self._devices)]

    def get(self, device_id: str) -> DeviceLive | None:
        """A copy of one device, or None."""
        with self._lock:
            d = self._devices.get(device_id)
            return None if d is None else d.copy()

    def __getitem__(self, device_id: str) -> DeviceLive:
        d = self.get(device_id)
        if d is None:
            raise KeyError(device_id)
        return d

    def __contains__(self, device_id: object) -> bool:
        return device_id in self._devices

    def __len__(self) -> int:
        return len(self._devices)

    def online_counts(self, now: float, silence_of: Callable[[str], float]) -> tuple[int, int]:
        """Bound devices (online, offline) now, each judged by its own allowed silence."""
        with self._lock:
            bound = [d for d in self._devices.values() if d.bound]
            online = sum(1 for d in bound if d.is_online(now, silence_of(d.id)))
        return online, len(bound) - online

    def last_seen(self, device_id: str) -> float | None:
        """When ``device_id`` was last heard (None: never, or not known)."""
        with self._lock:
            d = self._devices.get(device_id)
            return None if d is None else d.last_seen

    def latest_seen(self) -> float | None:
        """The last time any device was heard."""
        with self._lock:
            return max((d.last_seen for d in self._devices.values() if d.last_seen), default=None)

    def unbound_seen(self) -> dict[str, float]:
        """Each discovered (unbound) device and when it was last heard (0: never)."""
        with self._lock:
            return {d.id: d.last_seen or 0.0 for d in self._devices.values() if not d.bound}

    # -- binding (reload, the API) -------------------------------------------------------------
    def bind(self, device_id: str, profile: str, space: str | None) -> DeviceLive:
        """Bind ``device_id`` (a new entry for one never heard); a copy of its view."""
        with self._lock:
            live = self._devices.get(device_id)
            if live is None:
                live = self._devices[device_id] = DeviceLive(device_id, profile, space, True)
            live.bound, live.profile, live.space = True, profile, space
            return live.copy()

    def rebind(self, building: Building) -> None:
        """Take each device's binding from ``building`` (after a reload)."""
        with self._lock:
            for live in self._devices.values():
                binding = building.devices.get(live.id)
                live.bound = binding is not None
                if binding is not None:
                    live.profile, live.space = binding.profile, binding.space

    def force_offline(self, device_ids: Iterable[str]) -> None:
        """Mark devices offline (held by a bridge that was offline when the gateway stopped)."""
        with self._lock:
            for dev in device_ids:
                live = self._devices.get(dev)
                if live is not None:
                    live.online = False

    # -- ingest ------------------------------------------------------------------------------
    def settle(self, updates: Mapping[tuple[str, str], Settling]) -> None:
        """What a batch's device updates take from the live view, read just before the write
        (so after every earlier batch is applied): first seen, and back online."""
        with self._lock:
            for (_site, dev_id), u in updates.items():
                live = self._devices.get(dev_id)
                if live is None:
                    continue
                if live.first_seen:
                    u.first_seen = live.first_seen
                # a device that was offline and speaks again is back (unless its bridge just
                # gave it back to silence)
                if (
                    u.online is None
                    and u.readings
                    and live.online is False
                    and not released_unknown(u.readings)
                ):
                    u.online = True

    def apply(
        self,
        updates: Mapping[tuple[str, str], DeviceFacts],
        evicted: Iterable[tuple[str, str]] = (),
    ) -> None:
        """Take in what a committed batch learned; drop the discovered devices it evicted."""
        with self._lock:
            devices = self._devices
            for _site, dev_id in evicted:
                live = devices.get(dev_id)
                if live is not None and not live.bound:
                    del devices[dev_id]
            for (_site, dev_id), u in updates.items():
                live = devices.get(dev_id)
                if live is None:
                    live = devices[dev_id] = DeviceLive(dev_id, u.profile, u.space, u.bound)
                live.first_seen = live.first_seen or u.first_seen
                live.last_seen = max(live.last_seen or 0.0, u.last_seen)
                live.readings.update(u.readings)
                if u.online is not None:
                    live.online = u.online
                elif released_unknown(u.readings):
                    live.online = None  # its bridge is back and it never said: silence judges
