"""Bounds against floods of fresh topics: discovered devices, dead letters and their log lines."""

from __future__ import annotations

import logging
from collections import OrderedDict

log = logging.getLogger(__name__)

SUMMARY_PERIOD_S = 60.0  # one summary line per period for what was not logged


class DeadLetterLimit:
    """A token bucket over every dead letter of the gateway (``rate_per_s``, ``burst``), and
    a cap of ``lines_per_period`` dead-letter log lines per ``SUMMARY_PERIOD_S``: beyond
    them, dead letters are counted, not stored, and log lines are counted and summed up in
    one line per period. Driven by receive times. A rate of 0 stores every dead letter."""

    def __init__(self, rate_per_s: float, burst: int, lines_per_period: int = 100) -> None:
        self.rate = rate_per_s
        self.burst = float(max(1, burst))
        self.lines_per_period = lines_per_period
        self._tokens = self.burst
        self._last: float | None = None
        self._period_start: float | None = None
        self._lines = 0
        self.dropped = 0  # dead letters counted, not stored
        self.lines_suppressed = 0  # log lines not written (since start)
        self._period_dropped = 0
        self._period_suppressed = 0

    def allow(self, now: float) -> bool:
        """True when a dead letter received at ``now`` may be stored."""
        self._roll(now)
        if self.rate <= 0:
            return True
        if self._last is not None:
            self._tokens = min(self.burst, self._tokens + max(0.0, now - self._last) * self.rate)
        self._last = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        self.dropped += 1
        self._period_dropped += 1
        return False

    def may_log(self, now: float) -> bool:
        """True when one more dead-letter line may be logged this period."""
        self._roll(now)
        if self._lines < self.lines_per_period:
            self._lines += 1
            return True
        self.lines_suppressed += 1
        self._period_suppressed += 1
        return False

    def tick(self, now: float) -> None:
        """Time has come to ``now``: write the last period's summary when it is over."""
        self._roll(now)

    def _roll(self, now: float) -> None:
        start = self._period_start
        if start is None:
            self._period_start = now
            return
        if now - start < SUMMARY_PERIOD_S:
            return
        if self._period_suppressed or self._period_dropped:
            log.warning(
                "dead-letter flood: %d log lines not written and %d dead letters counted, "
                "not stored, in the last %.0f s",
                self._period_suppressed,
                self._period_dropped,
                now - start,
            )
        self._period_start, self._lines = now, 0
        self._period_suppressed = self._period_dropped = 0


class UnknownDevices:
    """The discovered devices no binding names, at most ``cap``, the oldest seen evicted."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self._seen: OrderedDict[str, float] = OrderedDict()  # id -> last seen, oldest first
        self.evicted = 0

    def load(self, seen: dict[str, float]) -> None:
        """Start from the unknown devices the store holds (id -> last seen)."""
        for dev, at in sorted(seen.items(), key=lambda kv: kv[1]):
            self._seen[dev] = at

    def __contains__(self, dev: str) -> bool:
        return dev in self._seen

    def __len__(self) -> int:
        return len(self._seen)

    def forget(self, dev: str) -> None:
        """``dev`` is bound now (or gone)."""
        self._seen.pop(dev, None)

    def touch(self, dev: str, at: float) -> list[str]:
        """``dev`` was heard at ``at``; the devices evicted to keep within the cap."""
        self._seen[dev] = at
        self._seen.move_to_end(dev)
        out: list[str] = []
        while len(self._seen) > self.cap > 0:
            old, _ = self._seen.popitem(last=False)
            out.append(old)
        self.evicted += len(out)
        return out
