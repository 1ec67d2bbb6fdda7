"""The portfolio across two sites in one store (SQLite, and PostgreSQL when configured).

Two real Gateways (fake clock, real pipeline and engine) for two sites with the same space
and device ids but different business hours write into one database; either one's
``/api/v1/portfolio`` reports both, each with its own hours, from the store alone.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from gateway.app import create_app
from gateway.ingest import RawMessage
from gateway.runtime import Gateway
from gateway.settings import load_settings
from tests.support import FIXTURES

T0 = 1_764_320_400.0  # Fri 2025-11-28 09:00 UTC = 10:00 in Amsterdam; a multiple of 900
TOKEN = "portfolio-token"
NORTH, SOUTH = "site-north", "site-south"


class Clock:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def building(tmp: Path, site: str, hours: str) -> Path:
    text = (FIXTURES / "building-small.yaml").read_text()
    text = text.replace("id: test-site", f"id: {site}").replace('"00:00-24:00"', f'"{hours}"')
    path = tmp / f"{site}.yaml"
    path.write_text(text)
    return path


Site = tuple[Gateway, TestClient]


@pytest.fixture
def sites(db_url: str, tmp_path: Path) -> Iterator[tuple[Clock, Site, Site]]:
    clock = Clock(T0)
    made: list[Site] = []
    # north is open all day; south only 10:00-11:00 local (09:00-10:00 UTC)
    for site, hours in ((NORTH, "00:00-24:00"), (SOUTH, "10:00-11:00")):
        settings = load_settings(
            database_url=db_url,
            building=building(tmp_path, site, hours),
            admin_token=TOKEN,
            occupancy={"idle_after_s": 900, "bin_s": 900, "sensor_stale_s": 86_400},
            mqtt={"client_id": "gateway"},
        )
        g = Gateway(settings, clock=clock)
        client = TestClient(create_app(g, manage=False))
        client.headers["Authorization"] = f"Bearer {TOKEN}"
        made.append((g, client))
    yield clock, made[0], made[1]
    for g, _ in made:
        g.db.dispose()


def count(g: Gateway, clock: Clock, device: str, n: int, mid: int) -> None:
    payload = json.dumps({"count": n}).encode()
    g.pipeline.process([RawMessage(f"ref/counter/{device}", payload, clock.t, qos=1, mid=mid)])


def at(gws: list[Gateway], clock: Clock, to: float) -> None:
    while clock.t < to:
        clock.t = min(to, clock.t + 60)
        for g in gws:
            g.live.tick(clock.t)


def get(client: TestClient, path: str, **params: Any) -> Any:
    r = client.get(path, params=params)
    assert r.status_code == 200, r.text
    return r.json()


def iso(t: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(t, UTC).isoformat()


def test_portfolio_reports_every_site_in_the_store(sites: tuple[Clock, Site, Site]) -> None:
    clock, (north, nc), (south, sc) = sites
    # north: orion 4 people 09:00-09:30, lounge 10 people 09:00-10:00
    # south: lounge 5 people 09:00-10:30 (its hours end at 10:00 UTC)
    count(north, clock, "pc-orion", 4, 1)
    count(north, clock, "pc-lounge", 10, 2)
    count(south, clock, "pc-lounge", 5, 1)
    at([north, south], clock, T0 + 1800)
    count(north, clock, "pc-orion", 0, 3)
    at([north, south], clock, T0 + 3600)
    count(north, clock, "pc-lounge", 0, 4)
    at([north, south], clock, T0 + 5400)
    count(south, clock, "pc-lounge", 0, 2)
    at([north, south], clock, T0 + 7200)
    for g in (north, south):
        g.keeper.save()

    q = {"from": iso(T0), "to": iso(T0 + 7200)}
    body = get(nc, "/api/v1/portfolio", **q)
    assert body["count"] == 2 and body["start"].startswith("2025-11-28T09:00")
    rows = {r["site"]: r for r in body["data"]}
    assert set(rows) == {NORTH, SOUTH}
    n, s = rows[NORTH], rows[SOUTH]
    assert (n["spaces"], n["capacity"], s["spaces"]) == (8, 66, 8)  # 8+1+12+4+4+20+15+2 seats
    # north: (1800 + 3600) occupied of 8 x 7200 s = 9.375 %; avg (4x1800 + 10x3600) / 7200
    # = 6 people over the counted seats (orion 8 + lounge 15) = 26.09 %; peak 4 + 10 at 09:00
    assert (n["available_s"], n["time_used_pct"]) == (8 * 7200, 9.38)
    assert (n["avg_occupancy"], n["avg_utilization_pct"], n["peak_occupancy"]) == (6.0, 26.09, 14)
    # south is open one hour: 3600 occupied of 8 x 3600 s = 12.5 %; 5 people of 15 seats
    assert (s["available_s"], s["time_used_pct"]) == (8 * 3600, 12.5)
    assert (s["avg_occupancy"], s["avg_utilization_pct"], s["peak_occupancy"]) == (5.0, 33.33, 5)
    assert n["hours_known"] and s["hours_known"]
    # each site's figures are what its own gateway reports from its building file
    for row, client in ((n, nc), (s, sc)):
        (own,) = get(client, "/api/v1/utilization", group_by="site", **q)["data"]
        for key in ("time_used_pct", "coverage_pct", "avg_occupancy", "peak_occupancy", "band"):
            assert row[key] == own[key], key
        idle = {f["id"] for f in get(client, "/api/v1/idle", idle="true")["data"]}
        assert set(row["idle_now"]) == idle and row["idle_spaces_now"] == len(idle)
    # north is open: orion and lounge have been vacant for more than 900 s; south is closed
    assert (sorted(n["idle_now"]), s["idle_now"]) == (["lounge", "orion"], [])
    # the other gateway reads the same store and answers the same
    assert get(sc, "/api/v1/portfolio", **q)["data"] == body["data"]


def test_portfolio_needs_a_staff_token(sites: tuple[Clock, Site, Site]) -> None:
    _, (_, nc), _ = sites
    assert nc.get("/api/v1/portfolio", headers={"Authorization": "Bearer nope"}).status_code == 401
    bad = nc.get("/api/v1/portfolio", params={"from": iso(T0), "to": iso(T0 - 1)})
    assert bad.status_code == 422
