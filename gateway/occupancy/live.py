"""The engine's per-space record, the API's view of it, its transitions, and the state its
parts share."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from gateway.occupancy.accumulate import Acc, EngineOutput
from gateway.occupancy.bookings import Booking, NoShowStats
from gateway.occupancy.calendar import Calendar
from gateway.occupancy.fusion import UNKNOWN, SensorEvidence
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


STATE, IDLE, IDLE_ENDED = "state", "idle", "idle_ended"


@dataclass(frozen=True, slots=True)
class Transition:
    """What the engine decided of a space at ``at``: ``state`` (its state or headcount
    changed), ``idle`` (it became idle) or ``idle_ended`` (it stopped being idle)."""

    space: str
    kind: str
    at: float


class EngineBase:
    """What the engine's parts (deadlines, bins, idle episodes, bookings) share.

    ``OccupancyEngine`` sets these up and composes the parts as mixins, so a hot path calls
    a method on the same object rather than through a helper object.
    """

    settings: OccupancySettings
    spaces: dict[str, SpaceLive]
    cal: Calendar
    bin_s: int
    grace_s: float
    out: EngineOutput
    no_show: NoShowStats
    changes: int
    due_recomputes: int
    _buckets: dict[int, list[SpaceLive]]
    _keys: list[int]
    _queued: int
    _known: set[str]  # state is occupied or vacant
    _pending: set[str]  # an open bin holds data
    _cur_bin: int
    _transitions: list[Transition] | None  # None: nobody takes them, so none are kept

    def _transition(self, space: str, kind: str, at: float) -> None:
        if self._transitions is not None:
            self._transitions.append(Transition(space, kind, at))

    def _recompute(self, space: SpaceLive, now: float) -> bool:
        raise NotImplementedError

    def close_bins(self, now: float) -> int:
        raise NotImplementedError
