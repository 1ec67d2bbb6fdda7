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

from collections.abc import Iterable, Mapping

from gateway.building import Building
from gateway.events import Event
from gateway.occupancy.accumulate import EngineOutput
from gateway.occupancy.bins import Bins
from gateway.occupancy.bookings import NoShowStats
from gateway.occupancy.calendar import Calendar
from gateway.occupancy.deadlines import Deadlines
from gateway.occupancy.fusion import UNKNOWN, VACANT, Fused, SensorEvidence, fold, fuse
from gateway.occupancy.ghosts import BookingWatch
from gateway.occupancy.guard import EvidenceGuard
from gateway.occupancy.idle import IdleEpisodes
from gateway.occupancy.live import STATE, SpaceLive, SpaceView, Transition
from gateway.settings import OccupancySettings

__all__ = ["OccupancyEngine", "SpaceLive", "SpaceView", "Transition"]


class OccupancyEngine(Deadlines, Bins, IdleEpisodes, BookingWatch):
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
        self.settings = settings
        self.grace_s = grace_s
        # per device: how long it may stay silent (its profile's availability), else the default
        self.silence_s: Mapping[str, float] = silence_s or {}
        self.bin_s = int(settings.bin_s)
        self.cal = Calendar(building.site.business_hours, self.bin_s)
        self.spaces: dict[str, SpaceLive] = {
            sid: SpaceLive(id=sid, since=now, seg_start=now) for sid in building.spaces
        }
        self._buckets: dict[int, list[SpaceLive]] = {}
        self._keys: list[int] = []
        self._queued = 0
        self._known: set[str] = set()
        self._pending: set[str] = set()
        self._cur_bin = int(now // self.bin_s)
        self.out = EngineOutput()
        self.no_show = NoShowStats()
        self.changes = 0
        self.due_recomputes = 0  # spaces a tick recomputed because a deadline fell due
        self.guard = EvidenceGuard()  # refused or clamped events, counted by reason
        self._transitions = None

    # -- transitions --------------------------------------------------------------------------
    def watch_transitions(self) -> None:
        """Keep the transitions from now on, for :meth:`take_transitions` to hand out."""
        if self._transitions is None:
            self._transitions = []

    def take_transitions(self) -> list[Transition]:
        """The transitions decided since the last call, in order (none unless watched)."""
        got = self._transitions
        if not got:
            return []
        self._transitions = []
        return got

    # -- evidence ---------------------------------------------------------------------------
    def new_evidence(self, device: str) -> SensorEvidence:
        """Empty evidence for ``device``, with its own silence timeout."""
        return SensorEvidence(
            device, stale_s=self.silence_s.get(device, self.settings.sensor_stale_s)
        )

    def apply(self, ev: Event, now: float) -> bool:
        """Fold one event into its space's evidence; True when the space's state changed."""
        space = self._fold(ev, now)
        return space is not None and self._recompute(space, now)

    def apply_all(self, events: Iterable[Event], now: float) -> list[str]:
        """Apply a batch of events at ``now``; the spaces whose state changed, once per change.

        The same as :meth:`apply` one event at a time: every change of state an event makes
        is taken in order (a count that rises and falls back inside one batch still ends an
        idle episode and checks a booking in, as the evidence says someone was there). Only
        the work an event that changes nothing would repeat at the same instant (idle
        episode, bookings, the next deadline) is done once per space, after the batch.
        """
        changed: list[str] = []
        unsettled: dict[str, tuple[SpaceLive, Fused]] = {}
        for ev in events:
            space = self._fold(ev, now)
            if space is None:
                continue
            fused = fuse(space.sensors, now, self.settings)
            if fused[0] != space.state or fused[1] != space.occupancy:
                self._recompute(space, now, fused)
                changed.append(space.id)
                unsettled.pop(space.id, None)
            else:
                unsettled[space.id] = (space, fused)
        for space, fused in unsettled.values():  # changes nothing: idle, bookings, deadline
            self._recompute(space, now, fused)
        return changed

    def _fold(self, ev: Event, now: float) -> SpaceLive | None:
        """Fold one event into its sensor's evidence; the space when that evidence moved."""
        if ev.space is None:
            return None
        space = self.spaces.get(ev.space)
        if space is None:
            self.guard.rejected["unknown_space"] += 1
            return None
        screened = self.guard.screen(ev, now)
        if screened is None:
            return None
        ev = screened
        for s in space.sensors:
            if s.device == ev.device:
                break
        else:
            s = self.new_evidence(ev.device)
            space.sensors.append(s)
        return space if fold(s, ev) else None

    def drain(self) -> EngineOutput:
        """Everything produced since the last drain (closed bins are never touched again)."""
        out, self.out = self.out, EngineOutput()
        return out

    # -- state ------------------------------------------------------------------------------
    def _recompute(self, space: SpaceLive, now: float, fused: Fused | None = None) -> bool:
        """Bring the space's state, idle episode, bookings and next deadline up to ``now``;
        ``fused`` is what :func:`fuse` already said of its evidence at ``now``, if known."""
        state, occupancy, next_due = fused or fuse(space.sensors, now, self.settings)
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
            self._transition(space.id, STATE, now)
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
