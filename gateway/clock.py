"""The gateway's one clock: a callable giving epoch seconds, the wall clock unless injected.

``gateway run`` reads ``time.time``; ``gateway demo`` hands the composition root the
simulator's clock (``gateway.simulate.clock.SimClock``), which runs ``speed`` times faster.
Every part reads the time it stamps, compares and reports from the clock it was given; only
a wait for the next deadline has to become wall seconds, through :func:`wall_seconds`.
"""

from __future__ import annotations

from collections.abc import Callable

Clock = Callable[[], float]


def wall_seconds(clock: Clock, seconds: float) -> float:
    """The wall seconds ``seconds`` of ``clock`` take: as many on the wall clock, fewer on one
    that declares a ``speed`` (simulated seconds per wall second)."""
    speed = getattr(clock, "speed", 1.0)
    return seconds / speed if speed > 0 else seconds
