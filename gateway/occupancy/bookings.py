"""The engine's view of room bookings: windows to check for presence, and ghost detection.

Bookings are owned elsewhere; whatever owns them hands the engine each room's windows with
``OccupancyEngine.set_bookings(space_id, [(booking_id, start, end, requires_checkin), ...])``,
or implements :class:`BookingSource` and lets the service push them.

A booking is *checked in* when its space is ``occupied`` (any evidence, a granted badge
included) at some instant in ``[start, start + grace]``. At ``start + grace`` a booking that
required check-in and was not checked in becomes a ``ghost_booking`` finding (release it),
unless the space was ``unknown`` during the grace window: with no working sensor nobody can
tell, so it becomes ``unverified_booking`` and is not released.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

BookingWindow = tuple[str, float, float, bool]  # (booking_id, start, end, requires_checkin)


class BookingSource(Protocol):
    """Anything that can list a room's booking windows over a time range."""

    def windows(self, space_id: str, start: float, end: float) -> Iterable[BookingWindow]: ...


@dataclass(slots=True)
class Booking:
    """One booking window the engine watches until its grace period ends."""

    id: str
    start: float
    end: float
    requires_checkin: bool
    checked_in: float | None = None
    saw_unknown: bool = False

    def dump(self) -> list[object]:
        return [
            self.id,
            self.start,
            self.end,
            self.requires_checkin,
            self.checked_in,
            self.saw_unknown,
        ]

    @classmethod
    def load(cls, d: list[object]) -> Booking:
        bid, start, end, req, checked, unknown = d
        return cls(
            str(bid),
            float(start),  # type: ignore[arg-type]
            float(end),  # type: ignore[arg-type]
            bool(req),
            None if checked is None else float(checked),  # type: ignore[arg-type]
            bool(unknown),
        )


@dataclass(slots=True)
class NoShowStats:
    """No-show figures: released / bookings that required check-in and were decided."""

    required: int = 0
    released: int = 0
    checked_in: int = 0
    unverified: int = 0

    @property
    def rate(self) -> float | None:
        return None if self.required == 0 else self.released / self.required
