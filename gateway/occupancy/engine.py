"""Live space state from fused evidence: people counter > presence > motion with timeout > badge.

Policy:
- A sensor counts while it is *reporting*: its availability says online, or it has no
  availability and was heard within ``sensor_stale_s``. A space none of whose occupancy
  sensors is reporting is ``unknown`` -- an offline sensor never makes a space look idle.
- An event older than the newest one already applied for the same device and quantity is
  stored but does not move the live state (late messages cannot rewind it).
- Work is driven by a deadline heap: an event recomputes only its own space, and a tick
  only visits spaces whose motion timeout, badge hold, staleness or idle threshold falls due.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field

from gateway.building import Building
from gateway.events import Event
from gateway.settings import OccupancySettings

OCCUPIED, VACANT, UNKNOWN = "occupied", "vacant", "unknown"
BADGE_HOLD_S = 300.0


@dataclass(slots=True)
class SensorEvidence:
    """What one device has said about its space."""

    last_seen: float = -math.inf
    online: bool | None = None  # explicit availability, None when the device never said
    count: int | None = None
    count_ts: float = -math.inf
    presence: bool | None = None
    presence_ts: float = -math.inf
    motion_ts: float = -math.inf  # last time it reported motion
    motion_seen: bool = False
    granted_ts: float = -math.inf  # last badge granted into the space


@dataclass(slots=True)
class SpaceLive:
    """A space's live state and the evidence behind it."""

    id: str
    state: str = UNKNOWN
    occupancy: int | None = None
    since: float = 0.0
    sensors: dict[str, SensorEvidence] = field(default_factory=dict)
    scheduled: float = math.inf


@dataclass(frozen=True, slots=True)
class SpaceView:
    """A space's state as the API shows it."""

    id: str
    state: str
    occupancy: int | None
    since: float
    idle: bool


class OccupancyEngine:
    """Keeps every space's state; ``apply`` per event, ``tick`` as time passes."""

    def __init__(self, building: Building, settings: OccupancySettings, now: float) -> None:
        self.building = building
        self.settings = settings
        self.spaces: dict[str, SpaceLive] = {
            sid: SpaceLive(id=sid, since=now) for sid in building.spaces
        }
        self._heap: list[tuple[float, str]] = []
        self.changes = 0

    # -- evidence ---------------------------------------------------------------------------
    def apply(self, ev: Event, now: float) -> bool:
        """Fold one event into its space's evidence; True when the space's state changed."""
        if ev.space is None:
            return False
        space = self.spaces.get(ev.space)
        if space is None:
            return False
        s = space.sensors.get(ev.device)
        if s is None:
            s = space.sensors[ev.device] = SensorEvidence()
        ts = ev.ts
        q = ev.quantity
        if q == "online":
            s.online = bool(ev.value)
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
        return self._recompute(space, now)

    def tick(self, now: float) -> list[str]:
        """Recompute the spaces whose deadlines fell due; the ids whose state changed."""
        changed: list[str] = []
        heap = self._heap
        while heap and heap[0][0] <= now:
            due, sid = heapq.heappop(heap)
            space = self.spaces[sid]
            if due != space.scheduled:
                continue  # superseded by an earlier deadline
            space.scheduled = math.inf
            if self._recompute(space, now):
                changed.append(sid)
        return changed

    # -- state ------------------------------------------------------------------------------
    def _reporting(self, s: SensorEvidence, now: float) -> bool:
        if s.online is not None:
            return s.online
        return now - s.last_seen < self.settings.sensor_stale_s

    def _recompute(self, space: SpaceLive, now: float) -> bool:
        st = self.settings
        counts: list[int] = []
        presence: bool | None = None
        motion_last = -math.inf
        has_motion = False
        badge_last = -math.inf
        next_due = math.inf
        for s in space.sensors.values():
            if s.granted_ts > badge_last:
                badge_last = s.granted_ts
            if not self._reporting(s, now):
                continue
            if s.online is None:
                next_due = min(next_due, s.last_seen + st.sensor_stale_s)
            if s.count is not None:
                counts.append(s.count)
            if s.presence is not None:
                presence = presence or s.presence
            if s.motion_seen:
                has_motion = True
                motion_last = max(motion_last, s.motion_ts)

        occupancy: int | None = None
        if counts:
            occupancy = max(counts)
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
        if (
            state != OCCUPIED
            and now < badge_last + BADGE_HOLD_S
            and not counts
            and presence is None
        ):
            state = OCCUPIED
            next_due = min(next_due, badge_last + BADGE_HOLD_S)

        changed = state != space.state or occupancy != space.occupancy
        if state != space.state:
            space.since = now
            self.changes += 1
        space.state, space.occupancy = state, occupancy
        if state == VACANT and space.since + st.idle_after_s > now:
            next_due = min(next_due, space.since + st.idle_after_s)
        self._schedule(space, next_due, now)
        return changed

    def _schedule(self, space: SpaceLive, due: float, now: float) -> None:
        # A deadline at or before ``now`` is already reflected in the state just computed.
        if due <= now or due >= space.scheduled:
            return
        space.scheduled = due
        heapq.heappush(self._heap, (due, space.id))

    # -- reading ----------------------------------------------------------------------------
    def view(self, space_id: str, now: float) -> SpaceView:
        """The API's view of one space (raises KeyError for an unknown id)."""
        sp = self.spaces[space_id]
        idle = (
            sp.state == VACANT
            and now - sp.since >= self.settings.idle_after_s
            and self.building.site.business_hours.is_open(now)
        )
        return SpaceView(sp.id, sp.state, sp.occupancy, sp.since, idle)
