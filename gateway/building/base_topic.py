"""zigbee2mqtt's base topic has one home: the building file's bridge; the old setting is an alias.

A site whose zigbee2mqtt publishes under another ``mqtt.base_topic`` says so once, on the
bridge in the building file::

    bridges:
      - {id: zigbee-2f, profile: zigbee2mqtt, base_topic: z2m}

and the profile's topics, the bridge's state topic (``z2m/bridge/state``) and its ACL grants
all follow. The settings' ``profile_variables: {zigbee2mqtt: {base_topic: z2m}}`` (documented
before the bridges section existed) is still read, as a deprecated alias: it moves every
zigbee2mqtt bridge that names no base topic of its own (and the implicit one), and it must
not contradict a bridge that does. The zigbee2mqtt profile reads one base topic, so a gateway
refuses to run with zigbee2mqtt bridges on different base topics; `gateway deploy acl` still
grants each bridge its own (``gateway.deploy.bridge_grants`` moves the profile's topics per
bridge).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace

from gateway.building.bridges import Z2M_BASE, Bridge
from gateway.building.model import Building
from gateway.errors import ConfigError

log = logging.getLogger(__name__)

ALIAS = "profile_variables.zigbee2mqtt.base_topic"


def with_base_topic(
    building: Building, variables: Mapping[str, Mapping[str, str]], *, one_base: bool = True
) -> tuple[Building, dict[str, dict[str, str]]]:
    """The building with its zigbee2mqtt bridges under their base topic, and the profile
    variables that make the zigbee2mqtt profile read it; raises ConfigError on a conflict.

    ``one_base`` (decoding) refuses bridges on different base topics; without it (the ACL,
    which moves the profile's topics per bridge) the profile keeps its default topics then."""
    out = {name: dict(values) for name, values in variables.items()}
    alias = out.get("zigbee2mqtt", {}).get("base_topic")
    z2m = [b for b in building.bridges.values() if b.profile == "zigbee2mqtt"]
    if alias is not None:
        log.warning(
            "%s is deprecated: give the base topic on the bridge in the building file "
            "(bridges: - {id: ..., profile: zigbee2mqtt, base_topic: %s})",
            ALIAS,
            alias,
        )
        clash = [b for b in z2m if b.base_topic not in (None, Z2M_BASE, alias)]
        if clash:
            b = clash[0]
            raise ConfigError(
                f"{ALIAS} is {alias!r} but bridge {b.id!r} in {building.source} says "
                f"base_topic {b.base_topic!r}; keep the one on the bridge and drop the setting"
            )
        moved = {b.id: _moved(b, alias) for b in z2m}
        if moved:
            bridges = {**building.bridges, **moved}
            building = replace(building, bridges=bridges, bridge_states={}, bridged={})
            z2m = list(moved.values())
    bases = sorted({b.base_topic for b in z2m if b.base_topic is not None})
    if len(bases) > 1:
        if not one_base:
            return building, out
        named = ", ".join(f"{b.id} ({b.base_topic})" for b in z2m)
        raise ConfigError(
            f"{building.source}: zigbee2mqtt bridges with different base topics ({named}); "
            "the zigbee2mqtt profile reads one base topic, so give them the same one"
        )
    if bases and bases[0] != Z2M_BASE:  # the profile's own default otherwise
        out.setdefault("zigbee2mqtt", {})["base_topic"] = bases[0]
    return building, out


def _moved(bridge: Bridge, base: str) -> Bridge:
    """``bridge`` under ``base`` when it kept zigbee2mqtt's default (its state topic too)."""
    if bridge.base_topic not in (None, Z2M_BASE):
        return bridge
    state = bridge.state_topic
    if state is None or state == f"{Z2M_BASE}/bridge/state":
        state = f"{base}/bridge/state"
    return replace(bridge, base_topic=base, state_topic=state)
