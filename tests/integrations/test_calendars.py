"""Room calendars: real exports (Google, Exchange, Nextcloud/SabreDAV, Thunderbird) served by a
real HTTP server process with ETag support, polled into bookings of a real gateway on a fake
clock. The ICS files and their source: tests/fixtures/ics/SOURCE.md."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.integrations.calendar_server import CalendarServer
from tests.services.conftest import Site, make_site
from tests.support import FIXTURES

ICS = FIXTURES / "ics"
BUILDING = Path(__file__).resolve().parents[1] / "services" / "building.yaml"


def ts(s: str) -> float:
    return datetime.fromisoformat(s).replace(tzinfo=UTC).timestamp()


def utc(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CalendarServer]:
    s = CalendarServer(tmp_path_factory.mktemp("ics") / "www").start()
    yield s
    s.stop()


def building_with(tmp_path: Path, calendars: dict[str, str]) -> Path:
    """The services test building, with ``calendar:`` on the given spaces."""
    text = BUILDING.read_text()
    for space, url in calendars.items():
        text = re.sub(
            rf"(\{{id: {space}, [^}}]*bookable: true)\}}", rf'\1, calendar: "{url}"}}', text
        )
    path = tmp_path / "building.yaml"
    path.write_text(text)
    return path


def calendar_site(
    tmp_path: Path, calendars: dict[str, str], at: float, **settings: Any
) -> Iterator[Site]:
    store = {"database_url": settings.pop("database_url")} if "database_url" in settings else {}
    for site in make_site(
        tmp_path,
        building=building_with(tmp_path, calendars),
        calendars={"horizon_days": 60, "timeout_s": 2, **settings},
        **store,
    ):
        site.clock.t = at
        yield site


def serve(server: CalendarServer, name: str, body: bytes | str) -> str:
    data = body.encode() if isinstance(body, str) else body
    (server.root / name).write_bytes(data)
    return server.url(name)


def bookings(site: Site, space: str) -> list[dict[str, Any]]:
    params = {"space": space, "source": f"ics:{space}", "limit": 500}
    got = site.client.get("/api/v1/bookings", params=params)
    assert got.status_code == 200, got.text
    rows = got.json()["data"]
    assert {b["source"] for b in rows} <= {f"ics:{space}"}
    return list(rows)


def times(rows: list[dict[str, Any]], status: str = "booked") -> list[tuple[str, str]]:
    return [(r["start"][:16], r["end"][:16]) for r in rows if r["status"] == status]


def without_component(text: str, marker: str) -> str:
    """The calendar without the VEVENT holding ``marker`` (its state before that edit)."""
    parts = re.split(r"(?=BEGIN:VEVENT)", text)
    kept = [p for p in parts if not (p.startswith("BEGIN:VEVENT") and marker in p)]
    out = "".join(kept)
    return out if out.rstrip().endswith("END:VCALENDAR") else out + "END:VCALENDAR\r\n"


def test_nextcloud_series_with_exdates_becomes_bookings_and_304_changes_nothing(
    tmp_path: Path, server: CalendarServer, db_url: str
) -> None:
    url = serve(server, "nc.ics", (ICS / "each_week_but_two_deleted.ics").read_bytes())
    at = ts("2019-03-03T12:00")
    for site in calendar_site(tmp_path, {"orion": url}, at, database_url=db_url):
        site.gw.calendars.poll()
        rows = bookings(site, "orion")
        # Mondays 00:30-01:00 Berlin, COUNT=8, 11 and 25 March deleted; CET then CEST
        assert times(rows) == [
            ("2019-03-03T23:30", "2019-03-04T00:00"),
            ("2019-03-17T23:30", "2019-03-18T00:00"),
            ("2019-03-31T22:30", "2019-03-31T23:00"),
            ("2019-04-07T22:30", "2019-04-07T23:00"),
            ("2019-04-14T22:30", "2019-04-14T23:00"),
            ("2019-04-21T22:30", "2019-04-21T23:00"),
        ]
        assert {r["external_id"].split("@")[0] for r in rows} == {"SX2CURHKFTKKFFU3VUD7K"}
        assert all(r["requires_checkin"] and r["member"] == "calendar" for r in rows)
        before = {r["id"]: r for r in rows}

        site.gw.calendars.poll()
        asked = [r for r in server.requests() if r["path"] == "/nc.ics"]
        assert [r["status"] for r in asked][-2:] == [200, 304]
        assert asked[-1]["inm"] and asked[-1]["ims"]  # the validators of the first answer
        assert {r["id"]: r for r in bookings(site, "orion")} == before
        feed = site.client.get("/api/v1/health").json()["calendars"]["orion"]
        assert (feed["state"], feed["errors"], feed["polls"], feed["occurrences"]) == (
            "ok", 0, 2, 6,
        )  # fmt: skip


def test_a_calendar_booking_nobody_comes_to_is_released_as_a_ghost(
    tmp_path: Path, server: CalendarServer
) -> None:
    url = serve(server, "ghost.ics", (ICS / "each_week_but_two_deleted.ics").read_bytes())
    for site in calendar_site(tmp_path, {"orion": url}, ts("2019-03-03T23:20")):
        site.send("ref/occupancy/pres-orion", {"presence": False})  # a working sensor: vacant
        site.gw.calendars.poll()
        first = bookings(site, "orion")[0]
        site.advance(ts("2019-03-03T23:30") + 660)
        got = site.client.get(f"/api/v1/bookings/{first['id']}").json()
        assert (got["status"], got["outcome"]) == ("released", "ghost")
        rate = site.client.get(
            "/api/v1/bookings/no-show-rate",
            params={"from": "2019-03-03T00:00:00Z", "to": "2019-03-05T00:00:00Z"},
        ).json()
        assert (rate["required"], rate["released"]) == (1, 1)
        site.gw.calendars.poll()  # the feed still holds it: a released booking stays released
        again = site.client.get(f"/api/v1/bookings/{first['id']}").json()
        assert again["status"] == "released"


def test_google_moved_occurrence_updates_its_booking_and_all_day_is_skipped(
    tmp_path: Path, server: CalendarServer
) -> None:
    real = (ICS / "issue_62_moved_event_2.ics").read_text()
    # the calendar before the Tuesday 15 August occurrence was moved to Monday 14th
    before = without_component(real, "RECURRENCE-ID;TZID=Australia/Sydney:20230815T140000")
    url = serve(server, "google.ics", before)
    for site in calendar_site(tmp_path, {"focus": url}, ts("2023-08-01T00:00")):
        site.gw.calendars.poll()
        rows = bookings(site, "focus")
        # Tuesdays 14:00-15:00 Sydney (UTC+10) until 28 August
        assert times(rows) == [
            ("2023-08-08T04:00", "2023-08-08T05:00"),
            ("2023-08-15T04:00", "2023-08-15T05:00"),
            ("2023-08-22T04:00", "2023-08-22T05:00"),
        ]
        moved_id = rows[1]["id"]
        serve(server, "google.ics", real)
        site.gw.calendars.poll()
        rows = bookings(site, "focus")
        assert times(rows) == [
            ("2023-08-08T04:00", "2023-08-08T05:00"),
            ("2023-08-14T04:00", "2023-08-14T05:00"),
            ("2023-08-22T04:00", "2023-08-22T05:00"),
        ]
        assert [r["id"] for r in rows][1] == moved_id  # the same booking, moved
        feed = site.gw.calendars.figures()["focus"]
        assert feed["skipped"]["all_day"] == 3  # the "All Day" series: 10, 16 (moved), 24 Aug


def test_cancelled_occurrence_cancels_its_booking(tmp_path: Path, server: CalendarServer) -> None:
    real = (ICS / "issue_18_cancel_status.ics").read_text()
    url = serve(server, "tb.ics", without_component(real, "STATUS:CANCELLED"))
    for site in calendar_site(tmp_path, {"dark": url}, ts("2020-01-27T12:00")):
        site.gw.calendars.poll()
        assert len(times(bookings(site, "dark"))) == 3
        serve(server, "tb.ics", real)
        site.gw.calendars.poll()
        rows = bookings(site, "dark")
        # 22:00-23:00 Berlin on 28, 29 (cancelled) and 30 January
        assert times(rows) == [
            ("2020-01-28T21:00", "2020-01-28T22:00"),
            ("2020-01-30T21:00", "2020-01-30T22:00"),
        ]
        assert times(rows, "cancelled") == [("2020-01-29T21:00", "2020-01-29T22:00")]


@pytest.mark.parametrize(
    ("name", "at", "expected"),
    [
        # Exchange 2010: daily 14:00 Berlin until 29 April, 27 April excluded by EXDATE in UTC
        (
            "issue_27_t1.ics",
            "2020-04-25T00:00",
            [("2020-04-26T12:00", "2020-04-26T12:30"), ("2020-04-28T12:00", "2020-04-28T12:30")],
        ),
        # Google: UTC times in a calendar whose X-WR-TIMEZONE is New York
        (
            "x_wr_timezone_simple_events_issue_59.ics",
            "2021-12-20T00:00",
            [("2021-12-22T17:00", "2021-12-22T18:00"), ("2021-12-23T02:00", "2021-12-23T03:00")],
        ),
        # Exchange 2010: all-day events only (skipped: nothing booked)
        ("issue_28_rrule_with_UTC_endinginZ.ics", "2020-04-01T00:00", []),
    ],
)
def test_time_zones_of_real_exports(
    tmp_path: Path, server: CalendarServer, name: str, at: str, expected: list[tuple[str, str]]
) -> None:
    url = serve(server, name, (ICS / name).read_bytes())
    for site in calendar_site(tmp_path, {"orion": url}, ts(at)):
        site.gw.calendars.poll()
        assert times(bookings(site, "orion")) == expected
        assert site.gw.calendars.figures()["orion"]["state"] == "ok"


def test_floating_times_are_the_sites_local_time(tmp_path: Path) -> None:
    # written for this test: floating DTSTART/DTEND (no TZID, no Z), as RFC 5545 3.3.5 allows
    feed = tmp_path / "floating.ics"
    feed.write_text(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//floating//EN\r\nBEGIN:VEVENT\r\n"
        "UID:floating-1\r\nDTSTAMP:20251120T120000Z\r\nDTSTART:20251201T090000\r\n"
        "DTEND:20251201T100000\r\nSUMMARY:Stand-up\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    for site in calendar_site(tmp_path, {"orion": str(feed)}, ts("2025-11-28T09:00")):
        site.gw.calendars.poll()
        # the site is in Europe/Amsterdam: 09:00 local in December is 08:00 UTC
        assert times(bookings(site, "orion")) == [("2025-12-01T08:00", "2025-12-01T09:00")]


def test_calendar_occurrence_overlapping_a_local_booking_is_refused_not_booked(
    tmp_path: Path, server: CalendarServer
) -> None:
    url = serve(server, "clash.ics", (ICS / "issue_27_t1.ics").read_bytes())
    for site in calendar_site(tmp_path, {"orion": url}, ts("2020-04-25T00:00")):
        local = site.client.post(
            "/api/v1/bookings",
            json={"space": "orion", "member": "m-1", "start": "2020-04-26T12:15:00Z",
                  "end": "2020-04-26T13:00:00Z"},
        )  # fmt: skip
        assert local.status_code == 201, local.text
        site.gw.calendars.poll()
        assert times(bookings(site, "orion")) == [("2020-04-28T12:00", "2020-04-28T12:30")]
        assert site.gw.calendars.figures()["orion"]["skipped"]["conflict"] == 1
        assert site.client.get(f"/api/v1/bookings/{local.json()['id']}").json()["status"] == (
            "booked"
        )
        locals_ = site.client.get("/api/v1/bookings", params={"source": "local"}).json()["data"]
        assert [b["id"] for b in locals_] == [local.json()["id"]]
