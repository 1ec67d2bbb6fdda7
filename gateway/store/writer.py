"""The hot write path: one transaction per batch, multi-row inserts, device upserts."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Table, delete, func, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from gateway.errors import StoreError
from gateway.events import Event
from gateway.store.db import db_error
from gateway.store.pg_copy import copy_rows
from gateway.store.redelivery import RedeliveryRecord
from gateway.store.refusals import StoreDataError, is_data_error
from gateway.store.rows import (
    DeviceFacts,
    Rows,
    StoredBatch,
    batch_rows,
    event_tuple,
    row_value,
)
from gateway.store.series import DATA_COLUMNS, SeriesKeys, data_dict, site_series
from gateway.store.sql import device_upsert, insert_rows, upsert_rows
from gateway.store.tables import DeadLetter, Device, EventData
from gateway.store.tables import Event as EventView

# re-exported: callers of the store's write path find them here
__all__ = ["BatchWriter", "Rows", "batch_rows", "insert_rows", "row_value",
           "upsert_rows"]  # fmt: skip

EVENT_DATA: Table = EventData.__table__  # type: ignore[attr-defined]
EVENTS: Table = EventView.__table__  # type: ignore[attr-defined]  # the view readers query
DEAD_LETTERS: Table = DeadLetter.__table__  # type: ignore[attr-defined]
DEVICES: Table = Device.__table__  # type: ignore[attr-defined]
DEVICE_COLUMNS = (
    "site", "id", "profile", "space", "bound", "online", "first_seen", "last_seen", "readings",
)  # fmt: skip


def stored_counts(conn: Connection, site: str) -> tuple[int, int]:
    """How many events and dead letters the store holds for ``site`` (every site's: '')."""
    d, dl = EVENT_DATA.c, DEAD_LETTERS.c
    events = select(func.count()).select_from(EVENT_DATA)
    letters = select(func.count()).select_from(DEAD_LETTERS)
    if site:
        events = events.where(d.series.in_(site_series(site)))
        letters = letters.where(dl.site == site)
    return int(conn.execute(events).scalar_one()), int(conn.execute(letters).scalar_one())


def store_events(engine: Engine, events: list[tuple[Event, float]]) -> None:
    """Commit ``events`` ((event, received_at) pairs) the way ingest does, in one
    transaction: for tools, benchmarks and tests that fill a store without a broker."""
    rows = Rows([event_tuple(e, r) for e, r in events], [], [], [])
    BatchWriter(engine, client="store-events").write_rows(rows)


class BatchWriter:
    """Commits batches; keeps the counts the stats endpoint reports."""

    def __init__(
        self,
        engine: Engine,
        *,
        client: str = "gateway",
        redelivery_window: int = 10_000,
        site: str = "",
    ) -> None:
        self.engine = engine
        self._dialect = engine.dialect.name
        self.client = client
        self.site = site  # the redelivery record is per site: gateways may share a store
        self.redelivery_window = redelivery_window
        self.record = RedeliveryRecord(site, client, redelivery_window)
        self.batches_written = 0
        # SQLite takes plain tuples through the driver's executemany: the same rows, without
        # building and binding a dict per row. PostgreSQL streams events and fingerprints
        # with COPY; the rest use the Core insert.
        self._raw = self._dialect == "sqlite"
        # first_seen and readings of the devices this writer has written: the store holds
        # the same, so a batch does not read them back before its upsert.
        self._device_cache: dict[tuple[str, str], tuple[float | None, dict[str, Any]]] = {}
        self.series = SeriesKeys()
        self.counts_lock = threading.Lock()  # the pruner lowers the counts from another thread
        with engine.connect() as conn:  # this site's rows only: a store may hold many sites
            self.events_stored, self.dead_letters = stored_counts(conn, site)
        self.last_commit_ms = 0.0
        self._device_stmt: Any = None
        # called with (batch, commit seconds) after each commit, e.g. by the metrics
        self.observers: list[Callable[[StoredBatch, float], None]] = []

    def seal(self, batch: StoredBatch) -> None:
        """Do ahead, on the preparing thread, what of ``batch``'s write can be done before
        the batches ahead of it commit. Its events, dead letters and fingerprints do not
        change after this; its device updates still do. Nothing to do for this writer."""

    def write(self, batch: StoredBatch) -> None:
        """Commit the batch in one transaction; raises StoreError and keeps nothing on failure
        (StoreDataError when the store refused a value in it). Once committed it is never
        written again: a retry after an attempt that failed first reads whether it landed."""
        if self.landed(batch):
            return
        batch.tries += 1
        elapsed = self.write_rows(batch_rows(batch))
        batch.written = True
        self.counted(batch, elapsed)

    def landed(self, batch: StoredBatch) -> bool:
        """True when ``batch`` is committed already (counted the once it is found so)."""
        if batch.written:
            return True
        if batch.tries and self.committed([batch.mark]):
            batch.written = True
            self.counted(batch, 0.0)
            return True
        return False

    def counted(self, batch: StoredBatch, elapsed: float) -> None:
        """Count a committed batch and tell the observers."""
        self.batches_written += 1
        with self.counts_lock:
            self.events_stored += len(batch.events)
            self.dead_letters += len(batch.dead_letters)
        self.last_commit_ms = elapsed * 1000
        for observe in self.observers:
            observe(batch, elapsed)

    def pruned(self, n: int, events: int = 0) -> None:
        """``n`` dead letters and ``events`` events were pruned from the store (by the
        maintenance pass)."""
        with self.counts_lock:
            self.dead_letters -= n
            self.events_stored -= events

    def write_rows(self, rows: Rows) -> float:
        """Commit ``rows`` in one transaction; the seconds it took. Raises StoreError and
        keeps nothing on failure."""
        t0 = time.perf_counter()
        cache: dict[tuple[str, str], tuple[float | None, dict[str, Any]]] = {}
        added: dict[Any, int] = {}
        try:
            with self.engine.begin() as conn:
                if rows.events:
                    added = self._insert_events(conn, rows.events)
                if rows.dead_letters:
                    conn.execute(DEAD_LETTERS.insert(), rows.dead_letters)
                if rows.evicted:  # before the upserts: one may be back in this batch
                    self._evict_devices(conn, rows.evicted)
                if rows.devices:
                    cache = self._upsert_devices(conn, dict(rows.devices))
                if rows.fingerprints:
                    self.record.write(conn, rows.fingerprints)
        except StoreDataError:
            raise
        except (SQLAlchemyError, ValueError, OverflowError) as err:
            n = len(rows.events) + len(rows.dead_letters)
            kind = StoreDataError if is_data_error(err) else StoreError
            raise kind(f"batch of {n} not committed: {db_error(err)}") from err
        self._device_cache.update(cache)
        self.series.keep(added)
        return time.perf_counter() - t0

    def _evict_devices(self, conn: Connection, evicted: list[tuple[str, str]]) -> None:
        """Delete the rows of discovered (unbound) devices evicted over their cap."""
        for site in {s for s, _ in evicted}:
            ids = [d for s, d in evicted if s == site]
            for i in range(0, len(ids), 500):
                conn.execute(
                    delete(DEVICES).where(
                        DEVICES.c.site == site,
                        DEVICES.c.id.in_(ids[i : i + 500]),
                        DEVICES.c.bound.is_(False),
                    )
                )
        for key in evicted:
            self._device_cache.pop(key, None)

    def committed(self, candidates: list[tuple[int, int]]) -> set[tuple[int, int]]:
        """Which (mid, digest) pairs were committed recently (so a DUP of one is a
        redelivery); a (BATCH_MARK, id) pair asks whether batch ``id`` was committed."""
        if not candidates:
            return set()
        try:
            with self.engine.connect() as conn:
                return self.record.committed(conn, set(candidates))
        except SQLAlchemyError as err:
            raise StoreError(f"redelivery record not readable: {db_error(err)}") from err

    def close(self) -> None:
        """Nothing to let go of (the engine is the caller's)."""

    def _insert_events(self, conn: Connection, events: list[tuple[Any, ...]]) -> dict[Any, int]:
        rows, added = self.series.data_rows(conn, events)
        if self._raw:
            insert_rows(conn, EVENT_DATA.name, DATA_COLUMNS, rows)
        elif self._dialect == "postgresql":
            copy_rows(conn, EVENT_DATA.name, DATA_COLUMNS, rows)
        else:
            conn.execute(EVENT_DATA.insert(), [data_dict(r) for r in rows])
        return added

    def _upsert_devices(
        self, conn: Connection, updates: dict[tuple[str, str], DeviceFacts]
    ) -> dict[tuple[str, str], tuple[float | None, dict[str, Any]]]:
        missing = [k for k in updates if k not in self._device_cache]
        existing: dict[tuple[str, str], tuple[float | None, dict[str, Any]]] = {}
        if missing:
            existing = {
                (r.site, r.id): (r.first_seen, dict(r.readings or {}))
                for r in conn.execute(
                    select(
                        DEVICES.c.site, DEVICES.c.id, DEVICES.c.readings, DEVICES.c.first_seen
                    ).where(
                        DEVICES.c.site.in_({k[0] for k in missing}),
                        DEVICES.c.id.in_([k[1] for k in missing]),
                    )
                )
            }
        rows = []  # in DEVICE_COLUMNS order
        cache: dict[tuple[str, str], tuple[float | None, dict[str, Any]]] = {}
        for key, u in updates.items():
            old = self._device_cache.get(key) or existing.get(key)
            readings = dict(old[1]) if old is not None else {}
            readings.update(u.readings)
            first = old[0] if old is not None and old[0] else u.first_seen
            cache[key] = (first, readings)
            rows.append((key[0], key[1], u.profile, u.space, u.bound, u.online, first,
                         u.last_seen, readings))  # fmt: skip
        if self._raw:
            t = DEVICES.name
            insert_rows(
                conn,
                t,
                DEVICE_COLUMNS,
                [(*r[:-1], json.dumps(r[-1])) for r in rows],
                " ON CONFLICT (site, id) DO UPDATE SET profile = excluded.profile, "
                "space = excluded.space, bound = excluded.bound, "
                f"online = coalesce(excluded.online, {t}.online), "
                "first_seen = excluded.first_seen, last_seen = excluded.last_seen, "
                "readings = excluded.readings",
            )
        else:
            if self._device_stmt is None:  # compiled once, executed for every row of a batch
                self._device_stmt = device_upsert(DEVICES, self._dialect)
            conn.execute(
                self._device_stmt, [dict(zip(DEVICE_COLUMNS, r, strict=True)) for r in rows]
            )
        return cache
