"""Retention: raw events and audit entries past their windows go in small transactions, on
both backends; what was not due stays; reports read the same figures after; a kill in the
middle of a pass loses nothing that was not due; a window of zero is refused."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine

from gateway.errors import ConfigError
from gateway.events import Event
from gateway.occupancy.accumulate import EngineOutput
from gateway.readmodel.queries import ReadModel
from gateway.settings import RetentionSettings, load_settings
from gateway.store import create_db_engine, init_db, rollups
from gateway.store.audit import AUDIT, Audit, record
from gateway.store.retention import DAY_S, Retention
from gateway.store.writer import EVENT_DATA, store_events
from tests.occupancy.day import AMS, SCRIPT, L, building, run, settings

NOW = 1_790_000_000.0


def events(site: str, ages_days: list[float]) -> list[tuple[Event, float]]:
    return [
        (
            Event(
                site, f"pc-{i % 3}", "orion", NOW - a * DAY_S, "measurement", "people_count", i % 5
            ),
            NOW - a * DAY_S,
        )  # fmt: skip
        for i, a in enumerate(ages_days)
    ]


def stored_ts(db: Engine, site: str) -> list[float]:
    with db.connect() as conn:
        q = text("SELECT ts FROM event WHERE site = :s ORDER BY ts")
        return [r[0] for r in conn.execute(q, {"s": site})]


def test_a_pass_prunes_what_is_due_and_nothing_else(db_url: str) -> None:
    db = create_db_engine(db_url)
    init_db(db)
    ages = [45.0 - i * 0.01 for i in range(1500)] + [29.9, 10.0, 0.5]  # 1500 due, 3 not
    store_events(db, events("a", ages) + events("b", [60.0, 1.0]))  # b: another site's
    with db.begin() as conn:
        record(conn, [
            Audit("a", NOW - 100 * DAY_S, "gateway", "door_decision", "door-1", "granted"),
            Audit("a", NOW - 80 * DAY_S, "gateway", "door_decision", "door-1", "denied"),
            Audit("a", NOW - 100 * DAY_S, "admin", "member_erased", "p-1", "ok"),
        ])  # fmt: skip
    counted: list[int] = []
    r = Retention(
        db, "a", RetentionSettings(batch_rows=400, pause_s=0), lambda: NOW, counted.append
    )
    st = r.run_pass()
    assert st.events == 1500 and counted == [400, 400, 400, 300]  # small transactions
    assert stored_ts(db, "a") == [NOW - a * DAY_S for a in (29.9, 10.0, 0.5)]
    assert len(stored_ts(db, "b")) == 2  # not this site's to prune
    with db.connect() as conn:
        left = conn.execute(select(AUDIT.c.action, AUDIT.c.result).order_by(AUDIT.c.id)).all()
    assert [tuple(x) for x in left] == [("door_decision", "denied"), ("member_erased", "ok")]
    assert r.run_pass().events == 0  # nothing more is due
    db.dispose()


def test_sqlite_gives_the_pruned_pages_back(tmp_path: Path) -> None:
    db = create_db_engine(f"sqlite:///{tmp_path}/g.db")
    init_db(db)
    for k in range(10):
        store_events(db, events("a", [40.0 + k + i * 1e-5 for i in range(5000)]))
    with db.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        before = conn.exec_driver_sql("PRAGMA page_count").scalar_one()
    st = Retention(db, "a", RetentionSettings(pause_s=0), lambda: NOW).run_pass()
    with db.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        after = conn.exec_driver_sql("PRAGMA page_count").scalar_one()
        free = conn.exec_driver_sql("PRAGMA freelist_count").scalar_one()
    assert st.events == 50_000 and st.pages_freed > 0
    assert free == 0 and after < before / 3  # the file shrank
    db.dispose()


def test_a_report_over_a_pruned_month_reads_the_same(tmp_path: Path) -> None:
    db = create_db_engine(f"sqlite:///{tmp_path}/g.db")
    init_db(db)
    out, eng = EngineOutput(), None
    for _now, step, drained in run(L(23, 59)):
        out.merge(drained)
        eng = step
    assert eng is not None
    rollups.save(db, "s1", out, None, L(23, 59), eng.bin_s, eng.cal.day_of_bin)
    store_events(db, [(e, a) for a, e in SCRIPT])  # the day's raw events beside its rollups
    month = (
        datetime(2026, 3, 1, tzinfo=AMS).timestamp(),
        datetime(2026, 4, 1, tzinfo=AMS).timestamp(),
    )
    b = building()
    rm = ReadModel(db, settings(), lambda: b, eng.cal)

    def figures() -> list[dict[str, object]]:
        return rm.utilization(*month, "space").rows + rm.utilization(*month, "site").rows

    before = figures()
    assert any(r["occupied_s"] for r in before)  # there is something to compare
    later = month[1] + 40 * DAY_S
    st = Retention(db, "s1", RetentionSettings(pause_s=0), lambda: later).run_pass()
    assert st.events == len(SCRIPT)
    with db.connect() as conn:
        assert conn.execute(select(func.count()).select_from(EVENT_DATA)).scalar_one() == 0
    assert figures() == before
    db.dispose()


# a pass in a process that kills itself (SIGKILL) in the middle of its third delete
PRUNE = """
import os, signal, sys
from sqlalchemy import event
from gateway.settings import RetentionSettings
from gateway.store import create_db_engine
from gateway.store.retention import Retention
engine = create_db_engine(sys.argv[1])
deletes = []

def kill(conn, cursor, statement, *args):
    if statement.startswith("DELETE FROM event_data"):
        deletes.append(1)
        if len(deletes) == 3:
            os.kill(os.getpid(), signal.SIGKILL)

event.listen(engine, "after_cursor_execute", kill)
small = RetentionSettings(batch_rows=100, pause_s=0)
Retention(engine, "a", small, lambda: float(sys.argv[2])).run_pass()
"""


def test_a_kill_in_the_middle_of_a_pass_loses_nothing_that_was_not_due(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/g.db"
    db = create_db_engine(url)
    init_db(db)
    due, kept = [50.0 - i * 0.001 for i in range(1000)], [20.0 - i * 0.001 for i in range(500)]
    store_events(db, events("a", due + kept))
    proc = subprocess.run([sys.executable, "-c", PRUNE, url, repr(NOW)], check=False,
                          env={**os.environ, "PYTHONPATH": os.getcwd()})  # fmt: skip
    assert proc.returncode == -signal.SIGKILL
    left = stored_ts(db, "a")
    assert len(left) == 1500 - 200  # two whole deletes committed, the third rolled back
    assert left[-500:] == sorted(NOW - a * DAY_S for a in kept)
    Retention(db, "a", RetentionSettings(batch_rows=100, pause_s=0), lambda: NOW).run_pass()
    assert stored_ts(db, "a") == sorted(NOW - a * DAY_S for a in kept)  # the next pass goes on
    db.dispose()


@pytest.mark.parametrize("field", ["events_days", "audit_days"])
@pytest.mark.parametrize("value", ["0", "-7", "nan"])
def test_a_window_of_zero_or_less_is_refused(
    field: str, value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(f"GATEWAY_RETENTION__{field.upper()}", value)
    with pytest.raises(ConfigError, match=f"retention.{field}"):
        load_settings()
