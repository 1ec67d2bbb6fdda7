"""Mosquitto ACL and credentials for a building: each device publishes only under its own topics.

The ACL is written from the profiles the building's devices use:

- every profile rule whose topic captures ``{device}`` becomes ``pattern write`` with
  ``%u`` (the device's MQTT username, which must be its device id) in place of ``{device}``,
  and ``+`` for any other capture: a device may publish there, and only for itself;
- every profile command topic with ``{device}`` becomes ``pattern read``: a device may read
  its own commands and door decisions and nobody else's;
- every door (a device whose profile has the ``access_decision`` command) may publish door
  requests on its own request topic (``access.request_topic`` with ``%u`` at the door's
  segment) and read the retained revocation list (``<prefix>/access/revocations``);
- the gateway's user reads every device topic (the profiles' subscriptions) and every door's
  request topic, writes every command topic, and owns its MQTT-out topics (``gateway/#``, the
  site's topic prefix, Home Assistant discovery).

Rules whose topic names no device (a bridge's own state, devices named in the payload) cannot
be scoped per device; they are listed as comments for the operator to grant to that bridge.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from gateway.building import Building
from gateway.errors import ConfigError
from gateway.profiles import ProfileRegistry
from gateway.settings import Settings

_CAPTURE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
# Mosquitto refuses to substitute %u when the username holds these
_BAD_USER = re.compile(r"[/+#\s]")
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


@dataclass(frozen=True, slots=True)
class AclPlan:
    """What the ACL grants: device write and read patterns, the gateway's read and write."""

    device_write: tuple[str, ...]
    device_read: tuple[str, ...]
    gateway_read: tuple[str, ...]
    gateway_write: tuple[str, ...]
    unscoped: tuple[str, ...]  # device topics without {device}: granted to nobody
    doors: tuple[str, ...] = ()  # device ids that read the revocation list
    door_read: tuple[str, ...] = ()  # topics each door reads by name (the revocation list)
    gateway_own: tuple[str, ...] = ()  # topic trees the gateway's user owns (readwrite)


def plan_acl(building: Building, registry: ProfileRegistry, settings: Settings) -> AclPlan:
    """The grants for the profiles that ``building``'s devices use, and for its doors."""
    used = sorted({d.profile for d in building.devices.values()})
    write: dict[str, None] = {}
    read: dict[str, None] = {}
    g_read: dict[str, None] = {}
    g_write: dict[str, None] = {}
    unscoped: dict[str, None] = {}
    for name in used:
        profile = registry.profiles[name]
        for rule in profile.rules:
            g_read.setdefault(rule.topic.filter, None)
            if "device" in rule.topic.captures:
                write.setdefault(acl_topic(rule.topic.pattern), None)
            else:
                unscoped.setdefault(f"{rule.topic.pattern} ({name})", None)
        for cmd in profile.commands.values():
            g_write.setdefault(_CAPTURE.sub("+", cmd.topic), None)
            if "{device}" in cmd.topic:
                read.setdefault(acl_topic(cmd.topic), None)
    prefix = settings.publish.topic_prefix or f"gateway/{building.site.id}"
    own = ["gateway/#", "homeassistant/#"]
    if not prefix.startswith("gateway/"):
        own.insert(1, f"{prefix}/#")
    doors = tuple(
        d
        for d, b in sorted(building.devices.items())
        if DOOR_COMMAND in registry.profiles[b.profile].commands
    )
    door_read: tuple[str, ...] = ()
    if doors:
        request = settings.access.request_topic
        write.setdefault(request_acl_topic(request), None)
        g_read.setdefault(_CAPTURE.sub("+", request), None)
        door_read = (f"{prefix}/access/revocations",)
    return AclPlan(
        tuple(write),
        tuple(read),
        tuple(g_read),
        tuple(g_write),
        tuple(unscoped),
        doors,
        door_read,
        tuple(own),
    )


def render_acl(plan: AclPlan, gateway_user: str = "gateway") -> str:
    """The acl_file text (patterns first: they apply to every authenticated user)."""
    lines = [
        "# Generated by `gateway deploy acl` from the building file and its device profiles.",
        "# A device's MQTT username must be its device id (%u below).",
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
    lines += [
        f"user {gateway_user}",
        *(f"topic read {t}" for t in plan.gateway_read),
        *(f"topic write {t}" for t in plan.gateway_write),
        *(f"topic readwrite {t}" for t in plan.gateway_own or ("gateway/#", "homeassistant/#")),
        "",
    ]
    if plan.doors and plan.door_read:
        lines.append("# Doors read the gateway's retained revocation list for offline credentials.")
    for door in plan.doors if plan.door_read else ():
        lines += [f"user {door}", *(f"topic read {t}" for t in plan.door_read), ""]
    return "\n".join(lines)


def write_credentials(
    building: Building, out_dir: Path, gateway_user: str = "gateway"
) -> dict[str, str]:
    """Random passwords for the gateway and every device; writes ``credentials`` (0600).

    When ``mosquitto_passwd`` is installed, also writes the hashed ``passwd`` file.
    Returns username -> password.
    """
    users = [gateway_user, *sorted(building.devices)]
    bad = [u for u in users if _BAD_USER.search(u)]
    if bad:
        raise ConfigError(f"device ids cannot be MQTT usernames for %u patterns: {', '.join(bad)}")
    creds = {u: secrets.token_urlsafe(18) for u in users}
    out_dir.mkdir(parents=True, exist_ok=True)
    plain = out_dir / "credentials"
    _write_private(plain, "".join(f"{u}:{p}\n" for u, p in creds.items()))
    tool = shutil.which("mosquitto_passwd") or (
        "/usr/bin/mosquitto_passwd" if os.path.exists("/usr/bin/mosquitto_passwd") else None
    )
    if tool is not None:
        hashed = out_dir / "passwd"
        _write_private(hashed, plain.read_text())
        subprocess.run([tool, "-U", str(hashed)], check=True, capture_output=True)
    return creds


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
