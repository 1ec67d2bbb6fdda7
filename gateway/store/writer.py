"""The hot write path: one transaction per batch, Core multi-row inserts, device upserts."""

from __future__ import annotations

import json
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import chain
from typing import Any

from sqlalchemy import Table, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from gateway.errors import StoreError
from gateway.events import QUANTITIES, Event
from gateway.store.db import db_error
from gateway.store.pg_copy import copy_rows
from gateway.store.refusals import StoreDataError, is_data_error
from gateway.store.tables import DeadLetter, Device, IngestFingerprint
from gateway.store.tables import Event as EventRow

EVENTS: Table = EventRow.__table__  # type: ignore[attr-defined]
DEAD_LETTERS: Table = DeadLetter.__table__  # type: ignore[attr-defined]
DEVICES: Table = Device.__table__  # type: ignore[attr-defined]
FINGERPRINTS: Table = IngestFingerprint.__table__  # type: ignore[attr-defined]
PRUNE_EVERY = 50  # batches between prunes of the redelivery record
PAD_STEP = 256  # rows: statement sizes are powers of two up to this, then multiples of it
MAX_PARAMS = 30_000  # bound values per statement: under SQLite's limit since 3.32 (32,766)
DEVICE_COLUMNS = (
    "site", "id", "profile", "space", "bound", "online", "first_seen", "last_seen", "readings",
)  # fmt: skip
BATCH_MARK = -1  # the packet id of a batch's own record among the redelivery fingerprints
MARKS_KEPT = 2 * PRUNE_EVERY  # the newest batch records kept
_param_limit: int | None = None


def insert_rows(conn: Connection, table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]],
                suffix: str = "") -> None:  # fmt: skip
    """Multi-row ``INSERT .. SELECT .. FROM (VALUES (..), (..))`` at the driver level (SQLite,
    qmark style), in as few statements as the bound-value limit allows (one for a usual
    batch).

    sqlite3 releases the GIL for each statement step and must take it back afterwards; while
    the decoding thread holds it, that can take a whole switch interval (5 ms). executemany
    steps once per row, and even chunks of 200 rows spent most of a batch's commit in that
    wait (``bench/ingest.py``): one statement per batch waits once. Each statement is padded
    to one of a few sizes with rows whose leading marker is NULL (the SELECT leaves them
    out), so sqlite3's statement cache holds a few prepared statements instead of one per
    batch size (each is large)."""
    width = len(columns) + 1  # the marker, then the columns
    one = f"({', '.join('?' * width)})"
    picked = ", ".join(f"column{i}" for i in range(2, width + 1))
    head = f"INSERT INTO {table} ({', '.join(columns)}) SELECT {picked} FROM (VALUES "
    tail = ") WHERE column1 IS NOT NULL" + suffix
    per = max(1, _params_allowed(conn) // width)
    for i in range(0, len(rows), per):
        chunk = rows[i : i + per]
        size = _padded(len(chunk), per)
        pad = (None,) * (width * (size - len(chunk)))
        sql = head + ", ".join([one] * size) + tail
        conn.exec_driver_sql(sql, (*chain.from_iterable((1, *r) for r in chunk), *pad))


def _padded(n: int, most: int) -> int:
    """``n`` rounded up to a power of two up to 256 rows, then to a multiple of 256."""
    size = 1 << max(0, n - 1).bit_length() if n <= PAD_STEP else -(-n // PAD_STEP) * PAD_STEP
    return min(size, most)


def _params_allowed(conn: Connection) -> int:
    """Bound values one statement may carry here (the SQLite library's own limit, read once)."""
    global _param_limit
    if _param_limit is None:
        raw = conn.connection.dbapi_connection
        getlimit = getattr(raw, "getlimit", None)
        limit = getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) if getlimit is not None else 999
        _param_limit = min(MAX_PARAMS, limit)
    return _param_limit


@dataclass(slots=True)
class DeviceUpdate:
    """What a batch learned about one device: new readings, last seen, availability."""

    profile: str
    space: str | None
    bound: bool
    first_seen: float
    last_seen: float
    online: bool | None = None
    readings: dict[str, Any] = field(default_factory=dict)

    def absorb(self, seen: float, readings: dict[str, Any], online: bool | None) -> None:
        """Take in what a later message (or batch) said about the device."""
        self.last_seen = max(self.last_seen, seen)
        self.readings.update(readings)
        if online is not None:
            self.online = online


@dataclass(slots=True)
class Batch:
    """Everything produced by a run of messages, committed together or not at all."""

    events: list[tuple[Event, float]] = field(default_factory=list)  # (event, received_at)
    dead_letters: list[dict[str, Any]] = field(default_factory=list)
    devices: dict[tuple[str, str], DeviceUpdate] = field(default_factory=dict)
    fingerprints: list[tuple[int, int]] = field(default_factory=list)  # (mid, digest)
    # its events, dead letters and fingerprints as its writer will send them, made ahead of
    # the commit by ``BatchWriter.seal`` (None: made at the write)
    sealed: bytes | None = None
    # recorded with its rows, so a write retried after it committed is known (never twice)
    id: int = field(default_factory=lambda: secrets.randbits(63))
    written: bool = False  # committed (by this writer or a retry that found its record)
    tries: int = 0  # writes attempted
    # what each message added, for isolating one the store refuses: (message, then the ends
    # of its events, dead letters, fingerprints and device touches in this batch)
    parts: list[tuple[Any, int, int, int, int]] = field(default_factory=list)
    # (device key, profile, space, bound, seen, readings, online) of each message
    touches: list[tuple[Any, ...]] = field(default_factory=list)
    # discovered (unbound) devices evicted to keep their number bounded: their rows go
    evicted: list[tuple[str, str]] = field(default_factory=list)

    @property
    def mark(self) -> tuple[int, int]:
        """Its record among the redelivery fingerprints."""
        return (BATCH_MARK, self.id)

    def __len__(self) -> int:
        return len(self.events) + len(self.dead_letters)

    def extend(self, later: Batch) -> None:
        """Add what a later batch produced, as if both had been one batch."""
        e, d, f, t = (len(x) for x in (self.events, self.dead_letters, self.fingerprints,
                                       self.touches))  # fmt: skip
        self.parts += [(m, e + a, d + b, f + c, t + u) for m, a, b, c, u in later.parts]
        self.touches += later.touches
        self.evicted += later.evicted
        self.events += later.events
        self.dead_letters += later.dead_letters
        self.fingerprints += later.fingerprints
        for key, u in later.devices.items():
            mine = self.devices.get(key)
            if mine is None:
                self.devices[key] = u
                continue
            mine.profile, mine.space, mine.bound = u.profile, u.space, u.bound
            mine.absorb(u.last_seen, u.readings, u.online)


@dataclass(slots=True)
class Rows:
    """A batch as the store takes it (and as it crosses to a writer process): event rows in
    ``EVENT_COLUMNS`` order, dead letters, device updates, redelivery fingerprints."""

    events: list[tuple[Any, ...]]
    dead_letters: list[dict[str, Any]]
    devices: list[tuple[tuple[str, str], DeviceUpdate]]
    fingerprints: list[tuple[int, int]]
    evicted: list[tuple[str, str]] = field(default_factory=list)


def batch_rows(batch: Batch) -> Rows:
    """The rows of ``batch``; StoreDataError when a value cannot be a column's."""
    try:
        events = [event_tuple(e, r) for e, r in batch.events]
    except (ValueError, OverflowError, TypeError) as err:
        raise StoreDataError(f"batch not committed: {type(err).__name__}: {err}") from err
    return Rows(
        events,
        batch.dead_letters,
        list(batch.devices.items()),
        [*batch.fingerprints, batch.mark],
        batch.evicted,
    )


def event_row(ev: Event, received_at: float) -> dict[str, Any]:
    """The column values of one event, by name (the Core insert's form)."""
    return _event_dict(event_tuple(ev, received_at))


def _event_dict(row: tuple[Any, ...]) -> dict[str, Any]:
    """An event row as the Core insert takes it (its attrs decoded for the JSON column)."""
    out = dict(zip(EVENT_COLUMNS, row, strict=True))
    out["attrs"] = json.loads(out["attrs"]) if out["attrs"] else None
    return out


def event_tuple(ev: Event, received_at: float) -> tuple[Any, ...]:
    """The column values of one event in ``EVENT_COLUMNS`` order (the driver-level path)."""
    v = ev.value
    attrs = json.dumps(ev.attrs) if ev.attrs else None
    if isinstance(v, str):
        return (ev.site, ev.device, ev.space, ev.ts, received_at, ev.kind, ev.quantity,
                None, v, ev.unit, attrs)  # fmt: skip
    return (ev.site, ev.device, ev.space, ev.ts, received_at, ev.kind, ev.quantity,
            float(v), None, ev.unit, attrs)  # fmt: skip


EVENT_COLUMNS = (
    "site", "device", "space", "ts", "received_at", "kind", "quantity",
    "value_num", "value_text", "unit", "attrs",
)  # fmt: skip


def row_value(
    quantity: str, num: float | None, text: str | None
) -> bool | int | float | str | None:
    """The typed value of a stored event."""
    if text is not None:
        return text
    if num is None:
        return None
    t = QUANTITIES.get(quantity, float)
    if t is bool:
        return bool(num)
    if t is int:
        return int(num)
    return num


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
        self.observers: list[Callable[[Batch, float], None]] = []

    def seal(self, batch: Batch) -> None:
        """Do ahead, on the preparing thread, what of ``batch``'s write can be done before
        the batches ahead of it commit. Its events, dead letters and fingerprints do not
        change after this; its device updates still do. Nothing to do for this writer."""

    def write(self, batch: Batch) -> None:
        """Commit the batch in one transaction; raises StoreError and keeps nothing on failure
        (StoreDataError when the store refused a value in it). Once committed it is never
        written again: a retry after an attempt that failed first reads whether it landed."""
        if self.landed(batch):
            return
        batch.tries += 1
        elapsed = self.write_rows(batch_rows(batch))
        batch.written = True
        self.counted(batch, elapsed)

    def landed(self, batch: Batch) -> bool:
        """True when ``batch`` is committed already (counted the once it is found so)."""
        if batch.written:
            return True
        if batch.tries and self.committed([batch.mark]):
            batch.written = True
            self.counted(batch, 0.0)
            return True
        return False

    def counted(self, batch: Batch, elapsed: float) -> None:
        """Count a committed batch and tell the observers."""
        self.batches_written += 1
        self.events_stored += len(batch.events)
        with self.counts_lock:
            self.dead_letters += len(batch.dead_letters)
        self.last_commit_ms = elapsed * 1000
        for observe in self.observers:
            observe(batch, elapsed)

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
            conn.execute(EVENTS.insert(), [_event_dict(r) for r in events])

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
        self, conn: Connection, updates: dict[tuple[str, str], DeviceUpdate]
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
            conn.execute(self._device_upsert, rows)
        return cache

    @property
    def _device_upsert(self) -> Any:
        """One compiled-once upsert for every device row of a batch (executemany)."""
        if self._device_stmt is None:
            ins: Any = (
                postgresql.insert(DEVICES)
                if self._dialect == "postgresql"
                else sqlite.insert(DEVICES)
            )
            ex = ins.excluded
            self._device_stmt = ins.on_conflict_do_update(
                index_elements=["site", "id"],
                set_={
                    "profile": ex.profile,
                    "space": ex.space,
                    "bound": ex.bound,
                    # a batch that heard no availability keeps the stored one
                    "online": func.coalesce(ex.online, DEVICES.c.online),
                    "first_seen": ex.first_seen,
                    "last_seen": ex.last_seen,
                    "readings": ex.readings,
                },
            )
        return self._device_stmt


def upsert_rows(
    conn: Connection,
    table: Table,
    keys: Sequence[str],
    rows: list[dict[str, Any]],
    insert_only: tuple[str, ...] = (),
) -> None:
    """INSERT .. ON CONFLICT (``keys``) DO UPDATE for SQLite or PostgreSQL, of rows with the
    same columns, as one statement executed for all of them; ``insert_only`` columns are
    written for a new row and left alone on an existing one."""
    if not rows:
        return
    ins: Any = (
        postgresql.insert(table) if conn.dialect.name == "postgresql" else sqlite.insert(table)
    )
    cols = [k for k in rows[0] if k not in keys and k not in insert_only]
    conn.execute(
        ins.on_conflict_do_update(
            index_elements=list(keys), set_={c: getattr(ins.excluded, c) for c in cols}
        ),
        rows,
    )
