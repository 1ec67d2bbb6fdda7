"""The compact event store: an older store's events and redelivery record survive the
migration on both backends, a kill -9 in the middle of it loses nothing, and the
``event`` view reads what was written."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

from sqlalchemy import text

from gateway.events import Event
from gateway.ingest.batch import Batch
from gateway.store import BatchWriter, create_db_engine, init_db, migrate
from gateway.store.rows import BATCH_MARK, event_tuple
from gateway.store.writer import store_events

T = 1_780_000_000.0
OLD = "0010_outbox"  # the last revision with the wide event table
COLS = ("site", "device", "space", "ts", "received_at", "kind", "quantity",
        "value_num", "value_text", "unit", "attrs")  # fmt: skip


def legacy_events(n: int) -> list[tuple[Event, float]]:
    out = []
    for i in range(n):
        site = "a" if i % 3 else "b"
        if i % 5 == 0:  # a door event: text value, attributes, no unit
            e = Event(site, f"door-{i % 4}", "lobby", T + i, "door", "door", "granted", None,
                      {"member": f"m-{i}"})  # fmt: skip
        elif i % 7 == 0:  # an unbound device: no space
            e = Event(site, "stray", None, T + i, "measurement", "temperature_c", 20.25, "°C")
        else:
            e = Event(site, f"pc-{i % 6}", f"room-{i % 6}", T + i, "measurement",
                      "people_count", i % 9)  # fmt: skip
        out.append((e, T + i + 0.123))
    return out


def write_legacy(conn: object, events: list[tuple[Event, float]]) -> None:
    sql = text(f"INSERT INTO event ({', '.join(COLS)}) VALUES ({', '.join(':' + c for c in COLS)})")
    rows = []
    for e, r in events:
        row = dict(zip(COLS, event_tuple(e, r), strict=True))
        rows.append(row)
    conn.execute(sql, rows)  # type: ignore[attr-defined]


def view_rows(url: str) -> list[tuple[object, ...]]:
    engine = create_db_engine(url)
    with engine.connect() as conn:
        got = conn.execute(text(f"SELECT id, {', '.join(COLS)} FROM event ORDER BY id")).all()
    engine.dispose()
    return [tuple(r) for r in got]


def test_an_older_store_keeps_its_events_and_records(empty_db_url: str) -> None:
    engine = create_db_engine(empty_db_url)
    migrate.upgrade(engine, OLD)
    evs = legacy_events(500)
    with engine.begin() as conn:
        write_legacy(conn, evs)
        conn.execute(
            text("INSERT INTO ingestfingerprint (site, client, mid, digest) VALUES "
                 "('a', 'gw', 7, -5), ('a', 'gw', :m, 4242), ('b', 'gw', 9, 11)"),
            {"m": BATCH_MARK},
        )  # fmt: skip
        before = [tuple(r) for r in conn.execute(text("SELECT * FROM event ORDER BY id")).all()]
    init_db(engine)
    assert migrate.current(engine) == migrate.HEAD
    after = view_rows(empty_db_url)
    assert len(after) == len(before) == 500
    for old, new in zip(before, after, strict=True):
        old_attrs = json.loads(old[11]) if isinstance(old[11], str) else old[11]
        new_attrs = json.loads(new[11]) if isinstance(new[11], str) else new[11]
        assert new[:5] == old[:5] and new[6:11] == old[6:11] and new_attrs == old_attrs
        assert abs(new[5] - old[5]) < 0.0005  # received_at: kept to the millisecond
    a = BatchWriter(engine, client="gw", site="a")
    assert a.events_stored == sum(1 for e, _ in evs if e.site == "a")
    # the redelivery record came across: a DUP of 7 is known, batch 4242 is known
    assert a.committed([(7, -5), (9, 11), (BATCH_MARK, 4242)]) == {(7, -5), (BATCH_MARK, 4242)}
    # and new events take ids after the old ones (PostgreSQL's sequence moved on)
    a.write(Batch(events=[(Event("a", "pc-1", "room-1", T + 9999, "measurement",
                                 "people_count", 3), T + 9999)]))  # fmt: skip
    assert view_rows(empty_db_url)[-1][0] > before[-1][0]
    engine.dispose()


def test_the_view_reads_what_the_writer_stored(db_url: str) -> None:
    engine = create_db_engine(db_url)
    init_db(engine)
    evs = legacy_events(60)
    store_events(engine, evs)
    rows = view_rows(db_url)
    assert [(r[1], r[2], r[3], r[4], r[7]) for r in rows] == [
        (e.site, e.device, e.space, e.ts, e.quantity) for e, _ in evs
    ]
    engine.dispose()


# the migration in a process that kills itself (SIGKILL, nothing flushed or rolled back)
# just after the old event table was dropped inside the migration's transaction, its rows
# copied: the most a kill can find half done
MIGRATE = """
import os, signal, sys
from sqlalchemy import event
from gateway.store import create_db_engine, init_db
engine = create_db_engine(sys.argv[1])

def kill(conn, cursor, statement, *args):
    if statement.strip() == "DROP TABLE event":
        os.kill(os.getpid(), signal.SIGKILL)

event.listen(engine, "after_cursor_execute", kill)
init_db(engine)
"""


def test_a_kill_in_the_middle_of_the_migration_loses_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/old.db"
    engine = create_db_engine(url)
    migrate.upgrade(engine, OLD)
    engine.dispose()
    rows = [event_tuple(e, r) for e, r in legacy_events(2000)]
    with sqlite3.connect(tmp_path / "old.db") as c:
        sql = f"INSERT INTO event ({', '.join(COLS)}) VALUES ({', '.join('?' * len(COLS))})"
        c.executemany(sql, rows)
    proc = subprocess.run([sys.executable, "-c", MIGRATE, url], check=False,
                          env={**os.environ, "PYTHONPATH": os.getcwd()})  # fmt: skip
    assert proc.returncode == -signal.SIGKILL  # it got as far as the drop
    with sqlite3.connect(tmp_path / "old.db") as c:  # the old schema, whole
        assert c.execute("SELECT version_num FROM alembic_version").fetchone()[0] == OLD
        assert c.execute("SELECT count(*) FROM event").fetchone()[0] == 2000
        tables = {r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert "event_data" not in tables and "event_series" not in tables
    engine = create_db_engine(url)
    init_db(engine)  # the next start runs it again, to the end
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM event")).scalar_one() == 2000
        assert conn.exec_driver_sql("PRAGMA auto_vacuum").scalar() == 2  # incremental
    assert migrate.current(engine) == migrate.HEAD
    engine.dispose()


def test_an_old_store_is_compacted_once(tmp_path: Path) -> None:
    """A store made before incremental vacuum gets it, and the space the upgrade freed back."""
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as c:  # made by a gateway that did not ask for auto_vacuum
        c.execute("PRAGMA journal_mode=WAL")
    engine = create_db_engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA auto_vacuum=NONE")
    migrate.upgrade(engine, OLD)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA auto_vacuum").scalar() == 0
    engine.dispose()
    with sqlite3.connect(path) as c:
        sql = f"INSERT INTO event ({', '.join(COLS)}) VALUES ({', '.join('?' * len(COLS))})"
        c.executemany(sql, [event_tuple(e, r) for e, r in legacy_events(20_000)])
    engine = create_db_engine(f"sqlite:///{path}")
    before = _pages(engine)
    init_db(engine)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA auto_vacuum").scalar() == 2
        assert conn.exec_driver_sql("PRAGMA freelist_count").scalar() == 0
    assert _pages(engine) < before / 2  # the wide rows' pages went back to the disk
    engine.dispose()


def _pages(engine: object) -> int:
    with engine.connect() as conn:  # type: ignore[attr-defined]
        return int(conn.exec_driver_sql("PRAGMA page_count").scalar())
