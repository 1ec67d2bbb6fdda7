"""Room calendar feeds that fail or are hostile: gone (404), garbage, never answering, 100,000
events, an RRULE without an end. Each is a counted error (or a bounded expansion) with its
reason in health and /metrics, and the bookings the feed made before are kept."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from gateway.building import load_building
from gateway.errors import BuildingError
from gateway.integrations.calendars import Calendars
from gateway.integrations.calendars_ics import FeedError, expand
from tests.integrations.calendar_server import CalendarServer
from tests.integrations.test_calendars import ICS, bookings, calendar_site, serve, server, times, ts
from tests.support import ROOT, wait_for

__all__ = ["server"]  # the module's server fixture, shared

SITE_TZ = ZoneInfo("Europe/Amsterdam")
NEXTCLOUD = (ICS / "each_week_but_two_deleted.ics").read_bytes()


def hundred_thousand_events() -> bytes:
    ev = (
        "BEGIN:VEVENT\r\nUID:bulk-{i}\r\nDTSTAMP:20190301T000000Z\r\n"
        "DTSTART:20190304T{h:02d}0000Z\r\nDTEND:20190304T{h:02d}3000Z\r\nEND:VEVENT\r\n"
    )
    body = "".join(ev.format(i=i, h=i % 24) for i in range(100_000))
    return (
        f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bulk//EN\r\n{body}END:VCALENDAR\r\n".encode()
    )


def test_a_feed_that_fails_is_counted_and_its_bookings_kept(
    tmp_path: Path, server: CalendarServer
) -> None:
    url = serve(server, "flaky.ics", NEXTCLOUD)
    for site in calendar_site(tmp_path, {"orion": url}, ts("2019-03-03T12:00")):
        site.gw.calendars.poll()
        kept = times(bookings(site, "orion"))
        assert len(kept) == 6
        reasons = []
        (server.root / "flaky.ics").unlink()  # the calendar host lost it: 404
        site.gw.calendars.poll()
        reasons.append(site.gw.calendars.figures()["orion"]["error"])
        serve(server, "flaky.ics", "<html><body>Please sign in</body></html>")  # a portal
        site.gw.calendars.poll()
        reasons.append(site.gw.calendars.figures()["orion"]["error"])
        serve(server, "flaky.ics", NEXTCLOUD[: NEXTCLOUD.index(b"BEGIN:VEVENT")])  # cut short
        site.gw.calendars.poll()
        reasons.append(site.gw.calendars.figures()["orion"]["error"])
        assert reasons == [
            "HTTP 404 Not Found",
            "not an iCalendar feed (no BEGIN:VCALENDAR at the start)",
            "feed cut short (no END:VCALENDAR at the end)",
        ]
        assert times(bookings(site, "orion")) == kept
        health = site.client.get("/api/v1/health").json()
        assert health["calendars"]["orion"]["state"] == "error"
        assert health["calendars"]["orion"]["errors"] == 3
        metrics = site.client.get("/metrics").text
        assert 'gateway_calendar_errors_total{space="orion"} 3.0' in metrics
        assert 'gateway_calendar_ok{space="orion"} 0.0' in metrics
        serve(server, "flaky.ics", NEXTCLOUD)  # back
        site.gw.calendars.poll()
        assert site.gw.calendars.figures()["orion"]["state"] == "ok"
        assert times(bookings(site, "orion")) == kept


def test_a_feed_that_never_answers_times_out(tmp_path: Path, server: CalendarServer) -> None:
    for site in calendar_site(
        tmp_path, {"orion": server.url("hang/x.ics")}, ts("2019-03-03T12:00"), timeout_s=0.5
    ):
        t0 = time.monotonic()
        site.gw.calendars.poll()
        took = time.monotonic() - t0
        feed = site.gw.calendars.figures()["orion"]
        assert feed["state"] == "error" and "0.5 s" in feed["error"], feed
        assert took < 3


def test_a_hundred_thousand_events_are_refused_at_a_bounded_cost(
    tmp_path: Path, server: CalendarServer
) -> None:
    data = hundred_thousand_events()
    url = serve(server, "bulk.ics", data)
    for site in calendar_site(
        tmp_path, {"orion": url}, ts("2019-03-03T12:00"), max_bytes=len(data) + 1
    ):
        t0 = time.monotonic()
        site.gw.calendars.poll()
        took = time.monotonic() - t0
        feed = site.gw.calendars.figures()["orion"]
        assert feed["error"] == "feed has 100000 components, over the 20000 limit"
        assert took < 5, took  # counted, not parsed
        assert bookings(site, "orion") == []
    with pytest.raises(FeedError, match="over the 5000000 byte limit"):  # the default size cap
        expand(data, 0, 1, SITE_TZ, max_bytes=5_000_000, max_components=10**6,
               max_occurrences=10)  # fmt: skip


def test_an_rrule_without_end_is_expanded_only_inside_the_window() -> None:
    # Google: weekly on Mondays from 2020 with no UNTIL or COUNT
    data = (ICS / "issue_48_daylight_aware_repeats.ics").read_bytes()
    t0 = time.perf_counter()
    got = expand(data, ts("2040-01-01T00:00"), ts("2040-01-15T00:00"), SITE_TZ,
                 max_bytes=10**6, max_components=100, max_occurrences=100)  # fmt: skip
    assert time.perf_counter() - t0 < 2
    assert [o.start for o in got.occurrences] == [ts("2040-01-02T11:30"), ts("2040-01-09T11:30")]


def test_an_endless_rrule_every_quarter_hour_stops_at_the_occurrence_limit() -> None:
    # written for this test: a 10-minute slot every 15 minutes, for ever
    data = (
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:q\r\n"
        b"DTSTAMP:20250101T000000Z\r\nDTSTART:20250101T000000Z\r\nDTEND:20250101T001000Z\r\n"
        b"RRULE:FREQ=MINUTELY;INTERVAL=15\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    got = expand(data, ts("2025-06-01T00:00"), ts("2025-06-15T00:00"), SITE_TZ,
                 max_bytes=10**6, max_components=100, max_occurrences=200)  # fmt: skip
    assert len(got.occurrences) == 200 and got.truncated


def test_the_building_file_takes_a_calendar_url_or_a_file_next_to_it(tmp_path: Path) -> None:
    src = (ROOT / "tests" / "services" / "building.yaml").read_text()
    text = src.replace(
        "{id: orion, name: Orion, type: meeting_room, capacity: 8, bookable: true}",
        "{id: orion, name: Orion, type: meeting_room, capacity: 8, bookable: true, "
        'calendar: "https://calendar.example/orion.ics"}',
    ).replace(
        "{id: focus, name: Focus room, type: meeting_room, capacity: 4, bookable: true}",
        "{id: focus, name: Focus room, type: meeting_room, capacity: 4, bookable: true, "
        "calendar: cal/focus.ics}",
    )
    path = tmp_path / "b.yaml"
    path.write_text(text)
    b = load_building(path)
    assert b.spaces["orion"].calendar == "https://calendar.example/orion.ics"
    assert b.spaces["focus"].calendar == str(tmp_path.resolve() / "cal" / "focus.ics")
    assert b.spaces["dark"].calendar is None
    path.write_text(src.replace(
        "{id: booth, name: Booth, type: phone_booth, capacity: 1, bookable: false}",
        "{id: booth, name: Booth, type: phone_booth, capacity: 1, bookable: false, "
        "calendar: https://x.example/b.ics}",
    ))  # fmt: skip
    with pytest.raises(
        BuildingError, match=r"spaces\[3\]\.calendar: only a bookable space has a calendar"
    ):
        load_building(path)


def test_an_endless_every_second_rule_is_dropped_not_walked() -> None:
    # written for this test: one second every second since New Year; walking the rule from
    # its start to June would take 13 million steps
    data = (
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:s\r\n"
        b"DTSTAMP:20250101T000000Z\r\nDTSTART:20250101T000000Z\r\nDTEND:20250101T000001Z\r\n"
        b"RRULE:FREQ=SECONDLY\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:ok\r\n"
        b"DTSTAMP:20250101T000000Z\r\nDTSTART:20250602T090000Z\r\nDTEND:20250602T100000Z\r\n"
        b"END:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    t0 = time.perf_counter()
    got = expand(data, ts("2025-06-01T00:00"), ts("2025-06-15T00:00"), SITE_TZ,
                 max_bytes=10**6, max_components=100, max_occurrences=2000)  # fmt: skip
    assert time.perf_counter() - t0 < 2
    assert got.too_costly == 1
    assert [o.key for o in got.occurrences] == [f"ok@{ts('2025-06-02T09:00'):.0f}"]


def polled(calendars: Calendars, space: str, n: int) -> Callable[[], bool]:
    return lambda: calendars.figures().get(space, {}).get("polls", 0) >= n


def test_the_poller_thread_keeps_polling_under_the_supervisor(
    tmp_path: Path, server: CalendarServer
) -> None:
    url = serve(server, "threaded.ics", NEXTCLOUD)
    for site in calendar_site(tmp_path, {"orion": url}, ts("2019-03-03T12:00"), poll_s=0.2):
        site.gw.calendars.start(site.gw.supervisor)
        try:
            assert wait_for(polled(site.gw.calendars, "orion", 3))
            assert len(times(bookings(site, "orion"))) == 6
            assert site.gw.supervisor.loop("calendars").thread is not None
        finally:
            site.gw.calendars.stop()
