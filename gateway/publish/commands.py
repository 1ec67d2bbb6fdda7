"""Setback commands: tell the building a space turned idle, and restore it when occupied again.

The way out to devices is a ``CommandSink``: ``send(device_id, command_name, params)``. The
profile commands (named commands with topic and payload templates per vendor) implement it for
real devices; until a space's devices declare such commands, ``MqttCommandSink`` publishes a
neutral, documented JSON command that any building controller can subscribe to::

    topic   <prefix>/space/<space id>/command          (QoS 1, not retained)
    payload {"command": "setback" | "restore", "space": "<space id>",
             "reason": "idle" | "occupied", "ts": "<ISO 8601 UTC>"}

``SetbackPolicy`` decides when: ``setback`` when a space turns idle, ``restore`` when it is
occupied again. Its memory is in-process: after a restart the first occupancy of each space
sends a ``restore`` (harmless when nothing was set back), so no space stays set back.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from gateway.logtext import clean
from gateway.publish.topics import Topics

log = logging.getLogger(__name__)

SETBACK, RESTORE = "setback", "restore"


class CommandSink(Protocol):
    """Asks a device (or a space's building controls) to act, without knowing its vendor."""

    def send(self, device_id: str, command_name: str, params: Mapping[str, Any]) -> None:
        """Queue one command; must not block on the network."""


class MqttCommandSink:
    """The neutral command: ``device_id`` is the space id, published on its command topic."""

    def __init__(self, topics: Topics, publish: Callable[[str, str, bool], None]) -> None:
        self.topics = topics
        self._publish = publish
        self.sent = 0

    def send(self, device_id: str, command_name: str, params: Mapping[str, Any]) -> None:
        payload = json.dumps({"command": command_name, **params}, separators=(",", ":"))
        self._publish(self.topics.command(device_id), payload, False)
        self.sent += 1


class SetbackPolicy:
    """Sends ``setback`` when a space turns idle and ``restore`` when it is occupied again."""

    def __init__(
        self,
        sink: CommandSink,
        targets: Callable[[str], Sequence[str]] | None = None,
    ) -> None:
        self.sink = sink
        # Who receives a space's commands: the space itself for the neutral sink; the space's
        # devices that declare the command once profiles carry commands.
        self.targets = targets or (lambda space_id: (space_id,))
        self._set_back: dict[str, bool] = {}  # absent: unknown since start

    def observe(
        self, space_id: str, prev: Mapping[str, Any] | None, new: Mapping[str, Any], ts: str
    ) -> str | None:
        """Compare a space's previous and new state payloads; the command sent, if any."""
        was_idle = bool(prev and prev.get("idle"))
        was_occupied = bool(prev and prev.get("state") == "occupied")
        if new.get("idle") and not was_idle:
            command, reason = SETBACK, "idle"
            self._set_back[space_id] = True
        elif new.get("state") == "occupied" and not was_occupied:
            if self._set_back.get(space_id) is False:
                return None  # never set back since we last restored it
            command, reason = RESTORE, "occupied"
            self._set_back[space_id] = False
        else:
            return None
        params = {"space": space_id, "reason": reason, "ts": ts}
        for target in self.targets(space_id):
            try:
                self.sink.send(target, command, params)
            except Exception:  # a failing sink must never break state publishing
                log.exception(
                    "command %s for space %s to %s failed", command, clean(space_id), clean(target)
                )
        return command
