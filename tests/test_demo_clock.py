"""``gateway demo`` runs the whole gateway on the simulator's clock; ``gateway run`` on the wall.

The clock is one callable handed to the composition root: these tests build the real
gateway on a :class:`SimClock` and watch the engine, the ticker and the API follow it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from gateway.building import load_building
from gateway.cli import main
from gateway.clock import wall_seconds
from gateway.runtime import Gateway
from gateway.settings import load_settings
from gateway.simulate import demo
from gateway.simulate.clock import SimClock
from tests.support import ROOT, Broker, Publisher, wait_for

AMS = ZoneInfo("Europe/Amsterdam")
BUILDING = ROOT / "examples" / "building.yaml"


class FakeWall:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_sim_clock_holds_then_runs_at_its_speed_and_never_goes_back() -> None:
    wall = FakeWall()
    clock = SimClock(5_000.0, 60.0, wall=wall)
    wall.t += 10
    assert clock() == 5_000.0 and not clock.running  # held: wall time passes, it does not
    clock.hold(6_000.0)
    clock.hold(5_500.0)  # never backwards
    assert clock() == 6_000.0
    clock.run()
    wall.t += 2.5
    assert clock() == 6_000.0 + 2.5 * 60
    assert wall_seconds(clock, 900.0) == 15.0
    assert wall_seconds(time.time, 900.0) == 900.0  # `gateway run`: wall seconds as they are


@pytest.mark.parametrize("speed", ["0", "-5", "nan"])
def test_demo_refuses_a_speed_that_is_no_speed(
    speed: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--speed", speed]) == 2
    assert "--speed must be above 0" in capsys.readouterr().err


def test_demo_clamps_an_absurd_speed_and_says_so() -> None:
    assert demo.check_speed(1e9) == (demo.MAX_SPEED, demo.check_speed(1e9)[1])
    assert "running at 3600x" in str(demo.check_speed(math.inf)[1])
    assert demo.check_speed(60.0) == (60.0, None)
    assert demo.check_speed(0.001)[0] == demo.MIN_SPEED


def test_demo_refuses_negative_history(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--history-days", "-1"]) == 2
    assert "--history-days must be 0 to 60" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("wall", "live"),
    [
        # the Wednesday 06:20 UTC (07:20 in Amsterdam, before opening): Tuesday 10:00
        ("2026-12-09T06:20:00+00:00", "2026-12-08T10:00:00+01:00"),
        ("2026-12-09T14:00:00+01:00", "2026-12-09T10:00:00+01:00"),  # the same morning
        ("2026-12-13T03:00:00+01:00", "2026-12-11T10:00:00+01:00"),  # Sunday night: Friday
        ("2026-12-12T15:00:00+01:00", "2026-12-11T10:00:00+01:00"),  # Saturday: a weekday
    ],
)
def test_the_demo_goes_live_on_a_busy_weekday_morning_whatever_the_hour(
    wall: str, live: str
) -> None:
    building = load_building(BUILDING)
    got = demo.live_start(building, datetime.fromisoformat(wall).timestamp())
    assert datetime.fromtimestamp(got, AMS) == datetime.fromisoformat(live)


@pytest.fixture
def demo_gateway(broker: Broker, tmp_path: Path) -> Iterator[tuple[Gateway, SimClock]]:
    building = load_building(BUILDING)
    live = demo.live_start(building, datetime(2026, 11, 25, 12, tzinfo=AMS).timestamp())
    clock = SimClock(live, 600.0)
    settings = load_settings(
        database_url=f"sqlite:///{tmp_path / 'demo.db'}",
        building=BUILDING,
        mqtt={"url": broker.url, "client_id": f"clock-{time.monotonic_ns()}"},
        access={"key_dir": str(tmp_path / "keys")},
        ingest={"writer_process": False},
    )
    gw = Gateway(settings, clock=clock)
    gw.start()
    wait_for(gw.transport.connected.is_set)
    yield gw, clock
    gw.stop()


def test_the_engine_on_the_demo_clock_reports_idle_after_idle_after_simulated_seconds(
    demo_gateway: tuple[Gateway, SimClock], broker: Broker
) -> None:
    gw, clock = demo_gateway
    idle_after = gw.settings.occupancy.idle_after_s  # 900 s: 1.5 wall seconds at 600x
    pub = Publisher(broker.port, client_id=f"clock-pub-{time.monotonic_ns()}")
    try:
        pub.publish("ref/occupancy/f1-desk-01-sensor", {"presence": False})
        wait_for(lambda: gw.live.space_view("f1-desk-01", clock()).state == "vacant", 10)
        clock.run()
        t0 = time.monotonic()
        vacant_since = gw.live.space_view("f1-desk-01", clock()).since
        seen: list[tuple[float, bool]] = []  # (simulated time, idle) as the test polls

        def idle_now() -> bool:
            now = clock()
            seen.append((now, gw.live.space_view("f1-desk-01", now).idle))
            return seen[-1][1]

        wait_for(idle_now, 10, interval=0.005)
    finally:
        pub.close()
    became = seen[-1][0] - vacant_since
    before = [t - vacant_since for t, idle in seen if not idle]
    # idle once idle_after simulated seconds have passed, not before (on the wall clock the
    # space would stay merely vacant for 15 minutes)
    assert idle_after <= became < idle_after + 30
    assert before and max(before) < idle_after + 5
    # ... which took about idle_after / speed wall seconds, not idle_after
    assert time.monotonic() - t0 < 10
    assert gw.clock is clock and gw.started_at <= vacant_since
