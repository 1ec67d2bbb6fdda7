"""Live space state, utilization bins, idle episodes and ghost bookings, updated as things change.

Policy:
- Evidence, strongest first: people counter > presence > PIR motion (occupied until
  ``motion_timeout_s`` after the last motion) > a granted badge (held ``BADGE_HOLD_S``).
- A sensor counts while it is *reporting*: its availability says online, or it has no
  availability and was heard within ``sensor_stale_s``. A space none of whose occupancy
  sensors is reporting is ``unknown`` -- an offline sensor never makes a space look idle.
- Late and out-of-order events: evidence is ordered by device time per device and quantity;
  an event older than the newest one already applied for the same device and quantity is
  stored but does not move the live state. A late event that is still the newest takes
  effect *now*: the live state, and so the utilization, is never rewritten backwards. Motion
  and badge holds run from the event's own time, so a motion report arriving after its
  timeout has passed leaves the space vacant. (Device clocks far off are replaced by the
  receive time in ``gateway.ingest.pipeline`` before events get here.)
- Utilization is accounted on the gateway's clock: each space's current state runs from
  ``seg_start``; when it changes (or a bin closes) the stretch is split over fixed bins and
  the site's business hours and added to the space's open bin. Closed bins fold into the
  space's local-day totals. Rows carry absolute totals under their key (space, bin / day),
  so they are upserted, never added twice.
- Work is driven by deadlines queued per whole second: an event recomputes only its own
  space; a tick visits only spaces whose motion timeout, badge hold, staleness, idle
  threshold, closing time or booking grace falls due (a space whose deadline newer evidence
  moved later is requeued without a recompute). At a bin boundary the spaces with a known
  state (or an open bin) are settled once -- the one place where work scales with the
  spaces that hold data.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from gateway.building import Building
from gateway.events import Event
from gateway.occupancy.accumulate import Acc, EngineOutput, Finding, IdleEpisode
from gateway.occupancy.bookings import Booking, BookingWindow, NoShowStats
from gateway.occupancy.calendar import Calendar
from gateway.occupancy.fusion import OCCUPIED, UNKNOWN, VACANT, SensorEvidence, fold, fuse
from gateway.settings import OccupancySettings


@dataclass(slots=True)
class SpaceLive:
    """A space's live state, the evidence behind it and its open accumulators."""

    id: str
    state: str = UNKNOWN
    occupancy: int | None = None
    since: float = 0.0
    sensors: list[SensorEvidence] = field(default_factory=list)  # one or a few: a list is lean
    scheduled: float = math.inf  # the earliest deadline queued for it
    due: float = math.inf  # the next instant its state can change without a new event
    seg_start: float = 0.0  # utilization of the current state is accounted up to here
    bin: Acc | None = None
    idle_start: float | None = None  # the open idle episode, if any
    idle_until: float = math.inf  # the business interval it lies in ends here
    idle_opened: float = 0.0
    bookings: list[Booking] | None = None


@dataclass(frozen=True, slots=True)
class SpaceView:
    """A space's state as the API shows it."""

    id: str
    state: str
    occupancy: int | None
    since: float
    idle: bool
    idle_since: float | None = None


class OccupancyEngine:
    """Keeps every space's state; ``apply`` per event, ``tick`` as time passes, ``drain``."""

    def __init__(
        self,
        building: Building,
        settings: OccupancySettings,
        now: float,
        *,
        grace_s: float = 600.0,
        silence_s: Mapping[str, float] | None = None,
    ) -> None:
        self.building = building
        self.settings = settings
        self.grace_s = grace_s
        # per device: how long it may stay silent (its profile's availability), else the default
        self.silence_s: Mapping[str, float] = silence_s or {}
        self.bin_s = int(settings.bin_s)
        self.cal = Calendar(building.site.business_hours, self.bin_s)
        self.spaces: dict[str, SpaceLive] = {
            sid: SpaceLive(id=sid, since=now, seg_start=now) for sid in building.spaces
        }
        # deadlines bucketed by whole second: a tick pops only the seconds that passed (a
        # small heap of ints) and visits the spaces queued under them; a space's entry is
        # live while its ``scheduled`` still falls in that second
        self._buckets: dict[int, list[SpaceLive]] = {}
        self._keys: list[int] = []
        self._queued = 0
        self._known: set[str] = set()  # state is occupied or vacant
        self._pending: set[str] = set()  # an open bin holds data
        self._cur_bin = int(now // self.bin_s)
        self.out = EngineOutput()
        self.no_show = NoShowStats()
        self.changes = 0
        self.due_recomputes = 0  # spaces a tick recomputed because a deadline fell due

    # -- evidence ---------------------------------------------------------------------------
    def new_evidence(self, device: str) -> SensorEvidence:
        """Empty evidence for ``device``, with its own silence timeout."""
        return SensorEvidence(
            device, stale_s=self.silence_s.get(device, self.settings.sensor_stale_s)
        )

    def apply(self, ev: Event, now: float) -> bool:
        """Fold one event into its space's evidence; True when the space's state changed."""
        if ev.space is None:
            return False
        space = self.spaces.get(ev.space)
        if space is None:
            return False
        for s in space.sensors:
            if s.device == ev.device:
                break
        else:
            s = self.new_evidence(ev.device)
            space.sensors.append(s)
        if not fold(s, ev):
            return False
        return self._recompute(space, now)

    def set_bookings(self, space_id: str, windows: Iterable[BookingWindow], now: float) -> None:
        """Replace the booking windows the engine watches for one space (KeyError if unknown)."""
        space = self.spaces[space_id]
        old = {b.id: b for b in space.bookings or ()}
        fresh = []
        for bid, start, end, req in windows:
            b = old.get(bid)
            if b is None or (b.start, b.end, b.requires_checkin) != (start, end, req):
                b = Booking(bid, start, end, req)
            fresh.append(b)
        space.bookings = sorted(fresh, key=lambda b: b.start)
        self._recompute(space, now)

    def tick(self, now: float) -> list[str]:
        """Recompute the spaces whose deadlines fell due, close bins; ids whose state changed."""
        changed: list[str] = []
        keys, buckets = self._keys, self._buckets
        heappush, inf = heapq.heappush, math.inf
        while keys and keys[0] <= now:
            k = heapq.heappop(keys)
            queued = buckets.pop(k)
            self._queued -= len(queued)
            k1 = k + 1
            later: list[SpaceLive] = []
            for space in queued:
                due = space.scheduled
                if not k <= due < k1:
                    continue  # superseded: the space's deadline moved to another second
                if due > now:
                    later.append(space)  # this second, but not yet
                    continue
                due = space.due
                if due > now:
                    # newer evidence moved its deadline later: nothing can change before it
                    space.scheduled = due
                    nk = int(due)
                    q = buckets.get(nk)
                    if q is None:
                        buckets[nk] = [space]
                        heappush(keys, nk)
                    else:
                        q.append(space)
                    self._queued += 1
                    continue
                space.scheduled = inf
                self.due_recomputes += 1
                if self._recompute(space, now):
                    changed.append(space.id)
            if later:
                # only the second holding ``now`` can keep entries: no later key is due
                self._requeue(k, later)
                break
        self.close_bins(now)
        return changed

    def deadlines(self) -> list[tuple[float, str]]:
        """The live (deadline, space id) pairs waiting for a tick."""
        return [
            (sp.scheduled, sp.id)
            for k, queued in self._buckets.items()
            for sp in queued
            if k <= sp.scheduled < k + 1
        ]

    def drain(self) -> EngineOutput:
        """Everything produced since the last drain (closed bins are never touched again)."""
        out, self.out = self.out, EngineOutput()
        return out

    # -- state ------------------------------------------------------------------------------
    def _recompute(self, space: SpaceLive, now: float) -> bool:
        state, occupancy, next_due = fuse(space.sensors, now, self.settings)
        changed = state != space.state or occupancy != space.occupancy
        if changed:
            self._settle(space, now)
            if state != space.state:
                space.since = now
                self.changes += 1
                if state == UNKNOWN:
                    self._known.discard(space.id)
                else:
                    self._known.add(space.id)
            space.state, space.occupancy = state, occupancy
        if state == VACANT or space.idle_start is not None:
            due = self._idle(space, now)
            if due < next_due:
                next_due = due
        if space.bookings:
            due = self._check_bookings(space, now)
            if due < next_due:
                next_due = due
        self._schedule(space, next_due, now)
        return changed

    def _schedule(self, space: SpaceLive, due: float, now: float) -> None:
        # A deadline at or before ``now`` is already reflected in the state just computed.
        space.due = due
        if due <= now or due >= space.scheduled:
            return
        space.scheduled = due
        self._requeue(int(due), [space])
        if self._queued > 2 * len(self.spaces) + 1024:
            # superseded entries wait in their second until it passes; rebuild from the live
            # deadlines once they outnumber the spaces (amortized O(1) per push, bounded memory)
            self._buckets, self._keys, self._queued = {}, [], 0
            for sp in self.spaces.values():
                if sp.scheduled < math.inf:
                    self._requeue(int(sp.scheduled), [sp])

    def _requeue(self, k: int, sids: list[SpaceLive]) -> None:
        queued = self._buckets.get(k)
        if queued is None:
            self._buckets[k] = sids
            heapq.heappush(self._keys, k)
        else:
            queued.extend(sids)
        self._queued += len(sids)

    # -- idle episodes ----------------------------------------------------------------------
    def _idle(self, space: SpaceLive, now: float) -> float:
        """Open or close the space's idle episode; the next instant that can change it."""
        if space.idle_start is not None:
            if space.state == VACANT and now < space.idle_until:
                return space.idle_until
            if space.state == VACANT:
                iv = self.cal.interval_at(now)
                if iv is not None and iv[0] <= space.idle_until:  # the next span adjoins
                    space.idle_until = iv[1]
                    return iv[1]
            self._close_episode(space, min(now, space.idle_until))
        if space.state != VACANT:
            return math.inf
        ia = self.settings.idle_after_s
        iv = self.cal.interval_at(now)
        if iv is None:
            nxt = self.cal.next_open(now)
            return math.inf if nxt is None else nxt[0] + ia
        start = max(space.since, iv[0])
        if start + ia > now:
            return min(start + ia, iv[1])
        space.idle_start, space.idle_until, space.idle_opened = start, iv[1], now
        self.out.episodes[(space.id, start)] = IdleEpisode(space.id, start, now)
        return iv[1]

    def _close_episode(self, space: SpaceLive, end: float) -> None:
        assert space.idle_start is not None
        ep = IdleEpisode(space.id, space.idle_start, space.idle_opened, end)
        self.out.episodes[(space.id, space.idle_start)] = ep
        space.idle_start, space.idle_until = None, math.inf

    def idle_since(self, space: SpaceLive, now: float) -> float | None:
        """Start of the space's idle stretch when it is idle at ``now``, else None."""
        if space.state != VACANT:
            return None
        if space.idle_start is not None and now < space.idle_until:
            return space.idle_start
        iv = self.cal.interval_at(now)
        if iv is None:
            return None
        start = max(space.since, iv[0])
        return start if now - start >= self.settings.idle_after_s else None

    # -- bookings ---------------------------------------------------------------------------
    def _check_bookings(self, space: SpaceLive, now: float) -> float:
        due = math.inf
        keep: list[Booking] = []
        for b in space.bookings or ():
            if now < b.start:
                due = min(due, b.start)
                keep.append(b)
                continue
            limit = b.start + self.grace_s
            if b.checked_in is None:
                if space.state == OCCUPIED and now <= limit:
                    b.checked_in = now
                elif space.state == UNKNOWN:
                    b.saw_unknown = True
            if b.checked_in is None and now < limit:
                due = min(due, limit)
                keep.append(b)
                continue
            self._decide(space, b, now)
        space.bookings = keep or None
        return due

    def _decide(self, space: SpaceLive, b: Booking, now: float) -> None:
        if not b.requires_checkin:
            return
        ns = self.no_show
        if b.checked_in is not None:
            ns.required += 1
            ns.checked_in += 1
            return
        kind = "unverified_booking" if b.saw_unknown else "ghost_booking"
        if b.saw_unknown:
            ns.unverified += 1
        else:
            ns.required += 1
            ns.released += 1
        details = {"grace_s": self.grace_s, "action": "none" if b.saw_unknown else "release"}
        self.out.findings.append(Finding(kind, b.id, space.id, b.start, b.end, now, details))

    # -- utilization ------------------------------------------------------------------------
    def _settle(self, space: SpaceLive, now: float) -> None:
        """Account the current state from ``seg_start`` to ``now`` into bins."""
        t = space.seg_start
        if now <= t:
            return
        space.seg_start = now
        if space.state == UNKNOWN:
            return
        occupied, occ = space.state == OCCUPIED, space.occupancy
        bin_s, cal = self.bin_s, self.cal
        while t < now:
            idx = int(t // bin_s)
            end = min(now, (idx + 1) * bin_s)
            dt = cal.open_in_bin(idx, t, end)
            if dt > 0:
                acc = space.bin
                if acc is None or acc.key != idx:
                    if acc is not None:
                        self._close_bin(space)
                    acc = space.bin = Acc(space.id, idx)
                    self._pending.add(space.id)
                acc.add(occupied, occ, dt)
            t = end

    def _close_bin(self, space: SpaceLive) -> None:
        acc = space.bin
        assert acc is not None
        space.bin = None
        self._pending.discard(space.id)
        self.out.bins.append(acc)

    def close_bins(self, now: float) -> int:
        """Close every bin that ended by ``now``; the number of spaces settled."""
        cur = int(now // self.bin_s)
        if cur <= self._cur_bin:
            return 0
        boundary = cur * self.bin_s
        span = range(self._cur_bin, cur) if cur - self._cur_bin < 2000 else range(0)
        was_open = not span or any(self.cal.bin_intervals(i) for i in span)
        ids = self._pending | self._known if was_open else set(self._pending)
        for sid in ids:
            sp = self.spaces[sid]
            self._settle(sp, boundary)
            if sp.bin is not None and sp.bin.key < cur:
                self._close_bin(sp)
        self._cur_bin = cur
        return len(ids)

    # -- reading ----------------------------------------------------------------------------
    def view(self, space_id: str, now: float) -> SpaceView:
        """The API's view of one space (raises KeyError for an unknown id)."""
        sp = self.spaces[space_id]
        idle_since = self.idle_since(sp, now)
        return SpaceView(
            sp.id, sp.state, sp.occupancy, sp.since, idle_since is not None, idle_since
        )

    def add_spaces(self, space_ids: Iterable[str], now: float) -> list[str]:
        """Start tracking spaces a reloaded building added (state unknown until evidence)."""
        added = [sid for sid in space_ids if sid not in self.spaces]
        for sid in added:
            self.spaces[sid] = SpaceLive(id=sid, since=now, seg_start=now)
        return added

    def free_now(self, now: float) -> list[SpaceView]:
        """Every vacant space, idle or not, with since-when (vacant since, idle since)."""
        return [self.view(sid, now) for sid, sp in self.spaces.items() if sp.state == VACANT]
