"""Mosquitto ACL for a building: each device and each bridge publishes only its own topics.

The ACL is written from the profiles the building's devices use. Devices that connect
themselves (Tasmota, ESPHome, Shelly, the reference devices) get patterns:

- every profile rule whose topic captures ``{device}`` becomes ``pattern write`` with
  ``%u`` (the device's MQTT username, which must be its device id) in place of ``{device}``,
  and ``+`` for any other capture: a device may publish there, and only for itself;
- every profile command topic with ``{device}`` becomes ``pattern read``: a device may read
  its own commands and door decisions and nobody else's;
- every door (a device whose profile has the ``access_decision`` command) has its own
  ``user`` section: it may publish door requests on its own request topic only
  (``access.request_topic`` with the door's id at the door segment, one ``topic write`` line
  per door, never a pattern: a pattern would let every device user ask for door decisions)
  and read the retained revocation list (``<prefix>/access/revocations``);
- a bridge (zigbee2mqtt, ChirpStack, a vendor relay: ``bridges:`` in the building file) is one
  user allowed to publish its own devices' topics, read their commands and own its
  ``bridge/#`` topics (``gateway.deploy.bridge_grants``);
- the gateway's user reads every device topic (the profiles' subscriptions), every bridge's
  state and every door's request topic, writes every command topic, and owns its MQTT-out
  topics (the site's topic prefix and its own Home Assistant discovery configs);
- Home Assistant's user reads discovery (``<discovery_prefix>/#``) and the gateway's state,
  and writes its birth message on ``<discovery_prefix>/status``.

Rules whose topic names no device (devices named in the payload) cannot be scoped per device;
they are listed as comments for the operator to grant by hand.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from gateway.building import Building
from gateway.deploy.bridge_grants import BridgeGrant, grant
from gateway.errors import ConfigError
from gateway.profiles import ProfileRegistry
from gateway.publish.topics import Topics
from gateway.settings import Settings

_CAPTURE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)#?\}")  # {name#} spans levels
# Mosquitto refuses to substitute %u when the username holds these
_BAD_USER = re.compile(r"[/+#\s\x00-\x1f\x7f]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")  # would end an ACL line early
DOOR_COMMAND = "access_decision"  # a profile with this command answers door requests


def acl_topic(pattern: str) -> str:
    """A profile topic pattern as an ACL pattern: ``{device}`` -> ``%u``, other captures -> +."""
    return _CAPTURE.sub(lambda m: "%u" if m.group(1) == "device" else "+", pattern)


def request_acl_topic(request_topic: str) -> str:
    """The door request topic as a door's own ACL pattern: its door segment becomes ``%u``.

    The door id is the segment at the last ``+`` (as the access service reads it), or a
    ``{device}`` capture."""
    if "{device}" in request_topic:
        return acl_topic(request_topic)
    parts = request_topic.split("/")
    if "+" not in parts:
        raise ConfigError(f"access.request_topic has no door segment (+): {request_topic}")
    last = len(parts) - 1 - parts[::-1].index("+")
    parts[last] = "%u"
    return "/".join(parts)


def door_request_topic(request_topic: str, door: str) -> str:
    """The request topic of one door: ``door`` at the door segment, any other ``+`` kept."""
    return "/".join(p.replace("%u", door) for p in request_acl_topic(request_topic).split("/"))


@dataclass(frozen=True, slots=True)
class AclPlan:
    """What the ACL grants: device write and read patterns, bridges, the gateway, HA."""

    device_write: tuple[str, ...]
    device_read: tuple[str, ...]
    gateway_read: tuple[str, ...]
    gateway_write: tuple[str, ...]
    unscoped: tuple[str, ...]  # device topics without {device}: granted to nobody
    doors: tuple[str, ...] = ()  # device ids that read the revocation list
    door_read: tuple[str, ...] = ()  # topics each door reads by name (the revocation list)
    door_write: tuple[str, ...] = ()  # each door's own request topic, in the order of doors
    gateway_own: tuple[str, ...] = ()  # topic trees the gateway's user owns (readwrite)
    bridges: tuple[BridgeGrant, ...] = ()
    ha_read: tuple[str, ...] = ()  # Home Assistant's user (none when discovery is off)
    ha_write: tuple[str, ...] = ()
    users: tuple[str, ...] = field(default=())  # every MQTT user but the gateway's and HA's


def plan_acl(building: Building, registry: ProfileRegistry, settings: Settings) -> AclPlan:
    """The grants for the profiles that ``building``'s devices use, its bridges and doors."""
    _check_ids(building)
    selfs = sorted({d.profile for d in building.devices.values() if d.bridge is None})
    write: dict[str, None] = {}
    read: dict[str, None] = {}
    g_read: dict[str, None] = {}
    g_write: dict[str, None] = {}
    unscoped: dict[str, None] = {}
    for name in sorted({d.profile for d in building.devices.values()}):
        profile = registry.profiles[name]
        for rule in profile.rules:
            g_read.setdefault(rule.topic.filter, None)
            if name not in selfs:
                continue
            if "device" in rule.topic.captures:
                write.setdefault(acl_topic(rule.topic.pattern), None)
            else:
                unscoped.setdefault(f"{rule.topic.pattern} ({name})", None)
        for cmd in profile.commands.values():
            g_write.setdefault(_CAPTURE.sub("+", cmd.topic), None)
            if "{device}" in cmd.topic and name in selfs:
                read.setdefault(acl_topic(cmd.topic), None)
    grants = tuple(grant(b, building, registry) for _, b in sorted(building.bridges.items()))
    for g in grants:
        g_read.update(dict.fromkeys(g.gateway_read))
        g_write.update(dict.fromkeys(g.gateway_write))
    pub = settings.publish
    topics = Topics.for_site(building.site.id, pub.topic_prefix, pub.discovery_prefix)
    prefix = topics.prefix
    own = [f"{prefix}/#"]
    ha_read: tuple[str, ...] = ()
    ha_write: tuple[str, ...] = ()
    if pub.enabled and pub.discovery:
        own.append(f"{topics.discovery_prefix}/+/{topics.node_id}/#")
        g_read.setdefault(topics.ha_status, None)
        ha_read = (f"{topics.discovery_prefix}/#", f"{prefix}/#")
        ha_write = (topics.ha_status,)
    doors, door_read, door_write = _doors(building, registry, settings, prefix, g_read)
    users = (*(g.user for g in grants), *self_connecting(building))
    return AclPlan(
        tuple(write),
        tuple(read),
        tuple(g_read),
        tuple(g_write),
        tuple(unscoped),
        doors,
        door_read,
        door_write,
        tuple(own),
        grants,
        ha_read,
        ha_write,
        users,
    )


def _doors(
    building: Building,
    registry: ProfileRegistry,
    settings: Settings,
    prefix: str,
    g_read: dict[str, None],
) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """The doors that connect themselves, what they read and the request topic each writes;
    the gateway reads the requests (added to ``g_read``)."""
    doors = tuple(
        d
        for d, b in sorted(building.devices.items())
        if DOOR_COMMAND in registry.profiles[b.profile].commands and b.bridge is None
    )
    if not doors:
        return (), (), ()
    request = settings.access.request_topic
    g_read.setdefault(_CAPTURE.sub("+", request), None)
    door_write = tuple(door_request_topic(request, d) for d in doors)
    return doors, (f"{prefix}/access/revocations",), door_write


def self_connecting(building: Building) -> list[str]:
    """The devices that connect to the broker themselves (one MQTT user each)."""
    return sorted(d for d, b in building.devices.items() if b.bridge is None)


def _check_ids(building: Building) -> None:
    bad = [d for d in building.devices if _CONTROL.search(d)]
    if bad:
        raise ConfigError(f"device ids hold control characters: {', '.join(map(repr, bad))}")
    taken = set(self_connecting(building)) & set(building.bridges)
    if taken:
        raise ConfigError(f"ids used by a bridge and a device: {', '.join(sorted(taken))}")


def check_users(plan: AclPlan, gateway_user: str, ha_user: str | None) -> list[str]:
    """Every MQTT username of the plan, gateway's first; raises ConfigError when one cannot
    be a username or two would be the same user (a device named like the gateway's user
    would get the gateway's rights)."""
    users = [gateway_user, *([ha_user] if ha_user and plan.ha_read else []), *plan.users]
    bad = [u for u in users if _BAD_USER.search(u)]
    if bad:
        raise ConfigError(f"ids that cannot be MQTT usernames for %u patterns: {', '.join(bad)}")
    clash = sorted(u for u, n in Counter(users).items() if n > 1)
    if clash:
        raise ConfigError(
            f"a device or bridge id is also the MQTT user of the gateway or Home Assistant "
            f"(or another id): {', '.join(clash)}; rename it or pass another --gateway-user"
        )
    return users


def render_acl(plan: AclPlan, gateway_user: str = "gateway", ha_user: str = "homeassistant") -> str:
    """The acl_file text (patterns first: they apply to every authenticated user)."""
    lines = [
        "# Generated by `gateway deploy acl` from the building file and its device profiles.",
        "# A device that connects itself uses its device id as MQTT username (%u below);",
        "# a bridge uses its bridge id.",
        "",
        "# Devices: publish only under their own topics ...",
        *(f"pattern write {t}" for t in plan.device_write),
        "# ... and read only their own commands and door decisions.",
        *(f"pattern read {t}" for t in plan.device_read),
        "",
    ]
    if plan.unscoped:
        lines += [
            "# Device topics that name no device; grant them to the bridge's user by hand:",
            *(f"#   {t}" for t in plan.unscoped),
            "",
        ]
    for g in plan.bridges:
        lines += [
            f"# Bridge {g.user}: its own devices' topics and commands, and its own topics.",
            f"user {g.user}",
            *(f"topic write {t}" for t in g.write),
            *(f"topic read {t}" for t in g.read),
            *(f"topic readwrite {t}" for t in g.readwrite),
            "",
        ]
    lines += [
        f"user {gateway_user}",
        *(f"topic read {t}" for t in plan.gateway_read),
        *(f"topic write {t}" for t in plan.gateway_write),
        *(f"topic readwrite {t}" for t in plan.gateway_own),
        "",
    ]
    if plan.ha_read:
        lines += [
            "# Home Assistant: reads discovery and the gateway's state, announces itself.",
            f"user {ha_user}",
            *(f"topic read {t}" for t in plan.ha_read),
            *(f"topic write {t}" for t in plan.ha_write),
            "",
        ]
    if plan.doors:
        lines += [
            "# Doors: each asks for decisions on its own request topic only, and reads the",
            "# gateway's retained revocation list for offline credentials.",
        ]
    for door, request in zip(plan.doors, plan.door_write, strict=True):
        lines += [
            f"user {door}",
            f"topic write {request}",
            *(f"topic read {t}" for t in plan.door_read),
            "",
        ]
    return "\n".join(lines)
