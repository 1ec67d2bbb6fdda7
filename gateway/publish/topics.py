"""Topic names of MQTT out: the gateway's own prefix, space state and commands, discovery."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

_NOT_ID = re.compile(r"[^a-zA-Z0-9_-]")
_NOT_SEGMENT = re.compile(r"[/+#\x00]")


def _with_hash(original: str, cleaned: str) -> str:
    # Two different ids must never clean to the same name: a changed id gets a short hash.
    if cleaned == original:
        return cleaned
    return f"{cleaned}_{hashlib.sha1(original.encode()).hexdigest()[:6]}"


def ha_id(text: str) -> str:
    """A Home Assistant node or object id (``[a-zA-Z0-9_-]``) for any text, stable and unique."""
    return _with_hash(text, _NOT_ID.sub("_", text))


def segment(text: str) -> str:
    """One topic level for an id: no ``/``, ``+``, ``#``; stable and unique."""
    return _with_hash(text, _NOT_SEGMENT.sub("_", text) or "_")


@dataclass(frozen=True, slots=True)
class Topics:
    """Every topic MQTT out uses, from the gateway prefix and the discovery prefix."""

    prefix: str  # for example gateway/<site id>
    discovery_prefix: str  # for example homeassistant
    node_id: str  # Home Assistant node id of this gateway

    @classmethod
    def for_site(cls, site_id: str, prefix: str | None, discovery_prefix: str) -> Topics:
        """Topics for a site; the prefix defaults to ``gateway/<site id>``."""
        return cls(
            (prefix or f"gateway/{segment(site_id)}").rstrip("/"),
            discovery_prefix.rstrip("/"),
            ha_id(f"gateway_{site_id}"),
        )

    @property
    def status(self) -> str:
        """Retained ``online``/``offline`` of the gateway (``offline`` is the last will)."""
        return f"{self.prefix}/status"

    @property
    def ha_status(self) -> str:
        """Home Assistant's birth/will topic: ``online`` means discovery is wanted again."""
        return f"{self.discovery_prefix}/status"

    def state(self, space_id: str) -> str:
        """Retained JSON state of one space."""
        return f"{self.prefix}/space/{segment(space_id)}/state"

    def command(self, space_id: str) -> str:
        """Neutral commands (setback, restore) addressed to one space's building controls."""
        return f"{self.prefix}/space/{segment(space_id)}/command"

    def discovery(self, component: str, object_id: str) -> str:
        """Home Assistant discovery config topic of one entity."""
        return f"{self.discovery_prefix}/{component}/{self.node_id}/{ha_id(object_id)}/config"
