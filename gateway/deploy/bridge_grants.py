"""The topics one bridge's MQTT user may publish and read: its own devices' and nothing else.

A bridge (``gateway.building.bridges``) publishes for every device it carries and reads their
commands. The layouts come from the bridges' own documentation and source:

- zigbee2mqtt (Koenkk/zigbee2mqtt lib/mqtt.ts; zigbee2mqtt.io guide/usage/
  mqtt_topics_and_messages): it subscribes to ``<base>/#``, publishes each device's state on
  ``<base>/<friendly_name>`` and ``<base>/<friendly_name>/availability``, reads
  ``<base>/<friendly_name>/set[/<attr>]`` and ``.../get[/<attr>]``, and owns ``<base>/bridge/#``
  (``bridge/state`` is its retained last will, ``bridge/request/...`` its API);
- ChirpStack v4 MQTT integration (chirpstack.io/docs/chirpstack/integrations/mqtt.html):
  publishes ``application/<application_id>/device/<dev_eui>/event/<event>`` (up, join, status,
  ack, txack, log, location, integration) and reads ``.../device/<dev_eui>/command/<command>``;
- any other profile (a vendor relay): every rule topic of the profile with ``{device}`` set to
  each of its devices (other captures ``+``), and its command topics to read.

The gateway may write each command topic with ``+`` for the device (``<base>/+/set``), and,
for a device whose name spans levels (a zigbee2mqtt friendly name grouped with ``/``, which
``+`` does not match), that device's own command topic (``<base>/floor1/room2/pir/set``):
never ``<base>/#``, which would let it write the bridge's ``bridge/request/...`` API too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gateway.building import Building
from gateway.building.bridges import Z2M_BASE, Bridge
from gateway.profiles import ProfileRegistry

_CAPTURE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)#?\}")  # {name#} spans levels


@dataclass(frozen=True, slots=True)
class BridgeGrant:
    """One bridge user's topics."""

    user: str
    write: tuple[str, ...]
    read: tuple[str, ...]
    readwrite: tuple[str, ...]
    gateway_read: tuple[str, ...]  # what the gateway must read of this bridge
    gateway_write: tuple[str, ...]  # and write (its devices' commands)


def rebase(pattern: str, bridge: Bridge) -> str:
    """A zigbee2mqtt profile topic under this bridge's base topic (others unchanged)."""
    if bridge.base_topic is None:
        return pattern
    first, sep, rest = pattern.partition("/")
    if first in (Z2M_BASE, "+", "#") or first.startswith("{"):
        return f"{bridge.base_topic}{sep}{rest}"
    return pattern


def for_device(pattern: str, device: str) -> str:
    """``{device}`` -> the device id, every other capture -> ``+``."""
    return _CAPTURE.sub(lambda m: device if m.group(1) == "device" else "+", pattern)


def as_filter(pattern: str) -> str:
    head, spans, _ = pattern.partition("#}")
    if spans:  # a capture spanning levels (zigbee2mqtt names with '/'): '#' from there on
        return _CAPTURE.sub("+", head.rsplit("{", 1)[0] + "#")
    return _CAPTURE.sub("+", pattern)


def grant(bridge: Bridge, building: Building, registry: ProfileRegistry) -> BridgeGrant:
    """What ``bridge``'s user may do, for the devices the building puts behind it."""
    profile = registry.profiles[bridge.profile]
    write: dict[str, None] = {}
    read: dict[str, None] = {}
    own: dict[str, None] = {}
    g_read: dict[str, None] = {}
    g_write: dict[str, None] = {}
    rules = [rebase(r.topic.pattern, bridge) for r in profile.rules if "device" in r.topic.captures]
    commands = [rebase(c.topic, bridge) for c in profile.commands.values()]
    for pattern in [rebase(r.topic.pattern, bridge) for r in profile.rules]:
        g_read.setdefault(as_filter(pattern), None)
    for pattern in commands:
        g_write.setdefault(as_filter(pattern), None)
    for dev in sorted(building.bridged.get(bridge.id, ()), key=lambda d: d.id):
        for pattern in rules:
            write.setdefault(for_device(pattern, dev.id), None)
        for pattern in commands:
            if "{device}" in pattern:
                read.setdefault(for_device(pattern, dev.id), None)
                if "/" in dev.id:  # '+' in the gateway's filter is one level: not this name
                    g_write.setdefault(for_device(pattern, dev.id), None)
        if bridge.profile == "zigbee2mqtt":
            base = f"{bridge.base_topic}/{dev.id}"
            for extra in ("set", "set/#", "get", "get/#"):
                read.setdefault(f"{base}/{extra}", None)
        elif bridge.profile == "chirpstack":
            write.setdefault(f"application/+/device/{dev.id}/event/+", None)
            read.setdefault(f"application/+/device/{dev.id}/command/+", None)
    if bridge.base_topic is not None:
        own.setdefault(f"{bridge.base_topic}/bridge/#", None)
    if bridge.state_topic is not None:
        if not any(bridge.state_topic.startswith(t[:-1]) for t in own):
            own.setdefault(bridge.state_topic, None)
        g_read.setdefault(bridge.state_topic, None)
    return BridgeGrant(
        bridge.id,
        tuple(write),
        tuple(read),
        tuple(own),
        tuple(g_read),
        tuple(g_write),
    )
