"""Room calendars: each bookable space's ICS feed polled and kept as its bookings.

The building file gives a space a ``calendar:`` (an http(s) URL or a file). Every
``calendars.poll_s`` the poller asks each feed whether it changed (conditional GET), expands
the occurrences between ``now - past_days`` and ``now + horizon_days``
(``gateway.integrations.calendars_ics``) and hands them to the bookings service as the
bookings of source ``ics:<space>`` (``gateway.facility.booking_sources``): new occurrences are
booked, moved ones updated, those gone or cancelled cancelled. The organizer's address is the
booking's member (``calendar`` when there is none).

A feed that fails -- unreachable, timed out, an HTTP error, too large, not iCalendar -- is
counted with its reason (``health`` and ``/metrics``); its bookings are left as they are, and
it is tried again at the next poll. One poller thread serves every feed, apart from ingest.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from gateway.bookings_in_settings import CalendarSettings
from gateway.errors import ReasonError
from gateway.facility.booking_sources import Incoming, SourcedBookings
from gateway.facility.ports import ConfigSource
from gateway.integrations.calendars_fetch import Validators, fetch
from gateway.integrations.calendars_ics import Expansion, Loaded, load, occurrences
from gateway.logtext import clean
from gateway.supervisor import Supervisor

log = logging.getLogger(__name__)

DAY_S = 86_400.0


@dataclass(slots=True)
class Feed:
    """One space's feed: what the last poll found, and its error count."""

    space: str
    url: str
    validators: Validators = field(default_factory=Validators)
    loaded: Loaded | None = None  # the last good feed, parsed: expanded again while unchanged
    state: str = "pending"  # ok, error, pending
    error: str | None = None
    errors: int = 0  # failed polls since start
    polls: int = 0
    checked_at: float | None = None
    ok_at: float | None = None
    occurrences: int = 0
    skipped: dict[str, int] = field(default_factory=dict)  # all_day, cancelled, conflict...
    expand_s: float = 0.0
    truncated: bool = False

    def figures(self) -> dict[str, Any]:
        return {
            "space": self.space, "state": self.state, "error": self.error,
            "errors": self.errors, "polls": self.polls, "checked_at": self.checked_at,
            "ok_at": self.ok_at, "occurrences": self.occurrences, "skipped": dict(self.skipped),
            "expand_s": round(self.expand_s, 4), "truncated": self.truncated,
        }  # fmt: skip


class Calendars:
    """Polls the building's room calendars into the bookings service."""

    def __init__(
        self,
        bookings: SourcedBookings,
        settings: CalendarSettings,
        config: ConfigSource,
        clock: Callable[[], float],
    ) -> None:
        self.bookings, self.settings, self.config, self.clock = bookings, settings, config, clock
        self.feeds: dict[str, Feed] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()  # one poll at a time (the thread, or a test's poll)

    # -- running ----------------------------------------------------------------------------
    def start(self, supervisor: Supervisor) -> None:
        """Poll in a supervised thread while any space has a calendar (checked each poll)."""
        loop = supervisor.loop("calendars")

        def run() -> None:
            while not self._stop.is_set():
                loop.beat()
                self.poll()
                self._stop.wait(self.settings.poll_s)

        self._thread = supervisor.thread("calendars", run)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.settings.timeout_s + 5)

    def poll(self) -> None:
        """Poll every feed the building file names now; forget the ones it no longer names."""
        with self._lock:
            spaces = self.config.get().building.spaces
            named = {s.id: s.calendar for s in spaces.values() if s.calendar and s.bookable}
            for sid in list(self.feeds):
                if self.feeds[sid].url != named.get(sid):
                    del self.feeds[sid]  # dropped or moved to another URL: asked afresh
            for sid, url in named.items():
                feed = self.feeds.setdefault(sid, Feed(sid, url))
                if self._stop.is_set():
                    return
                self.poll_feed(feed)

    def poll_feed(self, feed: Feed) -> None:
        """Fetch, expand and apply one feed; a failure is counted and changes no booking."""
        now = self.clock()
        feed.polls += 1
        feed.checked_at = now
        try:
            got = fetch(feed.url, feed.validators, self.settings.timeout_s, self.settings.max_bytes)
            loaded = feed.loaded if got.body is None else self._load(got.body)
            if loaded is None:
                raise ReasonError("the feed answered 304 to a first request")
            found = self._expand(feed, loaded, now)
            self._apply(feed, found, now)
        except ReasonError as err:
            self._failed(feed, err.reason)
            return
        except Exception as err:  # the store away, a bug: counted, the next poll tries again
            self._failed(feed, f"{type(err).__name__}: {err}")
            return
        feed.validators, feed.loaded = got.validators, loaded
        feed.state, feed.error, feed.ok_at = "ok", None, now

    def _load(self, body: bytes) -> Loaded:
        s = self.settings
        until = self.clock() + s.horizon_days * DAY_S + s.poll_s * 100  # kept a while
        return load(body, max_bytes=s.max_bytes, max_components=s.max_components,
                    max_occurrences=s.max_occurrences, until=until)  # fmt: skip

    def _expand(self, feed: Feed, loaded: Loaded, now: float) -> Expansion:
        s = self.settings
        tz = self.config.get().building.site.tz
        t0 = time.perf_counter()
        try:
            a, b = now - s.past_days * DAY_S, now + s.horizon_days * DAY_S
            return occurrences(loaded, a, b, tz, s.max_occurrences)
        finally:
            feed.expand_s = time.perf_counter() - t0

    def _apply(self, feed: Feed, found: Expansion, now: float) -> None:
        s = self.settings
        items = [
            Incoming(o.key, feed.space, o.organizer or "calendar", o.start, o.end, o.modified)
            for o in found.occurrences
        ]
        window = (feed.space, now - s.past_days * DAY_S, now + s.horizon_days * DAY_S)
        if found.truncated:  # what lies past the last one taken is unknown: keep it
            window = (feed.space, window[1], max((o.end for o in found.occurrences), default=now))
        applied, gone = self.bookings.apply_source(f"ics:{feed.space}", items, missing=window)
        counts: dict[str, int] = {}
        for a in applied:
            counts[a.result] = counts.get(a.result, 0) + 1
        feed.occurrences = len(items)
        feed.truncated = found.truncated
        feed.skipped = {
            "all_day": found.all_day, "cancelled": found.cancelled, "empty": found.empty,
            "conflict": counts.get("conflict", 0), "past": counts.get("past", 0),
            "too_costly": found.too_costly,
        }  # fmt: skip
        changed = {k: counts.get(k, 0) for k in ("created", "updated")}
        if any(changed.values()) or gone:
            log.info("calendar of %s: %d created, %d updated, %d cancelled", clean(feed.space),
                     changed["created"], changed["updated"], gone)  # fmt: skip

    def _failed(self, feed: Feed, reason: str) -> None:
        feed.errors += 1
        first = feed.state != "error" or feed.error != reason
        feed.state, feed.error = "error", reason
        if first:  # one line per new reason, not one per poll
            log.warning("calendar of %s failed: %s (bookings kept)", clean(feed.space),
                        clean(reason))  # fmt: skip

    # -- what health and metrics show ----------------------------------------------------------
    def figures(self) -> dict[str, dict[str, Any]]:
        return {sid: f.figures() for sid, f in sorted(self.feeds.items())}

    def errors(self) -> int:
        return sum(f.errors for f in self.feeds.values())
