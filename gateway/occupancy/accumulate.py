"""Utilization accumulators and what the engine hands the store: bins, episodes, findings.

A closed bin carries the *absolute* totals of its key (space, bin start), never an
increment: writing it twice upserts the same row, so a bin is never counted twice however
often it is flushed. Day rows are summed from the bins by the store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class Acc:
    """Business-hour totals of one space over one bin or one local day."""

    space: str
    key: int  # bin index: the bin starts at key * bin_s
    occupied_s: float = 0.0
    known_s: float = 0.0  # seconds the state was known (occupied or vacant)
    counted_s: float = 0.0  # seconds a people counter gave a count
    person_s: float = 0.0
    peak: int | None = None
    hist: dict[int, float] | None = None  # seconds spent at each headcount > 0

    def add(self, state_occupied: bool, occupancy: int | None, dt: float) -> None:
        self.known_s += dt
        if state_occupied:
            self.occupied_s += dt
        if occupancy is not None:
            self.counted_s += dt
            self.person_s += occupancy * dt
            if self.peak is None or occupancy > self.peak:
                self.peak = occupancy
            if occupancy > 0:
                h = self.hist
                if h is None:
                    h = self.hist = {}
                h[occupancy] = h.get(occupancy, 0.0) + dt

    def merge(self, other: Acc) -> None:
        self.occupied_s += other.occupied_s
        self.known_s += other.known_s
        self.counted_s += other.counted_s
        self.person_s += other.person_s
        if other.peak is not None and (self.peak is None or other.peak > self.peak):
            self.peak = other.peak
        if other.hist:
            h = self.hist if self.hist is not None else {}
            for k, v in other.hist.items():
                h[k] = h.get(k, 0.0) + v
            self.hist = h

    def dump(self) -> list[Any]:
        hist = None if self.hist is None else {str(k): v for k, v in self.hist.items()}
        return [
            self.key,
            self.occupied_s,
            self.known_s,
            self.counted_s,
            self.person_s,
            self.peak,
            hist,
        ]

    @classmethod
    def load(cls, space: str, data: list[Any]) -> Acc:
        key, occ, known, counted, person, peak, hist = data
        h = None if hist is None else {int(k): float(v) for k, v in hist.items()}
        return cls(space, int(key), occ, known, counted, person, peak, h)


@dataclass(slots=True)
class IdleEpisode:
    """A vacant stretch inside business hours; ``end`` is None while it lasts."""

    space: str
    start: float
    opened_at: float  # when it reached idle_after and became an episode
    end: float | None = None


@dataclass(frozen=True, slots=True)
class Finding:
    """Something the engine detected that someone should act on (a ghost booking)."""

    kind: str  # "ghost_booking" (release it) or "unverified_booking" (sensors unknown)
    ref: str  # the booking id
    space: str
    start: float
    end: float
    detected_at: float
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class EngineOutput:
    """What the engine produced since the last drain, for the service to persist."""

    bins: list[Acc] = field(default_factory=list)  # closed bins; never touched again
    episodes: dict[tuple[str, float], IdleEpisode] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)

    def merge(self, newer: EngineOutput) -> None:
        """Fold a later drain into this one (used when a save failed and is retried)."""
        self.bins.extend(newer.bins)
        self.episodes.update(newer.episodes)
        self.findings.extend(newer.findings)

    def __bool__(self) -> bool:
        return bool(self.bins or self.episodes or self.findings)
