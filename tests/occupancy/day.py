"""A scripted working day on a fake clock, for the engine's correctness tests.

Site Europe/Amsterdam, open Mon-Fri 08:00-18:00 (36,000 s a day); Wednesday 4 March 2026
(CET, UTC+1). Spaces: ``orion`` (meeting room, 8 seats, people counter), ``focus`` (meeting
room, 4 seats, PIR only), ``booth`` (phone booth, presence sensor with availability).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

from gateway.building import Building, BusinessHours, DeviceBinding, Floor, Site, Space
from gateway.events import Event, kind_of
from gateway.occupancy import OccupancyEngine
from gateway.occupancy.accumulate import EngineOutput
from gateway.settings import OccupancySettings

AMS = ZoneInfo("Europe/Amsterdam")
OPEN_DAY = ((8 * 60, 18 * 60),)
HOURS = BusinessHours(AMS, (OPEN_DAY,) * 5 + ((), ()))
BUSINESS_S = 36_000.0


def L(h: int, m: int = 0, s: int = 0) -> float:
    """Epoch of a local time on the scripted day."""
    return datetime(2026, 3, 4, h, m, s, tzinfo=AMS).timestamp()


def building() -> Building:
    site = Site("s1", "Scripted", "Europe/Amsterdam", AMS, HOURS)
    orion = Space("orion", "Orion", "meeting_room", 8, True, "f1")
    focus = Space("focus", "Focus", "meeting_room", 4, True, "f1")
    booth = Space("booth", "Booth", "phone_booth", 1, False, "f2")
    devices = {
        d.id: d
        for d in (
            DeviceBinding("pc-orion", "ref-counter", "orion"),
            DeviceBinding("pir-focus", "zigbee2mqtt", "focus"),
            DeviceBinding("mm-booth", "zigbee2mqtt", "booth"),
        )
    }
    return Building(
        site,
        (Floor("f1", "One", (orion, focus)), Floor("f2", "Two", (booth,))),
        {s.id: s for s in (orion, focus, booth)},
        devices,
    )


def settings() -> OccupancySettings:
    return OccupancySettings(
        motion_timeout_s=300, idle_after_s=900, sensor_stale_s=86_400, bin_s=900
    )


def ev(device: str, space: str, ts: float, quantity: str, value: object) -> Event:
    return Event("s1", device, space, ts, kind_of(quantity), quantity, value)  # type: ignore[arg-type]


#: (arrival time, event). Arrival differs from the event's own time for late messages.
SCRIPT: list[tuple[float, Event]] = [
    # before opening: every sensor says "nobody"
    (L(7, 30), ev("pc-orion", "orion", L(7, 30), "people_count", 0)),
    (L(7, 50), ev("mm-booth", "booth", L(7, 50), "presence", False)),
    (L(7, 55), ev("pir-focus", "focus", L(7, 55), "motion", False)),
    # 09:00-10:00 meeting in orion: 2 people, a third joins at 09:40
    (L(9, 0), ev("pc-orion", "orion", L(9, 0), "people_count", 2)),
    (L(9, 40), ev("pc-orion", "orion", L(9, 40), "people_count", 3)),
    (L(10, 0), ev("pc-orion", "orion", L(10, 0), "people_count", 0)),
    # out of order: a count taken at 09:50 arrives after the 10:00 one -> ignored
    (L(10, 1), ev("pc-orion", "orion", L(9, 50), "people_count", 3)),
    # focus: someone works 11:00-11:06, motion every 3 min -> occupied until 11:11
    (L(11, 0), ev("pir-focus", "focus", L(11, 0), "motion", True)),
    (L(11, 3), ev("pir-focus", "focus", L(11, 3), "motion", True)),
    (L(11, 6), ev("pir-focus", "focus", L(11, 6), "motion", True)),
    # lunch in orion 12:00-12:30, 2 people
    (L(12, 0), ev("pc-orion", "orion", L(12, 0), "people_count", 2)),
    (L(12, 30), ev("pc-orion", "orion", L(12, 30), "people_count", 0)),
    # booth: a call 14:00; the sensor drops off mid-call at 14:20, back (empty) at 15:00
    (L(14, 0), ev("mm-booth", "booth", L(14, 0), "presence", True)),
    (L(14, 20), ev("mm-booth", "booth", L(14, 20), "online", False)),
    (L(15, 0), ev("mm-booth", "booth", L(15, 0), "presence", False)),
    # a bridge batches: motion at 14:00 arrives at 14:02 -> occupied 14:02 .. 14:05
    (L(14, 2), ev("pir-focus", "focus", L(14, 0), "motion", True)),
    # motion at 15:00 arriving at 15:06, after its own timeout -> stays vacant
    (L(15, 6), ev("pir-focus", "focus", L(15, 0), "motion", True)),
]

BOOKINGS = {
    "orion": [("b-orion", L(9, 0), L(10, 0), True)],  # attended
    "focus": [("b-focus", L(13, 0), L(14, 0), True)],  # nobody came
    "booth": [("b-booth", L(14, 30), L(15, 0), True)],  # sensor offline: cannot tell
}


def run(
    until: float, engine: OccupancyEngine | None = None, start: float | None = None
) -> Iterator[tuple[float, OccupancyEngine, EngineOutput]]:
    """Drive the script minute by minute (ticks at every minute and every arrival).

    Yields (now, engine, output drained at that instant) after each step.
    """
    t = L(7, 0) if start is None else start
    if engine is None:
        engine = OccupancyEngine(building(), settings(), t, grace_s=600)
        for sid, windows in BOOKINGS.items():
            engine.set_bookings(sid, windows, t)
    pending = sorted((a, i, e) for i, (a, e) in enumerate(SCRIPT) if a >= t)
    k = 0
    while t <= until:
        while k < len(pending) and pending[k][0] <= t:
            engine.tick(pending[k][0])
            engine.apply(pending[k][2], pending[k][0])
            k += 1
        engine.tick(t)
        yield t, engine, engine.drain()
        t += 60
