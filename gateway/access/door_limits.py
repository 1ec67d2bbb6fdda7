"""Per-door limits on decisions: a token bucket, and a growing lockout after denials in a row.

A door is decided normally while it has a token (``access.door_burst`` at most, refilled at
``access.door_rate_per_s``) and is not locked out. ``access.lockout_after`` denials in a row
lock it out for ``access.lockout_s``; each further lockout before the door is released lasts
twice as long, up to ``access.lockout_max_s``. Past a limit a request is answered ``denied``
(reason ``rate_limited``) whatever its credential, so guessing cards at a door learns nothing
once the limit has tripped.

A door *trips* when it turns limited after deciding normally (its first lockout, or an empty
bucket), and is *released* by its first granted decision once no request has been limited
for ``lockout_s``. The decider hands both to the alerts: one alert and one work order per
trip, however many requests it refuses, cleared at the release.

Only the door connection's network thread calls ``admit`` and ``settle``; the counters are
read under a lock by ``/metrics``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from gateway.settings import AccessSettings

RATE_LIMITED = "rate_limited"  # the reason of a request refused by a limit
MAX_DOUBLINGS = 20  # lockout_s * 2**20 is past any lockout_max_s worth setting


@dataclass(slots=True)
class _Door:
    tokens: float
    refilled: float  # when ``tokens`` was last brought up to date
    denials: int = 0  # denied decisions in a row
    lockouts: int = 0  # lockouts since the door was last released
    locked_until: float = 0.0
    limited_at: float | None = None  # the last limited request of this trip; None: not tripped


@dataclass(frozen=True, slots=True)
class Trip:
    """A door turned limited (``tripped``) or was released; ``reason`` says why."""

    door: str
    tripped: bool
    reason: str
    ts: float


class DoorLimiter:
    """The limits of every door that has asked, keyed by door id (known doors only)."""

    def __init__(self, settings: AccessSettings | None = None) -> None:
        s = settings or AccessSettings()
        self.burst, self.rate = s.door_burst, s.door_rate_per_s
        self.after, self.lockout_s, self.lockout_max = s.lockout_after, s.lockout_s, s.lockout_max_s
        self._doors: dict[str, _Door] = {}
        self._lock = threading.Lock()  # guards the counters only
        self.limited: dict[str, int] = {}  # requests refused by a limit, per door
        self.lockouts: dict[str, int] = {}  # lockouts started, per door

    def admit(self, door: str, now: float) -> tuple[str | None, Trip | None]:
        """Whether ``door`` may have a decision now (taking a token): (None, None) when it
        may, else (the limit, "lockout" or "rate"; the trip when this request tripped it)."""
        d = self._doors.get(door)
        if d is None:
            d = self._doors[door] = _Door(float(self.burst), now)
        if now < d.locked_until:
            return "lockout", self._limited(door, d, now, "")
        if self.rate > 0:
            d.tokens = min(float(self.burst), d.tokens + max(0.0, now - d.refilled) * self.rate)
            d.refilled = now
            if d.tokens < 1:
                why = f"more than {self.burst} requests at once or {self.rate:g} a second"
                return "rate", self._limited(door, d, now, why)
            d.tokens -= 1
        return None, None

    def settle(self, door: str, granted: bool, now: float) -> Trip | None:
        """Count a decision made normally; the trip when it locked the door out, or the
        release when it was the first grant after a quiet ``lockout_s``."""
        d = self._doors[door]
        if granted:
            d.denials = 0
            if d.limited_at is not None and now - d.limited_at >= self.lockout_s:
                d.limited_at, d.lockouts = None, 0
                return Trip(door, False, "a member was granted after the limit", now)
            return None
        d.denials += 1
        if not self.after or d.denials < self.after:
            return None
        span = min(self.lockout_s * 2 ** min(d.lockouts, MAX_DOUBLINGS), self.lockout_max)
        d.denials, d.lockouts, d.locked_until = 0, d.lockouts + 1, now + span
        with self._lock:
            self.lockouts[door] = self.lockouts.get(door, 0) + 1
        tripped = d.limited_at is None
        d.limited_at = now
        why = f"{self.after} denials in a row, locked out for {span:g} s"
        return Trip(door, True, why, now) if tripped else None

    def _limited(self, door: str, d: _Door, now: float, why: str) -> Trip | None:
        with self._lock:
            self.limited[door] = self.limited.get(door, 0) + 1
        tripped = d.limited_at is None
        d.limited_at = now
        return Trip(door, True, why, now) if tripped and why else None

    def counts(self) -> tuple[dict[str, int], dict[str, int]]:
        """Copies of (limited requests, lockouts) per door, for ``/metrics``."""
        with self._lock:
            return dict(self.limited), dict(self.lockouts)
