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
from gateway.store.db import db_error
from gateway.store.pg_copy import copy_rows
from gateway.store.refusals import StoreDataError, is_data_error
from gateway.store.rows import (
    BATCH_MARK,
    EVENT_COLUMNS,
    DeviceFacts,
    Rows,
    StoredBatch,
    batch_rows,
    event_dict,
    event_row,
    row_value,
)
from gateway.store.sql import device_upsert, insert_rows, upsert_rows
from gateway.store.tables import DeadLetter, Device, IngestFingerprint
from gateway.store.tables import Event as EventRow

# re-exported: callers of the store's write path find them here
__all__ = ["BatchWriter", "Rows", "batch_rows", "event_row", "insert_rows", "row_value",
           "upsert_rows"]  # fmt: skip

EVENTS: Table = EventRow.__table__  # type: ignore[attr-defined]
DEAD_LETTERS: Table = DeadLetter.__table__  # type: ignore[attr-defined]
DEVICES: Table = Device.__table__  # type: ignore[attr-defined]
FINGERPRINTS: Table = IngestFingerprint.__table__  # type: ignore[attr-defined]
PRUNE_EVERY = 50  # batches between prunes of the redelivery record
DEVICE_COLUMNS = (
    "site", "id", "profile", "space", "bound", "online", "first_seen", "last_seen", "readings",
)  # fmt: skip
MARKS_KEPT = 2 * PRUNE_EVERY  # the newest batch records kept


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
        self._batches = 0
        self.batches_written = 0
        # SQLite takes plain tuples through the driver's executemany: the same rows, without
        # building and binding a dict per row. PostgreSQL streams events and fingerprints
        # with COPY; the rest use the Core insert.
        self._raw = self._dialect == "sqlite"
        # first_seen and readings of the devices this writer has written: the store holds
        # the same, so a batch does not read them back before its upsert.
        self._device_cache: dict[tuple[str, str], tuple[float | None, dict[str, Any]]] = {}
        self.counts_lock = threading.Lock()  # the pruner lowers dead_letters from another thread
        with engine.connect() as conn:  # this site's rows only: a store may hold many sites
            self.events_stored, self.dead_letters = (
                conn.execute(
                    select(func.count()).select_from(t).where(*([t.c.site == site] if site else []))
                ).scalar_one()
                for t in (EVENTS, DEAD_LETTERS)
            )
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
        self.events_stored += len(batch.events)
        with self.counts_lock:
            self.dead_letters += len(batch.dead_letters)
        self.last_commit_ms = elapsed * 1000
        for observe in self.observers:
            observe(batch, elapsed)

    def pruned(self, n: int) -> None:
        """``n`` dead letters were pruned from the store (by the maintenance pass)."""
        with self.counts_lock:
            self.dead_letters -= n

    def write_rows(self, rows: Rows) -> float:
        """Commit ``rows`` in one transaction; the seconds it took. Raises StoreError and
        keeps nothing on failure."""
        t0 = time.perf_counter()
        cache: dict[tuple[str, str], tuple[float | None, dict[str, Any]]] = {}
        try:
            with self.engine.begin() as conn:
                if rows.events:
                    self._insert_events(conn, rows.events)
                if rows.dead_letters:
                    conn.execute(DEAD_LETTERS.insert(), rows.dead_letters)
                if rows.evicted:  # before the upserts: one may be back in this batch
                    self._evict_devices(conn, rows.evicted)
                if rows.devices:
                    cache = self._upsert_devices(conn, dict(rows.devices))
                if rows.fingerprints:
                    self._record_fingerprints(conn, rows.fingerprints)
        except StoreDataError:
            raise
        except (SQLAlchemyError, ValueError, OverflowError) as err:
            n = len(rows.events) + len(rows.dead_letters)
            kind = StoreDataError if is_data_error(err) else StoreError
            raise kind(f"batch of {n} not committed: {db_error(err)}") from err
        self._device_cache.update(cache)
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
        """Which (mid, digest) pairs were committed recently (so a DUP of one is a redelivery)."""
        if not candidates:
            return set()
        mids = sorted({m for m, _ in candidates})
        try:
            with self.engine.connect() as conn:
                rows = conn.execute(
                    select(FINGERPRINTS.c.mid, FINGERPRINTS.c.digest).where(
                        FINGERPRINTS.c.site == self.site,
                        FINGERPRINTS.c.client == self.client,
                        FINGERPRINTS.c.mid.in_(mids),
                    )
                ).all()
        except SQLAlchemyError as err:
            raise StoreError(f"redelivery record not readable: {db_error(err)}") from err
        found = {(int(m), int(d)) for m, d in rows}
        return found & set(candidates)

    def close(self) -> None:
        """Nothing to let go of (the engine is the caller's)."""

    def _insert_events(self, conn: Connection, events: list[tuple[Any, ...]]) -> None:
        if self._raw:
            insert_rows(conn, EVENTS.name, EVENT_COLUMNS, events)
        elif self._dialect == "postgresql":
            copy_rows(conn, EVENTS.name, EVENT_COLUMNS, events)
        else:
            conn.execute(EVENTS.insert(), [event_dict(r) for r in events])

    def _record_fingerprints(self, conn: Connection, fps: list[tuple[int, int]]) -> None:
        client, site = self.client, self.site
        if self._raw:
            rows = [(site, client, m, d) for m, d in fps]
            insert_rows(conn, FINGERPRINTS.name, ("site", "client", "mid", "digest"), rows)
        elif self._dialect == "postgresql":
            rows = [(site, client, m, d) for m, d in fps]
            copy_rows(conn, FINGERPRINTS.name, ("site", "client", "mid", "digest"), rows)
        else:
            conn.execute(
                FINGERPRINTS.insert(),
                [{"site": site, "client": client, "mid": m, "digest": d} for m, d in fps],
            )
        self._batches += 1
        if self._batches % PRUNE_EVERY == 0:
            # the oldest record to keep: ids are shared by every site writing to the store,
            # so count this site's own rows rather than subtracting from the newest id
            # (the batches' own records apart: a retry looks for one within seconds)
            for kind, window in (
                (FINGERPRINTS.c.mid != BATCH_MARK, self.redelivery_window),
                (FINGERPRINTS.c.mid == BATCH_MARK, MARKS_KEPT),
            ):
                mine = (FINGERPRINTS.c.site == site, FINGERPRINTS.c.client == client, kind)
                keep = conn.execute(
                    select(FINGERPRINTS.c.id)
                    .where(*mine)
                    .order_by(FINGERPRINTS.c.id.desc())
                    .offset(window - 1)
                    .limit(1)
                ).scalar()
                if keep is not None:
                    conn.execute(delete(FINGERPRINTS).where(*mine, FINGERPRINTS.c.id < keep))

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
        rows = []
        cache: dict[tuple[str, str], tuple[float | None, dict[str, Any]]] = {}
        for key, u in updates.items():
            old = self._device_cache.get(key) or existing.get(key)
            readings = dict(old[1]) if old is not None else {}
            readings.update(u.readings)
            first = old[0] if old is not None and old[0] else u.first_seen
            cache[key] = (first, readings)
            rows.append(
                {
                    "site": key[0],
                    "id": key[1],
                    "profile": u.profile,
                    "space": u.space,
                    "bound": u.bound,
                    "online": u.online,
                    "first_seen": first,
                    "last_seen": u.last_seen,
                    "readings": readings,
                }
            )
        if self._raw:
            t = DEVICES.name
            insert_rows(
                conn,
                t,
                DEVICE_COLUMNS,
                [(*(r[c] for c in DEVICE_COLUMNS[:-1]), json.dumps(r["readings"])) for r in rows],
                " ON CONFLICT (site, id) DO UPDATE SET profile = excluded.profile, "
                "space = excluded.space, bound = excluded.bound, "
                f"online = coalesce(excluded.online, {t}.online), "
                "first_seen = excluded.first_seen, last_seen = excluded.last_seen, "
                "readings = excluded.readings",
            )
        else:
            if self._device_stmt is None:  # compiled once, executed for every row of a batch
                self._device_stmt = device_upsert(DEVICES, self._dialect)
            conn.execute(self._device_stmt, rows)
        return cache
