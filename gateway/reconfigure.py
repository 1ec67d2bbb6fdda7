"""Reconfiguring a running gateway: reload profiles and building, bind a discovered device.

Both swap the new set in between two ingest batches, under the gateway's locks, so no message
is dropped or half-decoded; a broken file is refused and the running set stays in force.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from gateway.building import Building, DeviceBinding, load_building
from gateway.building.base_topic import with_base_topic
from gateway.errors import ConfigError, GatewayError
from gateway.ingest import bridges
from gateway.logtext import clean
from gateway.profiles import ProfileRegistry
from gateway.state.devices import DeviceLive
from gateway.store.bindings import load_bindings, save_binding, with_bindings
from gateway.store.sync import sync_building

if TYPE_CHECKING:
    from gateway.runtime import Gateway

log = logging.getLogger(__name__)


def reload(gw: Gateway) -> tuple[bool, str]:
    """Reload the profiles and the building file; (ok, what happened or why not).

    A broken file is refused with its error and the running set stays in force. The new
    set is swapped in between two batches, so no message is dropped or half-decoded.
    """
    with gw._reload_lock:
        try:
            building, variables = with_base_topic(
                with_bindings(
                    load_building(gw.settings.building),
                    load_bindings(gw.db, gw.building.site.id),
                ),
                gw.settings.profile_variables,
            )
            registry = ProfileRegistry.load(gw.settings.profiles_dir, variables)
            missing = sorted({d.profile for d in building.devices.values()} - set(registry.names))
            if missing:
                raise ConfigError(f"devices name unknown profiles: {', '.join(missing)}")
            old_site, new_site = gw.building.site, building.site
            if (new_site.id, new_site.timezone, new_site.business_hours) != (
                old_site.id,
                old_site.timezone,
                old_site.business_hours,
            ):
                raise ConfigError(
                    "the site's id, time zone or business hours changed; restart the gateway"
                )
            removed = sorted(set(gw.building.spaces) - set(building.spaces))
            if removed:
                # their open utilization bins close at a restart, not mid-flight
                raise ConfigError(f"spaces removed ({', '.join(removed)}); restart the gateway")
            sync_building(gw.db, building)
        except GatewayError as err:
            log.error("reload refused, the running profiles and building stay: %s", err)
            return False, str(err)
        wanted = bridges.subscriptions(registry.subscriptions(), gw.bridges.topics(building))
        added = sorted(set(wanted) - set(gw.transport.topics))  # a new bridge's state too
        with gw.state_lock:  # before the swap, so every listed space has a state
            gw.engine.add_spaces(building.spaces, gw.clock())
        with gw.pipeline.swap_lock:
            gw.pipeline.registry, gw.pipeline.building = registry, building
            gw.registry, gw.building = registry, building
            gw.access.set_building(building, registry)
            gw.devices.rebind(building)
        if added:
            gw.transport.topics = sorted({*gw.transport.topics, *added})
            if gw.transport.connected.is_set():
                gw.transport.client.subscribe([(t, 1) for t in added])
        with gw.state_lock:
            gw.silence_s = gw._silence_timeouts()
            gw.engine.silence_s = gw.silence_s  # for evidence of devices heard from now on
        if gw.publisher is not None:
            with gw.state_lock:  # names, floors or types may have changed
                gw.publisher.set_building(building, gw.clock())
        what = f"{len(registry.names)} profiles, {len(building.devices)} devices"
        log.info("reloaded: %s", what)
        return True, what


def bind_device(gw: Gateway, device_id: str, space: str | None, profile: str | None) -> DeviceLive:
    """Bind a (discovered) device to a space through the API; kept across restarts.

    Raises KeyError for an unknown space, ValueError for an unknown or missing profile,
    and ConfigError for a device the building file binds (edit the file for those).
    """
    with gw._reload_lock:
        file_binding = gw.building.devices.get(device_id)
        if file_binding is not None and device_id not in load_bindings(gw.db, gw.building.site.id):
            raise ConfigError(
                f"device '{device_id}' is bound in the building file; change it there"
            )
        if space is not None and space not in gw.building.spaces:
            raise KeyError(space)
        live = gw.devices.get(device_id)
        profile = profile or (live.profile if live is not None else None)
        if profile is None or profile not in gw.registry.names:
            raise ValueError(f"unknown profile {profile!r}")
        binding = DeviceBinding(device_id, profile, space)
        save_binding(gw.db, gw.building.site.id, binding)
        building = with_bindings(
            Building(
                site=gw.building.site,
                floors=gw.building.floors,
                spaces=gw.building.spaces,
                devices={k: v for k, v in gw.building.devices.items() if k != device_id},
                source=gw.building.source,
                plans=gw.building.plans,
                members=gw.building.members,
                bridges=gw.building.bridges,
            ),
            {device_id: binding},
        )
        sync_building(gw.db, building)
        with gw.pipeline.swap_lock:
            gw.pipeline.building = gw.building = building
            live = gw.devices.bind(device_id, profile, space)
        with gw.state_lock:
            gw.silence_s = gw._silence_timeouts()
            gw.engine.silence_s = gw.silence_s
        log.info(
            "device %s bound to space %s (profile %s)",
            clean(device_id),
            clean(space),
            clean(profile),
        )
        return live
