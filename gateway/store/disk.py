"""How big the store is, how much room is left, and how soon the disk fills at today's rate.

SQLite: the database file with its ``-wal`` and ``-shm``, and the free space of the file
system that holds them. PostgreSQL: ``pg_database_size``; its free space is the server's
disk, not ours, so it is unknown (None) and so is the time until it fills.

Events per day is a range count on the indexed ``ts`` over the last 24 hours; figures are
cached for ``cache_s`` so a scrape every few seconds runs the queries once a minute. With
retention, the store grows only until it holds its window of raw events: the days until
full count that (the rollups and the audit, kept longer, grow by far less and are left out).
"""

from __future__ import annotations

import contextlib
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine
from sqlmodel import col

from gateway.store.db import sqlite_file
from gateway.store.tables import EventData

DAY_S = 86_400.0


@dataclass(frozen=True)
class DiskFigures:
    """One measurement; a figure that cannot be known is None."""

    store_bytes: int | None
    free_bytes: int | None
    events_per_day: int | None
    bytes_per_event: float | None
    days_until_full: float | None


def days_until_full(
    free_bytes: int | None,
    bytes_per_event: float | None,
    events_per_day: int | None,
    *,
    window_days: float | None = None,
    held_days: float = 0.0,
) -> float | None:
    """Free bytes over the bytes a day of events takes; None when a figure is unknown or
    the disk does not fill at this rate: nothing is being stored, or raw events are kept
    ``window_days`` and the store holds ``held_days`` of them, so it grows only for the
    days left of its window (then a day pruned frees what a day stored takes) and what it
    still grows fits in the free space."""
    if free_bytes is None or bytes_per_event is None or not events_per_day:
        return None
    per_day = bytes_per_event * events_per_day
    if per_day <= 0:
        return None
    if window_days is not None:
        growing = max(0.0, window_days - max(0.0, held_days))
        if per_day * growing <= free_bytes:
            return None  # it levels off with room to spare
    return free_bytes / per_day


def sqlite_bytes(path: Path) -> int:
    """The database file plus its ``-wal`` and ``-shm`` (those absent count 0)."""
    total = 0
    for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        with contextlib.suppress(FileNotFoundError):
            total += p.stat().st_size
    return total


class DiskMonitor:
    """The store's disk figures, measured at most once per ``cache_s``."""

    def __init__(
        self,
        db: Engine,
        clock: Callable[[], float],
        *,
        events_stored: Callable[[], int] | None = None,
        window_days: float | None = None,
        cache_s: float = 60.0,
    ) -> None:
        self.db, self.clock, self.cache_s = db, clock, cache_s
        self.window_days = window_days  # how long retention keeps raw events; None: for good
        self.events_stored = events_stored  # None: counted in the store
        path = sqlite_file(db.url)
        self.path = None if path is None else Path(path).expanduser().resolve()
        self._lock = threading.Lock()
        self._at: float | None = None
        self._figures: DiskFigures | None = None

    def figures(self) -> DiskFigures:
        """The cached figures, measured again when older than ``cache_s``."""
        now = self.clock()
        with self._lock:
            if self._figures is None or self._at is None or now - self._at >= self.cache_s:
                self._figures, self._at = self.measure(now), now
            return self._figures

    def free_bytes(self) -> int | None:
        """Free space for the store now (not cached: the alert wants it fresh)."""
        if self.path is None:
            return None
        return shutil.disk_usage(self.path.parent).free

    def measure(self, now: float) -> DiskFigures:
        size = self._store_bytes()
        free = self.free_bytes()
        with self.db.connect() as conn:
            per_day = int(
                conn.execute(
                    select(func.count()).where(col(EventData.ts) >= now - DAY_S)
                ).scalar_one()
            )
            if self.events_stored is not None:
                stored = self.events_stored()
            else:
                stored = int(conn.execute(select(func.count()).select_from(EventData)).scalar_one())
            oldest = conn.execute(select(func.min(col(EventData.ts)))).scalar_one()
        per_event = size / stored if size is not None and stored > 0 else None
        held = 0.0 if oldest is None else (now - float(oldest)) / DAY_S
        until = days_until_full(
            free, per_event, per_day, window_days=self.window_days, held_days=held
        )
        return DiskFigures(size, free, per_day, per_event, until)

    def _store_bytes(self) -> int | None:
        if self.path is not None:
            return sqlite_bytes(self.path)
        if self.db.url.get_backend_name() == "postgresql":
            with self.db.connect() as conn:
                q = text("SELECT pg_database_size(current_database())")
                return int(conn.execute(q).scalar_one())
        return None  # an in-memory SQLite
