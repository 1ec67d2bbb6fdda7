"""The hot write path: one transaction per batch, Core multi-row inserts, device upserts."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from gateway.errors import StoreError
from gateway.events import QUANTITIES, Event
from gateway.store.tables import DeadLetter, Device
from gateway.store.tables import Event as EventRow

EVENTS: Table = EventRow.__table__  # type: ignore[attr-defined]
DEAD_LETTERS: Table = DeadLetter.__table__  # type: ignore[attr-defined]
DEVICES: Table = Device.__table__  # type: ignore[attr-defined]


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


@dataclass(slots=True)
class Batch:
    """Everything produced by a run of messages, committed together or not at all."""

    events: list[tuple[Event, float]] = field(default_factory=list)  # (event, received_at)
    dead_letters: list[dict[str, Any]] = field(default_factory=list)
    devices: dict[tuple[str, str], DeviceUpdate] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.events) + len(self.dead_letters)


def event_row(ev: Event, received_at: float) -> dict[str, Any]:
    """The column values of one event."""
    v = ev.value
    num: float | None
    text: str | None
    if isinstance(v, str):
        num, text = None, v
    else:
        num, text = float(v), None
    return {
        "site": ev.site,
        "device": ev.device,
        "space": ev.space,
        "ts": ev.ts,
        "received_at": received_at,
        "kind": ev.kind,
        "quantity": ev.quantity,
        "value_num": num,
        "value_text": text,
        "unit": ev.unit,
        "attrs": ev.attrs or None,
    }


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

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._dialect = engine.dialect.name
        with engine.connect() as conn:
            self.events_stored = conn.execute(select(func.count()).select_from(EVENTS)).scalar_one()
            self.dead_letters = conn.execute(
                select(func.count()).select_from(DEAD_LETTERS)
            ).scalar_one()
        self.last_commit_ms = 0.0
        self._device_stmt: Any = None

    def write(self, batch: Batch) -> None:
        """Commit the batch in one transaction; raises StoreError and keeps nothing on failure."""
        t0 = time.perf_counter()
        try:
            with self.engine.begin() as conn:
                if batch.events:
                    conn.execute(EVENTS.insert(), [event_row(e, r) for e, r in batch.events])
                if batch.dead_letters:
                    conn.execute(DEAD_LETTERS.insert(), batch.dead_letters)
                if batch.devices:
                    self._upsert_devices(conn, batch.devices)
        except SQLAlchemyError as err:
            raise StoreError(f"batch of {len(batch)} not committed: {err}") from err
        self.events_stored += len(batch.events)
        self.dead_letters += len(batch.dead_letters)
        self.last_commit_ms = (time.perf_counter() - t0) * 1000

    def _upsert_devices(
        self, conn: Connection, updates: dict[tuple[str, str], DeviceUpdate]
    ) -> None:
        keys = list(updates)
        existing = {
            (r.site, r.id): r
            for r in conn.execute(
                select(
                    DEVICES.c.site, DEVICES.c.id, DEVICES.c.readings, DEVICES.c.first_seen
                ).where(
                    DEVICES.c.site.in_({k[0] for k in keys}), DEVICES.c.id.in_([k[1] for k in keys])
                )
            )
        }
        rows = []
        for key, u in updates.items():
            old = existing.get(key)
            readings = dict(old.readings or {}) if old is not None else {}
            readings.update(u.readings)
            first = old.first_seen if old is not None and old.first_seen else u.first_seen
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
        conn.execute(self._device_upsert, rows)

    @property
    def _device_upsert(self) -> Any:
        """One compiled-once upsert for every device row of a batch (executemany)."""
        if self._device_stmt is None:
            ins: Any = (
                postgresql.insert(DEVICES) if self._dialect == "postgresql" else sqlite.insert(DEVICES)
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


def upsert(
    dialect: str,
    table: Table,
    row: dict[str, Any],
    keys: tuple[str, ...],
    insert_only: tuple[str, ...] = (),
) -> Any:
    """An INSERT .. ON CONFLICT DO UPDATE for SQLite or PostgreSQL; ``insert_only`` columns
    are written for a new row and left alone on an existing one."""
    ins: Any = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
    ins = ins.values(**row)
    update = {k: getattr(ins.excluded, k) for k in row if k not in keys and k not in insert_only}
    return ins.on_conflict_do_update(index_elements=list(keys), set_=update)
