"""Reconfiguring a running gateway: reload profiles and building, bind a discovered device.

Each builds the next configuration aside (``gateway.state.config.Snapshot``) and swaps the
one reference in force between two ingest batches, so no message is dropped or half-decoded;
a broken file is refused and the running set stays in force. One reload or binding runs at
a time (:class:`Reconfigure` holds the lock for it).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.engine import Engine

from gateway.building import Building, DeviceBinding, load_building
from gateway.building.base_topic import with_base_topic
from gateway.errors import ConfigError, GatewayError
from gateway.ingest import bridges
from gateway.logtext import clean
from gateway.profiles import ProfileRegistry
from gateway.settings import Settings
from gateway.state.config import Current, Snapshot, require_profiles
from gateway.state.devices import DeviceLive
from gateway.state.live import LiveState
from gateway.store.bindings import load_bindings, save_binding, with_bindings
from gateway.store.sync import sync_building

log = logging.getLogger(__name__)


class Subscriber(Protocol):
    """The MQTT-in transport: subscribes to a reload's new topics."""

    def subscribe_more(self, topics: Iterable[str]) -> list[str]: ...


class BuildingUser(Protocol):
    """A part that keeps its own view of the building and profiles (access control)."""

    def set_building(self, building: Building, registry: ProfileRegistry | None = None) -> None: ...


class BridgeTopics(Protocol):
    def topics(self, building: Building) -> list[str]: ...


@dataclass(frozen=True)
class ReconfigureParts:
    """What a reload reads and changes."""

    settings: Settings
    db: Engine
    current: Current
    live: LiveState
    transport: Subscriber
    bridges: BridgeTopics
    access: BuildingUser
    clock: Callable[[], float]
    #: puts a snapshot in force between two batches (``Current.swap`` and what follows it)
    swap: Callable[[Snapshot], object]


def load_configuration(
    settings: Settings, bindings: dict[str, DeviceBinding] | None = None
) -> Snapshot:
    """The building file (with ``bindings``, those kept in the store) and the profiles it
    names, checked."""
    building, variables = with_base_topic(
        with_bindings(load_building(settings.building), bindings or {}),
        settings.profile_variables,
    )
    registry = ProfileRegistry.load(settings.profiles_dir, variables)
    require_profiles(building, registry, f"{settings.building} ({settings.profiles_dir})")
    return Snapshot.of(building, registry, settings.occupancy.sensor_stale_s)


def _check_compatible(old: Building, new: Building) -> None:
    """Refuse what only a restart may change: the site, or spaces removed."""
    a, b = old.site, new.site
    if (a.id, a.timezone, a.business_hours) != (b.id, b.timezone, b.business_hours):
        raise ConfigError("the site's id, time zone or business hours changed; restart the gateway")
    removed = sorted(set(old.spaces) - set(new.spaces))
    if removed:
        # their open utilization bins close at a restart, not mid-flight
        raise ConfigError(f"spaces removed ({', '.join(removed)}); restart the gateway")


def _without(b: Building, device_id: str) -> Building:
    """``b`` without its binding of ``device_id`` (derived maps built again)."""
    return Building(
        site=b.site,
        floors=b.floors,
        spaces=b.spaces,
        devices={k: v for k, v in b.devices.items() if k != device_id},
        source=b.source,
        plans=b.plans,
        members=b.members,
        bridges=b.bridges,
    )


class Reconfigure:
    """Reloads and bindings of a running gateway, one at a time."""

    def __init__(self, parts: ReconfigureParts) -> None:
        self.parts = parts
        self._lock = threading.Lock()

    def reload(self) -> tuple[bool, str]:
        """Reload the profiles and the building file; (ok, what happened or why not)."""
        p = self.parts
        with self._lock:
            old = p.current.get()
            try:
                new = load_configuration(p.settings, load_bindings(p.db, old.building.site.id))
                _check_compatible(old.building, new.building)
                sync_building(p.db, new.building)
            except GatewayError as err:
                log.error("reload refused, the running profiles and building stay: %s", err)
                return False, str(err)
            building, registry = new.building, new.registry
            wanted = bridges.subscriptions(registry.subscriptions(), p.bridges.topics(building))
            p.live.add_spaces(building.spaces, p.clock())  # every listed space has a state
            p.swap(new)
            p.access.set_building(building, registry)
            p.live.device_table.rebind(building)
            p.transport.subscribe_more(wanted)  # a new bridge's state too
            p.live.set_silence(new.silence_s)  # for evidence of devices heard from now on
            p.live.building_changed(building, p.clock())
            what = f"{len(registry.names)} profiles, {len(building.devices)} devices"
            log.info("reloaded: %s", what)
            return True, what

    def bind_device(self, device_id: str, space: str | None, profile: str | None) -> DeviceLive:
        """Bind a (discovered) device to a space through the API; kept across restarts.

        Raises KeyError for an unknown space, ValueError for an unknown or missing profile,
        and ConfigError for a device the building file binds (edit the file for those).
        """
        p = self.parts
        with self._lock:
            cur = p.current.get()
            b, site = cur.building, cur.building.site.id
            if device_id in b.devices and device_id not in load_bindings(p.db, site):
                raise ConfigError(
                    f"device '{device_id}' is bound in the building file; change it there"
                )
            if space is not None and space not in b.spaces:
                raise KeyError(space)
            known = p.live.device(device_id)
            profile = profile or (known.profile if known is not None else None)
            if profile is None or profile not in cur.registry.names:
                raise ValueError(f"unknown profile {profile!r}")
            binding = DeviceBinding(device_id, profile, space)
            save_binding(p.db, site, binding)
            building = with_bindings(_without(b, device_id), {device_id: binding})
            sync_building(p.db, building)
            new = Snapshot.of(building, cur.registry, cur.default_silence_s)
            p.swap(new)
            live = p.live.device_table.bind(device_id, profile, space)
            p.live.set_silence(new.silence_s)
            log.info(
                "device %s bound to space %s (profile %s)",
                clean(device_id),
                clean(space),
                clean(profile),
            )
            return live
