"""Two simulated weeks of history, played through the gateway before the demo goes live.

The simulator's traffic is published to the broker as in a live run, and the gateway's
ingest, engine, rollups and services take it as they take any traffic: nothing is written
to the store directly. The demo's clock (``gateway.simulate.clock.SimClock``) is held at the
end of one step at a time; the step's messages are published, the gateway is waited for
until it has committed them and applied their events, the engine is ticked, and the clock
moves on. So every receive time, deadline and booking falls inside its step: a step is
``STEP_OPEN_S`` while the site is open and ``STEP_CLOSED_S`` while it is closed, which is
how far a history time may be late.

To be quick the backfill thins what devices repeat: a PIR re-reports motion at most every
``pir_gap_s`` (under the motion timeout, so a sitting person still keeps the room occupied),
climate readings, statuses, heartbeats and print jobs at most every ``REPORT_GAP_S``. The
live run goes back to each device's own cadence.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO

from gateway.simulate.clock import SimClock
from gateway.simulate.simulator import Simulator

log = logging.getLogger(__name__)

DAYS = 14  # the demo's default
MAX_DAYS = 60
STEP_OPEN_S = 240.0
STEP_CLOSED_S = 3600.0
MIN_GAP_S = 240.0  # at most: the demo passes 80 % of the motion timeout when that is less
REPORT_GAP_S = 1800.0  # under the 3600 s a sensor may be silent before it counts as stale
STEP_WAIT_S = 5.0  # at most this long (wall) for the gateway to take one step
BAR = 30


@dataclass(slots=True)
class Sync:
    """How the backfill follows the gateway: ``takes(topic)`` says whether the gateway
    subscribes to a topic; ``caught_up(n)`` whether it has committed and applied ``n``
    messages since the backfill began; ``tick()`` moves its engine to the clock's time."""

    takes: Callable[[str], bool]
    caught_up: Callable[[int], bool]
    tick: Callable[[], None]


@dataclass(slots=True)
class Result:
    messages: int
    bookings: int
    wall_s: float
    late_steps: int  # steps the gateway had not taken within STEP_WAIT_S


class Progress:
    """A progress bar on a terminal; a line per tenth elsewhere."""

    def __init__(self, out: TextIO, total: float) -> None:
        self.out, self.total = out, total
        self.tty = out.isatty()
        self._shown = -1

    def show(self, done: float, note: str) -> None:
        share = min(max(done / self.total, 0.0), 1.0) if self.total > 0 else 1.0
        step = int(share * (100 if self.tty else 10))
        if step == self._shown:
            return
        self._shown = step
        if self.tty:
            filled = int(share * BAR)
            bar = "#" * filled + "-" * (BAR - filled)
            self.out.write(f"\r  backfill [{bar}] {share:4.0%}  {note}   ")
        else:
            self.out.write(f"  backfill {share:4.0%}  {note}\n")
        self.out.flush()

    def end(self) -> None:
        if self.tty:
            self.out.write("\n")
            self.out.flush()


def backfill(
    sim: Simulator,
    clock: SimClock,
    until: float,
    sync: Sync,
    stop: threading.Event,
    out: TextIO = sys.stdout,
    pir_gap_s: float = MIN_GAP_S,
) -> Result:
    """Play the simulator's traffic from the clock's time to ``until`` through the broker,
    step by step in lock-step with the gateway."""
    world, hours = sim.traffic.world, sim.building.site.business_hours
    start, t0 = clock(), time.perf_counter()
    live_gap, world.min_gap = world.min_gap, max(world.min_gap, pir_gap_s)
    world.report_min_s = REPORT_GAP_S
    progress = Progress(out, until - start)
    client = sim.connect()
    taken: dict[str, bool] = {}
    expected = late = 0
    booked = sim.bookings.made if sim.bookings is not None else 0
    try:
        t = start
        while t < until and not stop.is_set():
            t = min(until, t + (STEP_OPEN_S if hours.is_open(t) else STEP_CLOSED_S))
            clock.hold(t)
            msgs = sim.traffic.advance(t)
            sim.publish(client, msgs)
            for m in msgs:
                if m.topic not in taken:
                    taken[m.topic] = sync.takes(m.topic)
                expected += taken[m.topic]
            if not _wait(sync, expected, stop):
                late += 1
            sync.tick()
            progress.show(t - start, sim.sim_time.strftime("%a %d %b %H:%M"))
        sim.drain()
    finally:
        world.min_gap, world.report_min_s = live_gap, 0.0
        client.disconnect()
        client.loop_stop()
        progress.end()
    if late:
        log.warning("backfill: the gateway took %d steps late (over %g s each)", late, STEP_WAIT_S)
    booked = (sim.bookings.made if sim.bookings is not None else 0) - booked
    return Result(sim.published, booked, time.perf_counter() - t0, late)


def _wait(sync: Sync, expected: int, stop: threading.Event) -> bool:
    deadline = time.monotonic() + STEP_WAIT_S
    while not sync.caught_up(expected):
        if stop.is_set() or time.monotonic() > deadline:
            return False
        time.sleep(0.0005)
    return True
