"""Business hours: per-weekday open spans in a site's local time, DST-correct."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

#: A span of one day in minutes since local midnight, end exclusive; (0, 1440) is all day.
Span = tuple[int, int]

_SPAN_RE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
_ONE_DAY = timedelta(days=1)


def parse_span(text: str) -> Span:
    """Parse ``"HH:MM-HH:MM"`` into minutes; raise ValueError saying what was expected."""
    m = _SPAN_RE.match(text)
    if m is None:
        raise ValueError("expected a span 'HH:MM-HH:MM'")
    h1, m1, h2, m2 = (int(g) for g in m.groups())
    if h1 > 23 or m1 > 59 or m2 > 59 or h2 > 24 or (h2 == 24 and m2 != 0):
        raise ValueError("expected times between 00:00 and 24:00")
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if start >= end:
        raise ValueError("expected the start before the end (spans cannot cross midnight)")
    return (start, end)


def parse_days(key: str) -> list[int]:
    """Parse ``"mon"`` or a range ``"mon-fri"`` (wrapping allowed: ``"fri-mon"``) into weekdays."""
    parts = [p.strip().lower() for p in key.split("-")]
    if len(parts) not in (1, 2) or any(p not in DAYS for p in parts):
        raise ValueError("expected a day (mon..sun) or a day range such as 'mon-fri'")
    first = DAYS.index(parts[0])
    last = DAYS.index(parts[-1])
    return [(first + i) % 7 for i in range((last - first) % 7 + 1)]


def merge_spans(spans: list[Span]) -> tuple[Span, ...]:
    """Sort spans; raise ValueError if two overlap."""
    ordered = sorted(spans)
    for (_, end), (start, _) in zip(ordered, ordered[1:], strict=False):
        if start < end:
            raise ValueError("expected spans that do not overlap")
    return tuple(ordered)


@dataclass(frozen=True, slots=True)
class BusinessHours:
    """When a site is open: ``week[0]`` (Monday) .. ``week[6]`` (Sunday), each a tuple of spans."""

    tz: ZoneInfo
    week: tuple[tuple[Span, ...], ...]

    @classmethod
    def always(cls, tz: ZoneInfo) -> BusinessHours:
        """Open all day every day."""
        return cls(tz, tuple(((0, 1440),) for _ in DAYS))

    def spans_on(self, day: date) -> tuple[Span, ...]:
        """The open spans of one local calendar day."""
        return self.week[day.weekday()]

    def is_open(self, ts: float) -> bool:
        """Whether the site is open at epoch second ``ts`` (UTC)."""
        local = datetime.fromtimestamp(ts, self.tz)
        minute = local.hour * 60 + local.minute + (local.second + local.microsecond / 1e6) / 60
        return any(start <= minute < end for start, end in self.week[local.weekday()])

    def open_intervals(self, day: date) -> list[tuple[float, float]]:
        """The open spans of one local day as epoch-second intervals (DST-correct)."""
        out: list[tuple[float, float]] = []
        for start, end in self.week[day.weekday()]:
            out.append((self._epoch(day, start), self._epoch(day, end)))
        return out

    def open_seconds(self, start: float, end: float) -> float:
        """Business seconds in ``[start, end)``; counts real elapsed seconds across DST changes."""
        if end <= start:
            return 0.0
        day = datetime.fromtimestamp(start, self.tz).date() - _ONE_DAY
        last = datetime.fromtimestamp(end, self.tz).date()
        total = 0.0
        while day <= last:
            for a, b in self.open_intervals(day):
                lo, hi = max(a, start), min(b, end)
                if hi > lo:
                    total += hi - lo
            day += _ONE_DAY
        return total

    def _epoch(self, day: date, minute: int) -> float:
        if minute >= 1440:
            day, minute = day + _ONE_DAY, minute - 1440
        hour, mins = divmod(minute, 60)
        return datetime.combine(day, time(hour, mins), self.tz).timestamp()
