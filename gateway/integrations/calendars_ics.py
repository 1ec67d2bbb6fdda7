"""An ICS feed read into the occurrences a room calendar books, with bounded cost.

``icalendar`` parses, ``recurring-ical-events`` expands RRULE, RDATE, EXDATE and moved
occurrences (RECURRENCE-ID) and applies X-WR-TIMEZONE; this module only bounds the work and
says what an occurrence means for a room:

- times in a TZID or UTC are absolute; floating times are the site's local time;
- an all-day event (DTSTART a date) is skipped and counted: in a room calendar it is a note
  (a holiday, "room closed"), and booking a room for whole days would make every day a ghost;
- a cancelled occurrence (STATUS:CANCELLED) and an empty one (end <= start) book nothing;
- an occurrence is named by its UID and its recurrence id (the start it had in the series),
  so a moved occurrence updates the booking it made instead of making another.

Before parsing, a feed larger than ``max_bytes`` or with more than ``max_components``
components is refused; inside the window at most ``max_occurrences`` are taken (the feed is
marked truncated), so a 100,000-event feed or an RRULE without an end costs a bounded time.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

from gateway.errors import ReasonError

MAX_ID = 255  # the booking table's external_id length
_SLICE_MIN, _SLICE_MAX = timedelta(hours=1), timedelta(days=16)
MAX_STEPS = 200_000  # rule steps a series may take from its start to the window's end
_PER_DAY = {"SECONDLY": 86_400.0, "MINUTELY": 1_440.0, "HOURLY": 24.0}  # rarer: <= 1 a day


class FeedError(ReasonError):
    """The feed cannot be used: too large, not iCalendar, no calendar in it."""


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One occurrence a room calendar books."""

    key: str  # uid + recurrence id: stable while the occurrence moves
    start: float
    end: float
    organizer: str | None
    summary: str
    modified: float | None  # LAST-MODIFIED (or DTSTAMP) of its component


@dataclass(slots=True)
class Expansion:
    """What a feed holds inside the window, and what it held that books nothing."""

    occurrences: list[Occurrence] = field(default_factory=list)
    all_day: int = 0
    cancelled: int = 0
    empty: int = 0
    truncated: bool = False  # ``max_occurrences`` reached before the window's end
    too_costly: int = 0  # series dropped for stepping too often (``load``)
    components: int = 0


@dataclass(frozen=True, slots=True)
class Loaded:
    """A parsed feed, kept while the feed is unchanged (a 304 costs no parse)."""

    calendar: Any
    components: int
    slice: timedelta  # the expansion's slice: at most 2 x max_occurrences of its rules in one
    too_costly: int = 0  # series dropped: more rule steps from their start than MAX_STEPS


def load(
    data: bytes, *, max_bytes: int, max_components: int, max_occurrences: int, until: float
) -> Loaded:
    """Check and parse a feed for windows ending by ``until``; FeedError when it is too large
    or not iCalendar. A series whose rule would step more than ``MAX_STEPS`` times from its
    DTSTART to ``until`` (every second, or every minute for years: the expansion walks a rule
    from its start) is dropped and counted."""
    if len(data) > max_bytes:
        raise FeedError(f"feed is {len(data)} bytes, over the {max_bytes} byte limit")
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head.upper().startswith(b"BEGIN:VCALENDAR"):
        raise FeedError("not an iCalendar feed (no BEGIN:VCALENDAR at the start)")
    if not data.rstrip().upper().endswith(b"END:VCALENDAR"):
        # a feed cut short would read as one whose later events were deleted
        raise FeedError("feed cut short (no END:VCALENDAR at the end)")
    components = data.upper().count(b"\nBEGIN:V")  # events, todos, timezones, alarms...
    if components > max_components:
        raise FeedError(f"feed has {components} components, over the {max_components} limit")
    cal = _parse(data)
    try:
        dropped = _drop_costly(cal, until)
        density = sum(_rate(c) for c in cal.walk("VEVENT"))
    except (TypeError, ValueError, AttributeError) as err:  # an RRULE part that is no number
        raise FeedError(f"cannot read the feed's rules: {err}") from err
    days = min(_SLICE_MAX.days, 2 * max_occurrences / max(density, 1e-3))
    return Loaded(cal, components, max(_SLICE_MIN, timedelta(days=days)), dropped)


def occurrences(
    feed: Loaded, start: float, end: float, site_tz: tzinfo, max_occurrences: int
) -> Expansion:
    """The occurrences of a loaded feed overlapping ``[start, end)``."""
    out = Expansion(components=feed.components, too_costly=feed.too_costly)
    try:
        _walk(feed, start, end, site_tz, max_occurrences, out)
    except FeedError:
        raise
    except Exception as err:  # the libraries raise many kinds on a malformed feed
        raise FeedError(f"cannot expand the feed: {type(err).__name__}: {err}") from err
    return out


def expand(
    data: bytes,
    start: float,
    end: float,
    site_tz: tzinfo,
    *,
    max_bytes: int,
    max_components: int,
    max_occurrences: int,
) -> Expansion:
    """The occurrences of feed ``data`` overlapping ``[start, end)``; FeedError if unusable."""
    feed = load(
        data,
        max_bytes=max_bytes,
        max_components=max_components,
        max_occurrences=max_occurrences,
        until=end,
    )
    return occurrences(feed, start, end, site_tz, max_occurrences)


def _parse(data: bytes) -> Any:
    import icalendar

    try:
        cals = icalendar.Calendar.from_ical(data, multiple=True)
    except Exception as err:  # icalendar raises ValueError and others on garbage
        raise FeedError(f"not a valid iCalendar feed: {type(err).__name__}: {err}") from err
    if not cals:
        raise FeedError("no VCALENDAR in the feed")
    return cals[0]


def _walk(feed: Loaded, start: float, end: float, tz: tzinfo, limit: int, out: Expansion) -> None:
    """Expand ``[start, end)`` slice by slice; the walk stops at ``limit``. A slice is as long
    as the feed's rules allow without more than ``2 * limit`` occurrences in it (up to 16
    days; an endless every-second rule gets an hour), since the library's ``between`` builds
    a slice's occurrences whole (its ``after`` is far slower)."""
    import recurring_ical_events  # type: ignore[import-untyped]

    query = recurring_ical_events.of(feed.calendar, components=["VEVENT"])
    seen: set[tuple[str, str]] = set()  # an occurrence across a slice edge comes twice
    a, b = datetime.fromtimestamp(start, UTC), datetime.fromtimestamp(end, UTC)
    while a < b:
        z = min(a + feed.slice, b)
        for ev in query.between(a, z):
            rid = ev.get("RECURRENCE-ID") or ev.get("DTSTART")
            key = (str(ev.get("UID", "")), rid.to_ical().decode() if rid is not None else "")
            if key in seen:
                continue
            seen.add(key)
            if len(out.occurrences) >= limit:
                out.truncated = True  # the rest of the window is not looked at
                return
            _take(ev, tz, out)
        a = z


def _rate(comp: Any) -> float:
    """At most how many occurrences a day a VEVENT's RRULEs make (BYxxx lists counted)."""
    rules = comp.get("RRULE")
    total = 0.0
    for rule in rules if isinstance(rules, list) else [rules] if rules is not None else []:
        freq = str((rule.get("FREQ") or [""])[0]).upper()
        interval = max(int((rule.get("INTERVAL") or [1])[0] or 1), 1)
        n = _PER_DAY.get(freq, 1.0) / interval
        for part in ("BYHOUR", "BYMINUTE", "BYSECOND"):
            n *= max(len(rule.get(part) or [None]), 1)
        total += n
    return total


def _drop_costly(cal: Any, until: float) -> int:
    """Drop the series that would take more than MAX_STEPS rule steps up to ``until``."""
    dropped = 0
    for comp in list(cal.subcomponents):
        start = comp.get("DTSTART") if comp.name == "VEVENT" else None
        if start is None or comp.get("RRULE") is None:
            continue
        rules = comp.get("RRULE")
        rule = rules[0] if isinstance(rules, list) else rules
        end = until
        if rule.get("UNTIL"):
            end = min(end, _epoch(rule.get("UNTIL")[0], UTC))
        steps = _rate(comp) * max(1.0, (end - _epoch(start.dt, UTC)) / 86_400)
        if rule.get("COUNT"):
            steps = min(steps, float(rule.get("COUNT")[0]))
        if steps > MAX_STEPS:
            cal.subcomponents.remove(comp)
            dropped += 1
    return dropped


def _take(ev: Any, site_tz: tzinfo, out: Expansion) -> None:
    dtstart = ev.get("DTSTART").dt
    if not isinstance(dtstart, datetime):
        out.all_day += 1
        return
    if str(ev.get("STATUS", "")).upper() == "CANCELLED":
        out.cancelled += 1
        return
    s = _epoch(dtstart, site_tz)
    dtend = ev.get("DTEND")
    e = _epoch(dtend.dt, site_tz) if dtend is not None else s
    if e <= s:
        out.empty += 1
        return
    uid = str(ev.get("UID", "")) or f"no-uid-{s:.0f}"
    rid = ev.get("RECURRENCE-ID")
    rid_s = _epoch(rid.dt, site_tz) if rid is not None else s
    org = ev.get("ORGANIZER")
    organizer = str(org).removeprefix("mailto:").removeprefix("MAILTO:").lower() if org else None
    mod = ev.get("LAST-MODIFIED") or ev.get("DTSTAMP")
    out.occurrences.append(
        Occurrence(
            key=_key(uid, rid_s),
            start=s,
            end=e,
            organizer=organizer or None,
            summary=str(ev.get("SUMMARY", ""))[:200],
            modified=_epoch(mod.dt, UTC) if mod is not None else None,
        )
    )


def _key(uid: str, rid: float) -> str:
    key = f"{uid}@{rid:.0f}"
    if len(key) <= MAX_ID:
        return key
    return f"sha256:{hashlib.sha256(uid.encode()).hexdigest()}@{rid:.0f}"


def _epoch(value: date | datetime, site_tz: tzinfo) -> float:
    """Epoch seconds; a floating time is local time of the site, a date its midnight."""
    if not isinstance(value, datetime):
        value = datetime.combine(value, datetime.min.time())
    if value.tzinfo is None:
        value = value.replace(tzinfo=site_tz)
    return value.timestamp()
