"""A batch: everything a run of messages produced, committed together or not at all."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from gateway.events import Event
from gateway.store.rows import BATCH_MARK

Key = tuple[str, str]  # (site, device)


@dataclass(slots=True)
class DeviceUpdate:
    """What a batch learned about one device: new readings, last seen, availability."""

    profile: str
    space: str | None
    bound: bool
    first_seen: float
    last_seen: float
    online: bool | None = None
    readings: dict[str, Any] = field(default_factory=dict)

    def absorb(self, seen: float, readings: dict[str, Any], online: bool | None) -> None:
        """Take in what a later message (or batch) said about the device."""
        self.last_seen = max(self.last_seen, seen)
        self.readings.update(readings)
        if online is not None:
            self.online = online


@dataclass(slots=True)
class Batch:
    """Everything produced by a run of messages, committed together or not at all."""

    events: list[tuple[Event, float]] = field(default_factory=list)  # (event, received_at)
    dead_letters: list[dict[str, Any]] = field(default_factory=list)
    devices: dict[Key, DeviceUpdate] = field(default_factory=dict)
    fingerprints: list[tuple[int, int]] = field(default_factory=list)  # (mid, digest)
    # its events, dead letters and fingerprints as its writer will send them, made ahead of
    # the commit by ``BatchWriter.seal`` (None: made at the write)
    sealed: bytes | None = None
    # recorded with its rows, so a write retried after it committed is known (never twice)
    id: int = field(default_factory=lambda: secrets.randbits(63))
    written: bool = False  # committed (by this writer or a retry that found its record)
    tries: int = 0  # writes attempted
    # what each message added, for isolating one the store refuses: (message, then the ends
    # of its events, dead letters, fingerprints and device touches in this batch)
    parts: list[tuple[Any, int, int, int, int]] = field(default_factory=list)
    # (device key, profile, space, bound, seen, readings, online) of each message
    touches: list[tuple[Any, ...]] = field(default_factory=list)
    # discovered (unbound) devices evicted to keep their number bounded: their rows go
    evicted: list[Key] = field(default_factory=list)

    @property
    def mark(self) -> tuple[int, int]:
        """Its record among the redelivery fingerprints."""
        return (BATCH_MARK, self.id)

    def __len__(self) -> int:
        return len(self.events) + len(self.dead_letters)

    def touch(self, key: Key, profile: str, space: str | None, bound: bool, seen: float,
              readings: dict[str, Any], online: bool | None) -> None:  # fmt: skip
        """A message told of device ``key``: remember it, and fold it into its update."""
        self.touches.append((key, profile, space, bound, seen, readings, online))
        self._absorb(key, profile, space, bound, seen, readings, online)

    def _absorb(self, key: Key, profile: str, space: str | None, bound: bool, seen: float,
                readings: dict[str, Any], online: bool | None) -> None:  # fmt: skip
        u = self.devices.get(key)
        if u is None:
            u = self.devices[key] = DeviceUpdate(profile, space, bound, seen, seen)
        else:
            u.profile, u.space, u.bound = profile, space, bound
        u.absorb(seen, readings, online)

    def replay_touches(self) -> None:
        """Build the device updates again from the touches (a piece of a batch)."""
        for touch in self.touches:
            self._absorb(*touch)

    def mark_end(self, msg: Any) -> None:
        """``msg``'s rows end here (see ``parts``)."""
        self.parts.append((msg, len(self.events), len(self.dead_letters),
                           len(self.fingerprints), len(self.touches)))  # fmt: skip

    def extend(self, later: Batch) -> None:
        """Add what a later batch produced, as if both had been one batch."""
        e, d, f, t = (len(x) for x in (self.events, self.dead_letters, self.fingerprints,
                                       self.touches))  # fmt: skip
        self.parts += [(m, e + a, d + b, f + c, t + u) for m, a, b, c, u in later.parts]
        self.touches += later.touches
        self.evicted += later.evicted
        self.events += later.events
        self.dead_letters += later.dead_letters
        self.fingerprints += later.fingerprints
        for key, u in later.devices.items():
            mine = self.devices.get(key)
            if mine is None:
                self.devices[key] = u
                continue
            mine.profile, mine.space, mine.bound = u.profile, u.space, u.bound
            mine.absorb(u.last_seen, u.readings, u.online)
