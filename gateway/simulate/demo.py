"""``gateway demo``: the gateway and the simulator on one simulated clock, history first.

The demo's simulated "now" is two hours after opening on the latest weekday the site has
been open by then (:func:`live_start`), whatever the wall clock says, so the building is
busy whenever the demo is started. The gateway is built on a :class:`SimClock` held
``backfill.DAYS`` before that; the backfill plays those days through the broker, the
showcase sets up the first live minutes, and the clock runs on at ``speed``.
"""

from __future__ import annotations

import logging
import math
import sys
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any, Protocol, TextIO

from paho.mqtt.client import topic_matches_sub

from gateway.building import Building
from gateway.simulate import backfill
from gateway.simulate.booking_api import BookingApi
from gateway.simulate.bookings import bookable_rooms
from gateway.simulate.clock import SimClock
from gateway.simulate.showcase import showcase
from gateway.simulate.simulator import Simulator

log = logging.getLogger(__name__)

MIN_SPEED, MAX_SPEED = 1.0, 3600.0
LIVE_AFTER_OPENING_S = 2 * 3600


def check_speed(speed: float) -> tuple[float | None, str | None]:
    """(the speed to run at, or None to refuse; what to tell the operator, if anything)."""
    if math.isnan(speed) or speed <= 0:
        return None, f"--speed must be above 0 (simulated seconds per second), not {speed:g}"
    if speed > MAX_SPEED:
        return MAX_SPEED, f"--speed {speed:g} is too fast to follow; running at {MAX_SPEED:g}x"
    if speed < MIN_SPEED:
        return MIN_SPEED, f"--speed {speed:g} is slower than real time; running at {MIN_SPEED:g}x"
    return speed, None


def fresh_store(path: Path) -> str:
    """The demo's own SQLite store at ``path``, emptied: each demo writes its history anew."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{path}"


def live_start(building: Building, now: float | None = None) -> float:
    """Two hours after opening (or shortly before closing, on a short day) on the latest
    weekday the site has reached that time by ``now`` (the wall clock): a weekday morning in
    full swing. Without open weekdays the latest open day's; never open at all: ``now``."""
    site = building.site
    wall = time.time() if now is None else now
    day = datetime.fromtimestamp(wall, site.tz).date()
    fallback: float | None = None
    for _ in range(15):
        spans = site.business_hours.spans_on(day)
        if spans:
            midnight = datetime.combine(day, dtime(0), site.tz).timestamp()
            opens, closes = midnight + spans[0][0] * 60, midnight + spans[0][1] * 60
            at = min(opens + LIVE_AFTER_OPENING_S, max(opens, closes - 600))
            if at <= wall and day.weekday() < 5:
                return at
            if at <= wall and fallback is None:
                fallback = at
        day -= timedelta(days=1)
    return wall if fallback is None else fallback


def gaps(building: Building) -> list[str]:
    """What the building file lacks for part of the demo, as lines for the operator."""
    said = []
    if not bookable_rooms(building):
        said.append("no bookable meeting rooms: no bookings, ghost releases or no-show rate")
    kinds = {d.profile for d in building.devices.values()}
    if not building.devices:
        said.append("no devices at all: nothing is measured, every space stays unknown")
    if "ref-printer" not in kinds:
        said.append("no printers (ref-printer): no paper jams or print release")
    return said


class Parts(Protocol):
    """The parts of the composed gateway the demo drives (``gateway.runtime.Gateway``)."""

    @property
    def building(self) -> Building: ...
    @property
    def transport(self) -> Any: ...  # connected, topics
    @property
    def pipeline(self) -> Any: ...  # stats
    @property
    def services(self) -> Any: ...  # periodic_soon, drain
    @property
    def keeper(self) -> Any: ...
    @property
    def lifecycle(self) -> Any: ...  # tick
    @property
    def admin_token(self) -> str: ...
    @property
    def settings(self) -> Any: ...  # occupancy.motion_timeout_s


def sync_with(gw: Parts) -> backfill.Sync:
    """How the backfill follows this gateway: its subscriptions and ingest counters; after
    each step the engine ticks and the member services run their checks (check-ins by
    presence, completed bookings) before the clock moves on."""
    stats, filters = gw.pipeline.stats, list(gw.transport.topics)
    committed0 = stats.committed

    def caught_up(n: int) -> bool:
        return bool(stats.committed - committed0 >= n and stats.applied >= stats.handed_on)

    def tick() -> None:
        gw.lifecycle.tick()
        gw.services.periodic_soon()
        gw.services.drain(backfill.STEP_WAIT_S)

    return backfill.Sync(
        takes=lambda topic: any(topic_matches_sub(f, topic) for f in filters),
        caught_up=caught_up,
        tick=tick,
    )


def run(
    gw: Parts,
    clock: SimClock,
    *,
    broker_url: str,
    api_url: str,
    api_up: Callable[[], bool],
    stop: threading.Event,
    live_at: float,
    out: TextIO = sys.stdout,
) -> Simulator:
    """Backfill up to ``live_at``, set up the showcase, run the clock, simulate until ``stop``."""
    gw.transport.connected.wait()
    while not api_up() and not stop.is_set():
        time.sleep(0.05)
    building = gw.building
    sim = Simulator(
        building,
        broker_url,
        speed=clock.speed,
        start=datetime.fromtimestamp(clock(), building.site.tz),
        client_id="gateway-demo-simulator",
        clock=clock,
        bookings=BookingApi(api_url, gw.admin_token),
    )
    for line in gaps(building):
        log.warning("demo: %s; the demo runs with what there is", line)
    days = (live_at - clock()) / 86400
    print(f"demo: backfilling {days:g} simulated days of history through the broker", file=out)
    quiet, level = logging.getLogger("gateway"), logging.getLogger("gateway").level
    quiet.setLevel(max(quiet.getEffectiveLevel(), logging.WARNING))
    try:  # history's alerts and releases are in the store; the terminal shows the bar
        pir_gap = min(backfill.MIN_GAP_S, 0.8 * gw.settings.occupancy.motion_timeout_s)
        got = backfill.backfill(sim, clock, live_at, sync_with(gw), stop, out, pir_gap)
    finally:
        quiet.setLevel(level)
    print(
        f"demo: backfilled {days:g} simulated days ({got.messages} messages, "
        f"{got.bookings} bookings) in {got.wall_s:.1f} s",
        file=out,
        flush=True,
    )
    gw.keeper.save()
    for line in showcase(sim.traffic, clock()):
        print(f"demo: first minutes: {line}", file=out)
    clock.run()
    return sim
