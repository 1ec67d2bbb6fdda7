"""The demo's history and first minutes, through the real gateway: broker, ingest, engine,
rollups, the HTTP bookings API and the member services, on one simulated clock.

One simulated day is backfilled (the demo's default is fourteen; one is enough to fill the
heatmap and make recommendations, and keeps the test quick), then the clock runs at 600x.
"""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import uvicorn

from gateway.app import create_app
from gateway.building import load_building
from gateway.runtime import Gateway
from gateway.settings import load_settings
from gateway.simulate import demo
from gateway.simulate.clock import SimClock
from gateway.simulate.simulator import Simulator
from tests.support import ROOT, Broker, free_port, wait_for

AMS = ZoneInfo("Europe/Amsterdam")
BUILDING = ROOT / "examples" / "building.yaml"
DAY = 86_400.0


class Demo:
    def __init__(self, gw: Gateway, clock: SimClock, live: float, sim: Simulator, out: str):
        self.gw, self.clock, self.live, self.sim, self.out = gw, clock, live, sim, out


@pytest.fixture(scope="module")
def played(broker: Broker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    tmp = tmp_path_factory.mktemp("demo")
    # a Wednesday lunchtime on the wall clock: the demo goes live that morning at 10:00
    live = demo.live_start(
        load_building(BUILDING), datetime(2026, 11, 25, 12, tzinfo=AMS).timestamp()
    )
    clock = SimClock(live - DAY, 600.0)
    port = free_port()
    settings = load_settings(
        database_url=f"sqlite:///{tmp / 'demo.db'}",
        building=BUILDING,
        mqtt={"url": broker.url, "client_id": f"demo-{time.monotonic_ns()}"},
        api={"port": port},
        access={"key_dir": str(tmp / "keys")},
        ingest={"writer_process": False},
    )
    gw = Gateway(settings, clock=clock)
    server = uvicorn.Server(uvicorn.Config(create_app(gw), port=port, log_level="warning"))
    serving = threading.Thread(target=server.run, daemon=True)
    serving.start()
    stop, out = threading.Event(), io.StringIO()
    try:
        sim = demo.run(
            gw,
            clock,
            broker_url=broker.url,
            api_url=f"http://127.0.0.1:{port}/",
            api_up=lambda: server.started,
            stop=stop,
            live_at=live,
            out=out,
        )
        running = threading.Thread(target=sim.run, args=(stop,), daemon=True)
        running.start()
        yield Demo(gw, clock, live, sim, out.getvalue())
    finally:
        stop.set()
        server.should_exit = True
        serving.join(timeout=30)


def test_the_backfill_went_through_the_pipeline_into_the_store(played: Demo) -> None:
    gw, live = played.gw, played.live
    stats = gw.pipeline.stats
    assert played.sim.published > 4000
    assert stats.committed >= played.sim.published - 100  # nearly all: some topics unread
    assert gw.writer.events_stored > 10_000 and stats.applied == stats.handed_on
    assert "backfilled 1 simulated days" in played.out and " s\n" in played.out
    heat = gw.readmodel.heatmap(live - DAY, live)
    cells = [c for row in heat.rows for c in row["cells"] if c]
    assert len(cells) > 100 and max(cells) > 50  # a filled heatmap, busy hours included
    rows = gw.readmodel.utilization(live - DAY, live).rows  # the day rollups
    assert len(rows) == len(gw.building.spaces)
    assert sum(1 for r in rows if r["time_used_pct"]) > len(rows) // 2


def test_the_backfill_leaves_recommendations_with_their_figures(played: Demo) -> None:
    recs = played.gw.readmodel.recommendations(played.live, 1).data
    kinds = {r["kind"] for r in recs}
    assert {"chronic_underuse", "right_size"} <= kinds, kinds
    assert all(r["figures"] for r in recs if r["kind"] in ("chronic_underuse", "right_size"))


def test_history_has_bookings_kept_and_ghosts_released(played: Demo) -> None:
    bookings, live = played.gw.services.bookings, played.live
    rows, total = bookings.query(start=live - DAY, end=live, limit=500)
    assert total > 10  # made through the bookings API by the simulated people
    assert len({r["space"] for r in rows}) >= 5 and len({r["member"] for r in rows}) >= 3
    outcomes = {r["outcome"] for r in rows}
    assert "checked_in" in outcomes and "ghost" in outcomes, outcomes
    rate = bookings.no_show(live - DAY, live)["rate"]
    assert rate is not None and 0 < rate < 0.5


def test_the_first_live_minutes_show_a_ghost_release_a_jam_and_co2(played: Demo) -> None:
    gw, live = played.gw, played.live
    services = gw.services
    wait_for(lambda: services.alerts.query(active=True, kind="printer_jam")[1], 20)
    released = wait_for(
        lambda: [
            r
            for r in services.bookings.query(status="released", start=live, limit=50)[0]
            if r["start"] >= live
        ],
        20,
    )
    grace = gw.settings.bookings.grace_s
    # released on the simulated clock's time: soon after its grace deadline (the hand-offs
    # from engine to services take some wall milliseconds, each 0.6 simulated s at 600x),
    # not a wall-clock tick or poll late (one wall second is 600 simulated seconds)
    assert grace <= min(r["released_at"] - r["start"] for r in released) < grace + 300
    wait_for(lambda: services.alerts.query(active=True, kind="co2_high")[1], 30)
    orders, n = services.orders.query(status="open")
    assert n and {"printer_jam", "co2_high"} <= {o["kind"] for o in orders}
