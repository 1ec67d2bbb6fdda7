"""Retention: raw events and the audit trail kept for a window, in small deletes.

What reports read -- 15-minute bins, days, weeks, idle episodes, findings -- lives in the
rollup tables and is never pruned here: a utilization report over a month whose raw events
are gone reads the same figures. Raw events older than ``events_days`` and audit entries older
than ``audit_days`` (an erasure's own record apart) go, oldest first, ``batch_rows`` per
transaction with ``pause_s`` between, so the ingest writer waits at most one short delete; a
pass stopped or killed in the middle leaves whole transactions, and the next one goes on.
A SQLite store then gives the freed pages back to the disk a few hundred at a time
(``PRAGMA incremental_vacuum``); PostgreSQL's autovacuum does that there.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.engine import Engine

from gateway.settings import RetentionSettings

log = logging.getLogger(__name__)

DAY_S = 86_400.0
VACUUM_PAGES = 256  # pages given back per step
_EVENTS = text(
    "DELETE FROM event_data WHERE id IN (SELECT id FROM event_data WHERE ts < :cut AND "
    "series IN (SELECT id FROM event_series WHERE site = :site) ORDER BY ts LIMIT :n)"
)
_AUDIT = text(
    "DELETE FROM audit_entry WHERE id IN (SELECT id FROM audit_entry WHERE site = :site AND "
    "ts < :cut AND action <> 'member_erased' ORDER BY ts LIMIT :n)"
)


@dataclass(frozen=True)
class Pruned:
    """What one pass did."""

    events: int
    audit: int
    pages_freed: int
    seconds: float


@dataclass
class RetentionStats:
    """What the passes have done, for health and /metrics."""

    passes: int = 0
    events_pruned: int = 0
    audit_pruned: int = 0
    pages_freed: int = 0
    last_pass_at: float | None = None
    last_pass_s: float = 0.0


class Retention:
    """Prunes one site's raw rows past their windows."""

    def __init__(
        self,
        engine: Engine,
        site: str,
        settings: RetentionSettings,
        clock: Callable[[], float],
        on_events_pruned: Callable[[int], None] = lambda _n: None,
    ) -> None:
        self.engine, self.site, self.settings, self.clock = engine, site, settings, clock
        self.on_events_pruned = on_events_pruned
        self.stats = RetentionStats()

    def run_pass(self, stop: threading.Event | None = None) -> Pruned:
        """One pass: events, then audit entries, then the freed pages; stops early when
        ``stop`` is set (what it deleted stays deleted, the rest waits for the next)."""
        stop = stop or threading.Event()
        t0, now = time.monotonic(), self.clock()
        s = self.settings
        events = self._prune(_EVENTS, now - s.events_days * DAY_S, stop, self.on_events_pruned)
        audit = self._prune(_AUDIT, now - s.audit_days * DAY_S, stop, lambda _n: None)
        pages = self._vacuum(stop)
        st = self.stats
        st.passes += 1
        st.events_pruned += events
        st.audit_pruned += audit
        st.pages_freed += pages
        st.last_pass_at, st.last_pass_s = now, time.monotonic() - t0
        if events or audit:
            log.info("retention: %d events and %d audit entries pruned, %d pages freed in %.1f s",
                     events, audit, pages, st.last_pass_s)  # fmt: skip
        return Pruned(events, audit, pages, st.last_pass_s)

    def _prune(
        self, sql: object, cut: float, stop: threading.Event, pruned: Callable[[int], None]
    ) -> int:
        total = 0
        args = {"cut": cut, "site": self.site, "n": self.settings.batch_rows}
        while not stop.is_set():
            with self.engine.begin() as conn:
                n = int(conn.execute(sql, args).rowcount or 0)  # type: ignore[call-overload]
            total += n
            if n:
                pruned(n)
            if n < self.settings.batch_rows or stop.wait(self.settings.pause_s):
                break
        return total

    def _vacuum(self, stop: threading.Event) -> int:
        """Give a SQLite store's free pages back to the disk, a few at a time."""
        if self.engine.dialect.name != "sqlite":
            return 0
        freed = 0
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            if conn.exec_driver_sql("PRAGMA auto_vacuum").scalar() != 2:
                return 0  # a store that could not be compacted yet (see migrate.reclaimable)
            while not stop.is_set():
                free = int(conn.exec_driver_sql("PRAGMA freelist_count").scalar() or 0)
                if not free:
                    break
                raw = conn.connection.dbapi_connection
                assert raw is not None
                raw.execute(f"PRAGMA incremental_vacuum({VACUUM_PAGES})").fetchall()
                freed += min(free, VACUUM_PAGES)
                if stop.wait(self.settings.pause_s):
                    break
        return freed
