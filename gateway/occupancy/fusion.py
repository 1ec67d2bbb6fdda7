"""Evidence fusion: what each sensor said, and the state it adds up to for its space."""

from __future__ import annotations

import math
from dataclasses import dataclass

from gateway.events import Event
from gateway.settings import OccupancySettings

OCCUPIED, VACANT, UNKNOWN = "occupied", "vacant", "unknown"
BADGE_HOLD_S = 300.0

#: SensorEvidence fields in snapshot order.
EVIDENCE_FIELDS = (
    "last_seen",
    "online",
    "count",
    "count_ts",
    "presence",
    "presence_ts",
    "motion_ts",
    "motion_seen",
    "granted_ts",
)


@dataclass(slots=True)
class SensorEvidence:
    """What one device has said about its space."""

    device: str
    last_seen: float = -math.inf
    online: bool | None = None  # explicit availability, None when the device never said
    count: int | None = None
    count_ts: float = -math.inf
    presence: bool | None = None
    presence_ts: float = -math.inf
    motion_ts: float = -math.inf  # last time it reported motion
    motion_seen: bool = False
    granted_ts: float = -math.inf  # last badge granted into the space
    stale_s: float = 3600.0  # silence after which a device without availability stops counting


def fold(s: SensorEvidence, ev: Event) -> bool:
    """Fold one event into a sensor's evidence; False when it is older than what we hold."""
    ts = ev.ts
    q = ev.quantity
    if q == "online":
        # a bridge back online gives a device that never said its availability back to
        # silence (gateway.ingest.bridges: attrs own null)
        released = ev.attrs and "bridge" in ev.attrs and ev.attrs.get("own", False) is None
        s.online = None if released else bool(ev.value)
    elif q == "people_count":
        if ts < s.count_ts:
            return False
        s.count, s.count_ts = int(ev.value), ts
    elif q in ("presence", "occupied"):
        if ts < s.presence_ts:
            return False
        s.presence, s.presence_ts = bool(ev.value), ts
    elif q == "motion":
        s.motion_seen = True
        if ev.value and ts > s.motion_ts:
            s.motion_ts = ts
    elif q == "door" and ev.value == "granted" and ts > s.granted_ts:
        s.granted_ts = ts
    if ts > s.last_seen:
        s.last_seen = ts
        if q != "online" and s.online is False:
            s.online = True  # a device that speaks is online again
    return True


#: What :func:`fuse` says: state, occupancy, the next instant that answer can change.
Fused = tuple[str, int | None, float]


def fuse(sensors: list[SensorEvidence], now: float, st: OccupancySettings) -> Fused:
    """State, occupancy and the next instant the answer can change without a new event."""
    count: int | None = None  # the highest count of a reporting counter
    presence: bool | None = None
    motion_last = -math.inf
    has_motion = False
    badge_last = -math.inf
    next_due = math.inf
    for s in sensors:
        if s.granted_ts > badge_last:
            badge_last = s.granted_ts
        online = s.online
        if online is None:
            seen = s.last_seen
            stale = s.stale_s
            if now - seen >= stale:
                continue
            if seen + stale < next_due:
                next_due = seen + stale
        elif not online:
            continue
        c = s.count
        if c is not None and (count is None or c > count):
            count = c
        if s.presence is not None:
            presence = presence or s.presence
        if s.motion_seen:
            has_motion = True
            if s.motion_ts > motion_last:
                motion_last = s.motion_ts

    occupancy: int | None = None
    if count is not None:
        occupancy = count
        state = OCCUPIED if occupancy > 0 else VACANT
    elif presence is not None:
        state = OCCUPIED if presence else VACANT
    elif has_motion:
        expiry = motion_last + st.motion_timeout_s
        state = OCCUPIED if now < expiry else VACANT
        if now < expiry:
            next_due = min(next_due, expiry)
    else:
        state = UNKNOWN
    if state != OCCUPIED and count is None and presence is None and now < badge_last + BADGE_HOLD_S:
        state = OCCUPIED
        next_due = min(next_due, badge_last + BADGE_HOLD_S)
    return state, occupancy, next_due
