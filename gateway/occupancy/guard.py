"""What the engine refuses or clamps before an event moves any evidence, counted by reason.

The pipeline already replaces device clocks that are far off and refuses values outside a
quantity's bounds; the engine does not rely on that. Whatever reaches ``apply`` -- a replayed
reading, a badge from the door decider, a test, a future caller -- passes this screen, so no
event can make a deadline infinite, NaN or years away, and none can raise inside the engine:
- a time that is not finite, or older than ``MAX_PAST_S``, is refused;
- a time more than ``MAX_FUTURE_S`` ahead of the engine's clock is clamped to the clock (a
  motion report stamped next year would otherwise hold its room occupied for a year);
- a people count must be a finite whole number from 0 to ``MAX_COUNT``;
- presence, occupancy, motion and availability must be booleans (or 0/1).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import replace

from gateway.events import Event

MAX_FUTURE_S = 60.0  # as the pipeline's clock check: a device clock ahead by more is not believed
MAX_PAST_S = 30 * 86_400.0  # evidence a month old says nothing about a space now
MAX_COUNT = 10_000  # more people than any one space of a building holds

#: Quantities the engine reads as booleans.
BOOLEAN = frozenset({"online", "presence", "occupied", "motion"})


class EvidenceGuard:
    """Screens events for the engine; ``rejected`` counts what it refused or clamped, by reason."""

    def __init__(self) -> None:
        self.rejected: Counter[str] = Counter()

    def screen(self, ev: Event, now: float) -> Event | None:
        """``ev`` as the engine may use it at ``now``, or None when it is refused."""
        ts = ev.ts
        if not now - MAX_PAST_S <= ts <= now + MAX_FUTURE_S:
            reason = self._bad_time(ts, now)
            self.rejected[reason] += 1
            if reason != "ts_future_clamped":
                return None
            ev = replace(ev, ts=now)
        q = ev.quantity
        if q in BOOLEAN:
            v = ev.value
            if v is not True and v is not False and not (type(v) is int and v in (0, 1)):
                self.rejected[f"{q}_not_boolean"] += 1
                return None
        elif q == "people_count" and not _is_count(ev.value):
            self.rejected["people_count_out_of_range"] += 1
            return None
        return ev

    @staticmethod
    def _bad_time(ts: float, now: float) -> str:
        if not math.isfinite(ts):
            return "ts_not_finite"
        if not math.isfinite(now):
            return "clock_not_finite"
        return "ts_future_clamped" if ts > now else "ts_too_old"


def _is_count(v: object) -> bool:
    if isinstance(v, bool):
        return False
    if isinstance(v, int):
        return 0 <= v <= MAX_COUNT
    if isinstance(v, float):
        return math.isfinite(v) and v.is_integer() and 0 <= v <= MAX_COUNT
    return False
