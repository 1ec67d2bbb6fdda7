"""Business-hours arithmetic for the engine: open seconds per bin, open intervals, local days."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from gateway.building.hours import BusinessHours

Interval = tuple[float, float]
_ONE_DAY = timedelta(days=1)
_MERGE_DAYS = 7  # adjacent open spans (e.g. 24/7) are merged across at most this many days


class Calendar:
    """Caches a site's open intervals per local day and per fixed-size bin (epoch-aligned)."""

    def __init__(self, hours: BusinessHours, bin_s: int) -> None:
        self.hours = hours
        self.tz = hours.tz
        self.bin_s = bin_s
        self._days: dict[int, list[Interval]] = {}
        self._bins: dict[int, tuple[Interval, ...]] = {}
        self._bin_day: dict[int, tuple[str, float]] = {}
        # the engine asks about "now" over and over: keep the last answers
        self._iv: Interval | None = None
        self._next: tuple[float, Interval] | None = None  # (asked at, next interval)

    # -- days -------------------------------------------------------------------------------
    def local_date(self, ts: float) -> date:
        return datetime.fromtimestamp(ts, self.tz).date()

    def day_intervals(self, day: date) -> list[Interval]:
        key = day.toordinal()
        got = self._days.get(key)
        if got is None:
            got = self._days[key] = self.hours.open_intervals(day)
        return got

    def day_start(self, day: date) -> float:
        """Epoch of local midnight opening ``day``."""
        return datetime.combine(day, datetime.min.time(), self.tz).timestamp()

    def day_of_bin(self, idx: int) -> tuple[str, float]:
        """The local day (ISO date, epoch of its midnight) a bin starting at ``idx`` belongs to."""
        got = self._bin_day.get(idx)
        if got is None:
            d = self.local_date(idx * self.bin_s)
            got = self._bin_day[idx] = (d.isoformat(), self.day_start(d))
        return got

    # -- bins -------------------------------------------------------------------------------
    def bin_intervals(self, idx: int) -> tuple[Interval, ...]:
        """The open parts of bin ``idx`` = [idx*bin_s, (idx+1)*bin_s)."""
        got = self._bins.get(idx)
        if got is None:
            lo, hi = idx * self.bin_s, (idx + 1) * self.bin_s
            first, last = self.local_date(lo) - _ONE_DAY, self.local_date(hi)
            parts: list[Interval] = []
            d = first
            while d <= last:
                for a, b in self.day_intervals(d):
                    x, y = max(a, lo), min(b, hi)
                    if y > x:
                        parts.append((x, y))
                d += _ONE_DAY
            got = self._bins[idx] = tuple(sorted(parts))
        return got

    def open_in_bin(self, idx: int, a: float, b: float) -> float:
        """Open seconds of ``[a, b)``, which lies inside bin ``idx``."""
        total = 0.0
        for x, y in self.bin_intervals(idx):
            lo, hi = max(x, a), min(y, b)
            if hi > lo:
                total += hi - lo
        return total

    def open_seconds(self, a: float, b: float) -> float:
        """Open seconds of ``[a, b)`` (any length)."""
        return self.hours.open_seconds(a, b)

    # -- intervals --------------------------------------------------------------------------
    def interval_at(self, ts: float) -> Interval | None:
        """The open interval containing ``ts`` (adjacent spans merged), or None when closed."""
        iv = self._iv
        if iv is not None and iv[0] <= ts < iv[1]:
            return iv
        nxt = self._next
        if nxt is not None and nxt[0] <= ts < nxt[1][0]:
            return None
        d = self.local_date(ts)
        for day in (d - _ONE_DAY, d):
            for a, b in self.day_intervals(day):
                if a <= ts < b:
                    self._iv = (a, self._extend(day, b))
                    return self._iv
        nxt_iv = self.next_open(ts)
        if nxt_iv is not None:
            self._next = (ts, nxt_iv)  # [ts, next opening) is closed
        return None

    def next_open(self, ts: float) -> Interval | None:
        """The first open interval starting after ``ts`` (within two weeks), or None."""
        nxt = self._next
        if nxt is not None and nxt[0] <= ts < nxt[1][0]:
            return nxt[1]
        d = self.local_date(ts)
        for k in range(15):
            day = d + timedelta(days=k)
            for a, b in self.day_intervals(day):
                if a > ts:
                    return a, self._extend(day, b)
        return None

    def _extend(self, day: date, end: float) -> float:
        for _ in range(_MERGE_DAYS):
            day += _ONE_DAY
            nxt = self.day_intervals(day)
            if not nxt or nxt[0][0] > end:
                return end
            end = nxt[0][1]
            if len(nxt) > 1:
                return end
        return end
