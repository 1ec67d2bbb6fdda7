"""What the worker keeps in memory: each device's live view, and the ingest counters."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class DeviceLive:
    """A device's live view: binding, availability, last seen and latest readings."""

    id: str
    profile: str
    space: str | None
    bound: bool
    online: bool | None = None
    first_seen: float | None = None
    last_seen: float | None = None
    readings: dict[str, dict[str, Any]] = field(default_factory=dict)

    def is_online(self, now: float, stale_s: float) -> bool:
        """Its own availability when it has one, else heard from within ``stale_s``."""
        if self.online is not None:
            return self.online
        return self.last_seen is not None and now - self.last_seen <= stale_s


@dataclass(slots=True)
class IngestStats:
    """Counters since start."""

    received: int = 0
    committed: int = 0
    ignored: int = 0
    dead_lettered: int = 0
    clock_corrected: int = 0
    store_errors: int = 0
    last_store_error: str | None = None
    redelivered: int = 0  # DUPs of committed messages: acknowledged again, not stored again
    stale_dropped: int = 0  # from a lost connection, left for the broker to resend
    oversized: int = 0  # dead-lettered unparsed
    rate_limited: int = 0  # over a topic's rate: first of a flood dead-lettered, rest counted
    store_refused: int = 0  # messages whose rows the store refused: dead-lettered instead
    dead_letters_dropped: int = 0  # over the global dead-letter rate: counted, not stored
    unknown_evicted: int = 0  # discovered devices evicted, the oldest seen, over the cap
    bridge_states_refused: int = 0  # bridge state payloads that say neither online nor offline
