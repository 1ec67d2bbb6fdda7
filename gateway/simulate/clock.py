"""The demo's clock: simulated epoch seconds, one source for the gateway and the simulator.

It starts *held* at a simulated time; the backfill moves it on step by step (``hold``) while
it replays history, waiting for the gateway to take each step. ``run`` then lets it go at
``speed`` simulated seconds per wall second from where it stands. It never goes backwards.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class SimClock:
    """A callable clock (epoch seconds) the composition root takes instead of ``time.time``."""

    def __init__(
        self, start: float, speed: float, wall: Callable[[], float] = time.monotonic
    ) -> None:
        if not speed > 0:
            raise ValueError(f"speed must be > 0, got {speed!r}")
        self.speed = speed
        self._wall = wall
        self._base = start
        self._wall0: float | None = None  # None while held
        self._lock = threading.Lock()

    def __call__(self) -> float:
        wall0 = self._wall0
        if wall0 is None:
            return self._base
        return self._base + (self._wall() - wall0) * self.speed

    @property
    def running(self) -> bool:
        return self._wall0 is not None

    def hold(self, ts: float) -> None:
        """Stand still at ``ts`` (or where the clock is, if later) until the next call."""
        with self._lock:
            self._base = max(self(), ts)
            self._wall0 = None

    def run(self) -> None:
        """Run on from the current time at ``speed``."""
        with self._lock:
            if self._wall0 is None:
                self._wall0 = self._wall()
