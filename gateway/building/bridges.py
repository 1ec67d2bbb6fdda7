"""Bridges in the building file: which devices reach the broker through one shared client.

A zigbee2mqtt instance, a ChirpStack MQTT integration or a vendor relay connects to the broker
as **one** MQTT client for all its devices; Tasmota, ESPHome, Shelly and the reference devices
connect themselves. The optional ``bridges:`` section names them::

    bridges:
      - {id: zigbee-2f, profile: zigbee2mqtt, base_topic: zigbee2mqtt}   # base_topic optional
      - {id: lora, profile: chirpstack, state_topic: eu868/gateway/0016c001f153a14c/state/conn}
      - {id: hik-relay, profile: hikvision-access}                      # a vendor relay
    devices:
      - {id: 2f_pir, profile: zigbee2mqtt, space: f2-orion, bridge: zigbee-2f}

A device names its bridge with ``bridge:``. A device of a bridged profile (``zigbee2mqtt``,
``chirpstack``) that names none goes through the only bridge of its profile, or, when the file
declares none, through an implicit one whose id is the profile name. ``state_topic`` is where
the bridge says it is online or offline (default ``<base_topic>/bridge/state`` for
zigbee2mqtt, none for the others); its offline takes all its devices offline at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gateway.building.marked import MarkedDict
    from gateway.building.reader import Reader

# profiles whose devices always come through a bridge (one MQTT client for many devices)
BRIDGED_PROFILES: tuple[str, ...] = ("zigbee2mqtt", "chirpstack")
Z2M_BASE = "zigbee2mqtt"  # zigbee2mqtt's default mqtt.base_topic
BRIDGE_KEYS = ("id", "profile", "base_topic", "state_topic")


@dataclass(frozen=True, slots=True)
class Bridge:
    """One bridge: its MQTT username (``id``), its devices' profile and where it says it lives.

    ``base_topic`` is zigbee2mqtt's ``mqtt.base_topic`` (None for other profiles)."""

    id: str
    profile: str
    base_topic: str | None = None
    state_topic: str | None = None
    implicit: bool = False  # not in the file: made for devices of a bridged profile


def parse_bridges(ctx: Reader, root: MarkedDict) -> dict[str, Bridge]:
    """The ``bridges:`` section (empty when absent)."""
    out: dict[str, Bridge] = {}
    for path, m, bid in ctx.entries(root, "bridges", BRIDGE_KEYS, "bridge"):
        profile = ctx.text(m, "profile", path, None)
        if profile is None:
            ctx.missing_or_bad(m, "profile", path, "expected a profile name", None)
        base = _topic(ctx, m, "base_topic", path)
        if base is not None and profile != "zigbee2mqtt":
            ctx.fail(m.lines["base_topic"], f"{path}.base_topic", "only zigbee2mqtt has one")
        if profile == "zigbee2mqtt":
            base = base or Z2M_BASE
        state = _topic(ctx, m, "state_topic", path)
        if state is None and base is not None:
            state = f"{base}/bridge/state"
        out[bid] = Bridge(bid, profile, base, state)
    return out


def _topic(ctx: Reader, m: MarkedDict, key: str, path: str) -> str | None:
    value = m.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip("/ ") or any(c in value for c in "+#"):
        ctx.missing_or_bad(m, key, path, "expected a topic without wildcards", value)
    return value.strip("/")


def bridge_of(
    ctx: Reader, m: MarkedDict, path: str, profile: str, bridges: dict[str, Bridge]
) -> str | None:
    """The bridge a device comes through (adding an implicit one to ``bridges`` if needed)."""
    named: Any = m.get("bridge")
    if named is not None:
        named = ctx.ident(m, "bridge", path)
        bridge = bridges.get(named)
        if bridge is None or bridge.implicit:
            ctx.fail(m.lines["bridge"], f"{path}.bridge", f"expected a bridge id, got {named!r}")
        if bridge.profile != profile:
            ctx.fail(
                m.lines["bridge"],
                f"{path}.bridge",
                f"bridge {named!r} carries profile {bridge.profile!r}, not {profile!r}",
            )
        return str(named)
    if profile not in BRIDGED_PROFILES:
        return None
    mine = [b.id for b in bridges.values() if b.profile == profile and not b.implicit]
    if len(mine) > 1:
        ctx.fail(m.line, path, f"several {profile} bridges ({', '.join(mine)}): name one (bridge:)")
    if mine:
        return mine[0]
    if profile not in bridges:
        base = Z2M_BASE if profile == "zigbee2mqtt" else None
        state = f"{base}/bridge/state" if base else None
        bridges[profile] = Bridge(profile, profile, base, state, implicit=True)
    elif bridges[profile].profile != profile:
        ctx.fail(m.line, path, f"bridge {profile!r} does not carry profile {profile!r}")
    return profile
