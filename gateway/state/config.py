"""The running configuration as one immutable snapshot, swapped whole by a reload.

Ingest reads :meth:`Current.get` once per batch, so a batch is decoded with one building and
one set of profiles from its first message to its last; a reload builds the next snapshot
aside and swaps the one reference between two batches.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from gateway.building import Building
from gateway.errors import ConfigError
from gateway.profiles import ProfileRegistry


def silence_timeouts(building: Building, registry: ProfileRegistry) -> dict[str, float]:
    """Per bound device, the silence its profile's availability allows before offline."""
    out: dict[str, float] = {}
    for d in building.devices.values():
        t = registry.silence_timeout(d.profile, d.model)
        if t is not None:
            out[d.id] = t
    return out


@dataclass(frozen=True)
class Snapshot:
    """The building, the profiles and what follows from them, valid together."""

    building: Building
    registry: ProfileRegistry
    #: a device's allowed silence, where its profile says (else ``default_silence_s``)
    silence_s: Mapping[str, float] = field(default_factory=dict)
    default_silence_s: float = 0.0

    @classmethod
    def of(
        cls, building: Building, registry: ProfileRegistry, default_silence_s: float
    ) -> Snapshot:
        timeouts = MappingProxyType(silence_timeouts(building, registry))
        return cls(building, registry, timeouts, default_silence_s)

    def silence_of(self, device_id: str) -> float:
        """How long ``device_id`` may stay silent before it counts as offline."""
        return self.silence_s.get(device_id, self.default_silence_s)


class Current:
    """The one reference to the configuration in force; readers never see half a reload."""

    def __init__(self, snapshot: Snapshot) -> None:
        self._snapshot = snapshot
        self._swap = threading.Lock()

    def get(self) -> Snapshot:
        return self._snapshot

    def swap(self, snapshot: Snapshot) -> Snapshot:
        """Put ``snapshot`` in force; the one it replaced."""
        with self._swap:
            old, self._snapshot = self._snapshot, snapshot
        return old


def require_profiles(building: Building, registry: ProfileRegistry, where: str) -> None:
    """Refuse a building whose devices name profiles ``registry`` does not hold."""
    missing = sorted({d.profile for d in building.devices.values()} - set(registry.names))
    if missing:
        raise ConfigError(f"{where}: devices name profiles that do not exist: {', '.join(missing)}")
