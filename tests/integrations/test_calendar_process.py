"""Bookings in, end to end: ``gateway run`` as a real process (real broker, real clock) polls a
room calendar from the test ICS server process and takes a platform's signed webhook over HTTP;
both show up as bookings of their source, with the feed's state in health and /metrics."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from tests.integrations.test_booking_hooks import SECRET, SIGNED
from tests.integrations.test_calendars import serve, server
from tests.support import FIXTURES, Broker, GatewayProcess, wait_for

__all__ = ["server"]  # the ICS server fixture, shared


def tomorrow_ics() -> str:
    """Written for this test: a daily 09:00-09:45 UTC meeting from tomorrow, three times."""
    day = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y%m%d")
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//process//EN\r\nBEGIN:VEVENT\r\n"
        f"UID:standup@test\r\nDTSTAMP:{day}T000000Z\r\nDTSTART:{day}T090000Z\r\n"
        f"DTEND:{day}T094500Z\r\nRRULE:FREQ=DAILY;COUNT=3\r\n"
        "ORGANIZER:mailto:Ann@Example.com\r\nSUMMARY:Stand-up\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )


def test_a_running_gateway_takes_a_room_calendar_and_a_signed_platform_booking(
    broker: Broker, tmp_path: Path, server: object
) -> None:
    url = serve(server, "process.ics", tomorrow_ics())  # type: ignore[arg-type]
    building = tmp_path / "building.yaml"
    building.write_text(
        (FIXTURES / "building-small.yaml").read_text().replace(
            "{id: orion, name: Orion, type: meeting_room, capacity: 8, bookable: true}",
            f'{{id: orion, name: Orion, type: meeting_room, capacity: 8, bookable: true, '
            f'calendar: "{url}"}}',
        )
    )  # fmt: skip
    hooks = {"nexudus": {"secret": SECRET}}
    gp = GatewayProcess(
        broker.url, tmp_path, GATEWAY_BUILDING=str(building), GATEWAY_CALENDARS__POLL_S="1",
        GATEWAY_BOOKING_HOOKS__INTEGRATIONS=json.dumps(hooks),
    ).start()  # fmt: skip
    try:
        feed = wait_for(lambda: gp.get("/api/v1/health")["calendars"].get("orion"), timeout=20)
        assert wait_for(lambda: gp.get("/api/v1/health")["calendars"]["orion"]["ok_at"])
        rows = gp.get("/api/v1/bookings", params={"source": "ics:orion"})["data"]
        assert [(r["start"][11:16], r["end"][11:16], r["member"]) for r in rows] == [
            ("09:00", "09:45", "ann@example.com")
        ] * 3, feed
        start = datetime.now(UTC) + timedelta(days=1, hours=3)
        end = start + timedelta(hours=1)
        change = {"event": "created", "id": "NX-1", "space": "focus",
                  "start": start.isoformat(), "end": end.isoformat()}  # fmt: skip
        body, headers = SIGNED(SECRET, change, "nexudus")
        plain = httpx.post(f"{gp.http.base_url}/api/v1/integrations/bookings",
                           content=body, headers=headers, timeout=5)  # fmt: skip
        assert plain.status_code == 201, plain.text
        mine = gp.get("/api/v1/bookings", params={"source": "platform:nexudus"})["data"]
        assert [(r["id"], r["external_id"]) for r in mine] == [(plain.json()["booking"], "NX-1")]
        metrics = gp.http.get("/metrics").text
        assert 'gateway_calendar_ok{space="orion"} 1.0' in metrics
        assert 'gateway_booking_hook_applied_total{result="created"} 1.0' in metrics
    finally:
        gp.stop()
