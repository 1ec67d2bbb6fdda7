"""The engine's endpoints on a real Gateway (fake clock, real SQLite store, real pipeline)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from gateway.api.routes import events as events_route
from gateway.app import create_app
from gateway.ingest import RawMessage
from gateway.runtime import Gateway
from gateway.settings import load_settings
from tests.support import FIXTURES

T0 = 1_764_320_400.0  # 2025-11-28 09:00:00 UTC; a multiple of 900: bins start here
TOKEN = "api-test-token"


class Clock:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def gw(db_url: str) -> Iterator[tuple[Gateway, Clock, TestClient]]:
    """A gateway on each store backend (SQLite, and PostgreSQL when one is configured)."""
    clock = Clock(T0)
    settings = load_settings(
        database_url=db_url,
        building=FIXTURES / "building-small.yaml",
        admin_token=TOKEN,
        # counters report on change: keep them "reporting" for the whole scripted day
        occupancy={"idle_after_s": 900, "bin_s": 900, "sensor_stale_s": 86_400},
    )
    g = Gateway(settings, clock=clock)
    client = TestClient(create_app(g, manage=False))
    client.headers["Authorization"] = f"Bearer {TOKEN}"
    yield g, clock, client
    g.db.dispose()


def count(g: Gateway, clock: Clock, device: str, n: int, mid: int) -> None:
    """A people count through the real decode-bind-commit-apply path, received now."""
    payload = json.dumps({"count": n}).encode()
    g.pipeline.process([RawMessage(f"ref/counter/{device}", payload, clock.t, qos=1, mid=mid)])


def advance(g: Gateway, clock: Clock, to: float) -> None:
    while clock.t < to:
        clock.t = min(to, clock.t + 60)
        g.live.tick(clock.t)


def iso(t: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(t, UTC).isoformat()


def day(g: Gateway, clock: Clock) -> None:
    """Orion: 4 people 09:00-09:30, empty after; lounge: 10 people 09:00-10:00."""
    count(g, clock, "pc-orion", 4, 1)
    count(g, clock, "pc-lounge", 10, 2)
    advance(g, clock, T0 + 1800)
    count(g, clock, "pc-orion", 0, 3)
    advance(g, clock, T0 + 3600)
    count(g, clock, "pc-lounge", 0, 4)
    advance(g, clock, T0 + 7200)
    g.keeper.save()


def get(client: TestClient, path: str, **params: Any) -> Any:
    r = client.get(path, params=params)
    assert r.status_code == 200, r.text
    return r.json()


def test_endpoints_need_the_token(gw: tuple[Gateway, Clock, TestClient]) -> None:
    _, _, client = gw
    for path in (
        "/api/v1/utilization",
        "/api/v1/spaces/orion/utilization",
        "/api/v1/idle",
        "/api/v1/idle/episodes",
        "/api/v1/recommendations",
        "/api/v1/events",
    ):
        assert client.get(path, headers={"Authorization": "Bearer nope"}).status_code == 401
        assert client.get(path).status_code == 200


def test_space_utilization(gw: tuple[Gateway, Clock, TestClient]) -> None:
    g, clock, client = gw
    day(g, clock)
    body = get(
        client, "/api/v1/spaces/orion/utilization", **{"from": iso(T0), "to": iso(T0 + 7200)}
    )
    (row,) = body["data"]
    # open all day: 7200 s available; occupied 1800 s -> 25 %; 4 x 1800 = 7200 person-s
    # -> average occupancy 1.0, / 8 seats = 12.5 % (under the 60 % band); peak 4 -> 50 %
    assert body["available_s"] == 7200
    assert row["time_used_pct"] == 25.0
    assert row["avg_occupancy"] == 1.0
    assert row["avg_utilization_pct"] == 12.5
    assert (row["peak_occupancy"], row["peak_utilization_pct"], row["band"]) == (4, 50.0, "under")
    assert client.get("/api/v1/spaces/nope/utilization").status_code == 404
    bad = client.get("/api/v1/utilization", params={"from": iso(T0), "to": iso(T0 - 1)})
    assert bad.status_code == 422


def test_grouped_utilization(gw: tuple[Gateway, Clock, TestClient]) -> None:
    g, clock, client = gw
    day(g, clock)
    q = {"from": iso(T0), "to": iso(T0 + 7200)}
    by_space = {r["id"]: r for r in get(client, "/api/v1/utilization", **q)["data"]}
    assert by_space["lounge"]["time_used_pct"] == 50.0  # 3600 of 7200
    # lounge 10 people for 3600 s of 7200 -> avg 5, / 15 seats = 33.33 %
    assert by_space["lounge"]["avg_utilization_pct"] == 33.33
    floors = {r["id"]: r for r in get(client, "/api/v1/utilization", group_by="floor", **q)["data"]}
    # floor 1 has 5 spaces, only orion was occupied: 1800 / (5 x 7200) = 5 %
    assert floors["1"]["time_used_pct"] == 5.0
    # floor 2 (open-2, lounge, unwired): 3600 / (3 x 7200) = 16.67 %; peak 10 of lounge
    assert floors["2"]["time_used_pct"] == 16.67
    assert floors["2"]["peak_occupancy"] == 10
    types = {r["id"]: r for r in get(client, "/api/v1/utilization", group_by="type", **q)["data"]}
    assert types["meeting_room"]["spaces"] == 2
    site = get(client, "/api/v1/utilization", group_by="site", **q)["data"]
    # (1800 + 3600) / (8 spaces x 7200) = 9.375 %
    assert [(r["id"], r["time_used_pct"]) for r in site] == [("test-site", 9.38)]


def test_idle_now_and_episodes(gw: tuple[Gateway, Clock, TestClient]) -> None:
    g, clock, client = gw
    day(g, clock)
    free = {f["id"]: f for f in get(client, "/api/v1/idle")["data"]}
    # orion vacant since 09:30, idle since then (900 s passed); lounge since 10:00
    assert free["orion"]["vacant_since"].startswith("2025-11-28T09:30:00")
    assert free["orion"]["idle"] and free["orion"]["idle_since"].startswith("2025-11-28T09:30")
    assert free["lounge"]["idle_since"].startswith("2025-11-28T10:00")
    assert "open-2" not in free  # no occupancy sensor: unknown, never free
    idle_only = get(client, "/api/v1/idle", idle="true")["data"]
    assert {f["id"] for f in idle_only} == {"orion", "lounge"}
    eps = get(client, "/api/v1/idle/episodes", space="orion")["data"]
    assert [(e["start"][:19], e["end"]) for e in eps] == [("2025-11-28T09:30:00", None)]
    count(g, clock, "pc-orion", 2, 5)  # someone comes in: the episode closes
    g.keeper.save()
    (ep,) = get(client, "/api/v1/idle/episodes", space="orion")["data"]
    assert ep["duration_s"] == 5400  # 09:30 -> 11:00


def test_events_filters_and_paging(gw: tuple[Gateway, Clock, TestClient]) -> None:
    g, clock, client = gw
    day(g, clock)
    body = get(client, "/api/v1/events", space="orion")
    assert body["total"] == 2
    assert [e["value"] for e in body["data"]] == [0, 4]  # newest first
    page = get(client, "/api/v1/events", quantity="people_count", limit=1, offset=1)
    assert (page["total"], page["count"]) == (4, 1)
    # newest first: lounge's 0 at T0+3600, then orion's 0 at T0+1800 (offset 1)
    assert (page["data"][0]["device"], page["data"][0]["value"]) == ("pc-orion", 0)
    win = get(client, "/api/v1/events", **{"from": iso(T0 + 1), "to": iso(T0 + 3600)})
    assert [e["value"] for e in win["data"]] == [0]
    assert get(client, "/api/v1/events", kind="door")["total"] == 0
    assert get(client, "/api/v1/events", device="pc-lounge")["total"] == 2
    assert body["total_exact"] and page["total_exact"]


def test_events_total_is_counted_up_to_its_cap(
    gw: tuple[Gateway, Clock, TestClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past the cap the total stops at it and says so; the page itself is whole."""
    g, clock, client = gw
    day(g, clock)
    n = get(client, "/api/v1/events", quantity="people_count")["total"]
    assert n == 4
    monkeypatch.setattr(events_route, "TOTAL_CAP", 3)
    capped = get(client, "/api/v1/events", quantity="people_count", limit=10)
    assert (capped["total"], capped["total_exact"], capped["count"]) == (3, False, 4)
    monkeypatch.setattr(events_route, "TOTAL_CAP", 4)  # exactly at the cap: still exact
    at = get(client, "/api/v1/events", quantity="people_count")
    assert (at["total"], at["total_exact"]) == (4, True)


def test_recommendations_and_ghost_bookings(gw: tuple[Gateway, Clock, TestClient]) -> None:
    g, clock, client = gw
    count(g, clock, "pc-orion", 0, 1)  # orion observed empty
    count(g, clock, "pc-lounge", 3, 2)  # lounge in use
    g.live.set_bookings("orion", [("bk-1", T0 + 600, T0 + 1200, True)], clock.t)
    g.live.set_bookings("lounge", [("bk-2", T0 + 600, T0 + 1200, True)], clock.t)
    g.live.set_bookings("desk-area", [("bk-3", T0 + 600, T0 + 1200, True)], clock.t)
    advance(g, clock, T0 + 1260)  # grace 600 s: decided at T0 + 1200
    g.keeper.save()
    body = get(client, "/api/v1/recommendations", days=1)
    recs = {(r["space"], r["kind"]): r for r in body["data"]}
    # orion: empty through the grace period -> release; lounge: occupied -> checked in;
    # desk-area: no sensor ever spoke (unknown) -> cannot tell, not released
    assert recs[("orion", "release_booking")]["figures"]["booking"] == "bk-1"
    assert ("desk-area", "unverified_booking") in recs
    assert not any(space == "lounge" for space, _ in recs)
    assert body["no_show"] == {
        "required_checkin": 2,
        "released": 1,
        "checked_in": 1,
        "unverified": 1,
        "rate": 0.5,
    }


def test_health_tells_the_gateway_clock(gw: tuple[Gateway, Clock, TestClient]) -> None:
    """The dashboard reads "now" and the clock's speed from health: a demo's clock runs faster."""
    g, clock, client = gw
    clock.t = T0 + 5400.5
    body = client.get("/api/v1/health").json()
    assert body["now"].replace("Z", "+00:00") == iso(T0 + 5400.5)
    assert body["clock_speed"] == 1.0
    clock.speed = 60.0  # type: ignore[attr-defined]  # as gateway.simulate.clock.SimClock has
    assert client.get("/api/v1/health").json()["clock_speed"] == 60.0


def test_a_capped_count_of_a_select_without_a_where_counts_its_rows(
    gw: tuple[Gateway, Clock, TestClient],
) -> None:
    from sqlalchemy import select
    from sqlmodel import Session

    from gateway.api.paging import count_rows
    from gateway.store.tables import Event

    g, clock, _ = gw
    day(g, clock)
    with Session(g.db) as s:
        n = count_rows(s, select(Event))
        assert n > 1
        assert count_rows(s, select(Event), cap=n + 5) == n
        assert count_rows(s, select(Event), cap=2) == 2
