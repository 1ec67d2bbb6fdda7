"""Benchmark: expanding a busy room's calendar for a year, and one poll into the store.

The calendar of a busy meeting room: 8 bookings a weekday for a year, written two ways --

- ``series``: 8 weekly series (``RRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR``, one per slot, no
  end), with one EXDATE a month each and one moved occurrence (RECURRENCE-ID) a month each,
  in a ``VTIMEZONE`` (Europe/Amsterdam) -- how Outlook and Google keep standing meetings;
- ``single``: 2,088 separate VEVENTs (8 x 261 weekdays), UTC times -- how a booking tool
  exports one-off bookings.

For each: the expansion over a whole year (``--days 366``) and over the poller's default
window (15 days: 1 back, 14 ahead), the median of ``--runs`` runs; then full polls (fetch
from a file, expand, apply into a SQLite store through the bookings service) of the default
window: the first (every booking created), one of the unchanged feed (kept parsed, as after a
304) and one of a re-read feed (parsed again, nothing to change).

    .venv/bin/python bench/calendars.py [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gateway.integrations.calendars_ics import expand  # noqa: E402

TZ = ZoneInfo("Europe/Amsterdam")
START = datetime(2027, 1, 4, tzinfo=TZ)  # a Monday
SLOTS = [(8 + h, 0) for h in range(8)]  # 08:00 .. 15:00, 50 minutes each
VTZ = """BEGIN:VTIMEZONE\r\nTZID:Europe/Amsterdam\r\nBEGIN:DAYLIGHT\r\nTZOFFSETFROM:+0100\r
TZOFFSETTO:+0200\r\nTZNAME:CEST\r\nDTSTART:19700329T020000\r
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nEND:DAYLIGHT\r\nBEGIN:STANDARD\r
TZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nTZNAME:CET\r\nDTSTART:19701025T030000\r
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n"""


def _local(d: datetime) -> str:
    return d.strftime("%Y%m%dT%H%M%S")


def series() -> bytes:
    out = ["BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bench//series//EN\r\n", VTZ]
    for i, (h, m) in enumerate(SLOTS):
        first = START.replace(hour=h, minute=m)
        ex = [first + timedelta(days=7 * 4 * k + 1) for k in range(12)]  # a Tuesday a month
        out.append(
            f"BEGIN:VEVENT\r\nUID:slot-{i}@bench\r\nDTSTAMP:20261201T000000Z\r\n"
            f"DTSTART;TZID=Europe/Amsterdam:{_local(first)}\r\n"
            f"DTEND;TZID=Europe/Amsterdam:{_local(first + timedelta(minutes=50))}\r\n"
            "RRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR\r\n"
            + "".join(f"EXDATE;TZID=Europe/Amsterdam:{_local(d)}\r\n" for d in ex)
            + "SUMMARY:Stand-up\r\nEND:VEVENT\r\n"
        )
        for k in range(12):  # a Wednesday a month moved 5 minutes later
            rid = first + timedelta(days=7 * 4 * k + 2)
            moved = rid + timedelta(minutes=5)
            out.append(
                f"BEGIN:VEVENT\r\nUID:slot-{i}@bench\r\nDTSTAMP:20261201T000000Z\r\n"
                f"RECURRENCE-ID;TZID=Europe/Amsterdam:{_local(rid)}\r\n"
                f"DTSTART;TZID=Europe/Amsterdam:{_local(moved)}\r\n"
                f"DTEND;TZID=Europe/Amsterdam:{_local(moved + timedelta(minutes=45))}\r\n"
                "SUMMARY:Stand-up (moved)\r\nEND:VEVENT\r\n"
            )
    out.append("END:VCALENDAR\r\n")
    return "".join(out).encode()


def single() -> bytes:
    out = ["BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bench//single//EN\r\n"]
    n, day = 0, START
    while day < START + timedelta(days=365):
        if day.weekday() < 5:
            for h, m in SLOTS:
                s = day.replace(hour=h, minute=m).astimezone(UTC)
                e = s + timedelta(minutes=50)
                out.append(
                    f"BEGIN:VEVENT\r\nUID:bk-{n}@bench\r\nDTSTAMP:20261201T000000Z\r\n"
                    f"DTSTART:{s:%Y%m%dT%H%M%SZ}\r\nDTEND:{e:%Y%m%dT%H%M%SZ}\r\n"
                    f"ORGANIZER:mailto:member{n % 40}@example.com\r\nEND:VEVENT\r\n"
                )
                n += 1
        day += timedelta(days=1)
    out.append("END:VCALENDAR\r\n")
    return "".join(out).encode()


def timed(data: bytes, days: float, runs: int) -> tuple[float, int]:
    a = START.timestamp() - 86_400
    took, n = [], 0
    for _ in range(runs):
        t0 = time.perf_counter()
        got = expand(data, a, a + days * 86_400, TZ, max_bytes=10**8, max_components=10**6,
                     max_occurrences=10**6)  # fmt: skip
        took.append(time.perf_counter() - t0)
        n = len(got.occurrences)
    return statistics.median(took), n


def poll_into_store(data: bytes) -> dict[str, float]:
    """One poll of the default window through a real gateway's bookings service (SQLite)."""
    from gateway.runtime import Gateway
    from gateway.settings import load_settings

    with tempfile.TemporaryDirectory() as tmp:
        feed = Path(tmp) / "room.ics"
        feed.write_bytes(data)
        text = (ROOT / "tests" / "services" / "building.yaml").read_text().replace(
            "capacity: 8, bookable: true}", f'capacity: 8, bookable: true, calendar: "{feed}"}}'
        )  # fmt: skip
        (Path(tmp) / "b.yaml").write_text(text)
        s = load_settings(
            database_url=f"sqlite:///{tmp}/g.db",
            building=Path(tmp) / "b.yaml",
            publish={"enabled": False},
            access={"key_dir": Path(tmp) / "k"},
        )
        gw = Gateway(s, clock=lambda: START.timestamp() - 3600)
        out = {}
        for label in ("first_poll_s", "unchanged_poll_s", "reread_poll_s"):
            if label == "reread_poll_s":
                feed.touch()  # read and parsed again, as a changed ETag would make it
            t0 = time.perf_counter()
            gw.calendars.poll()
            out[label] = time.perf_counter() - t0
        out["bookings"] = gw.calendars.figures()["orion"]["occurrences"]
        gw.db.dispose()
        return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=5)
    args = p.parse_args()
    result: dict[str, object] = {}
    for name, data in (("series", series()), ("single", single())):
        year_s, year_n = timed(data, 366, args.runs)
        win_s, win_n = timed(data, 15, args.runs)
        result[name] = {"bytes": len(data), "year_s": round(year_s, 4), "year_occurrences": year_n,
                        "window_s": round(win_s, 4), "window_occurrences": win_n,
                        **{k: round(v, 4) for k, v in poll_into_store(data).items()}}  # fmt: skip
        print(f"{name}: {result[name]}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
