"""``gateway db backup`` while a writer keeps committing, ``gateway db restore`` into a new
path: every event, rollup, booking and grant is back; and what either refuses, and why."""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from pathlib import Path

import pytest

from gateway.cli import main
from gateway.errors import StoreError
from gateway.ingest import RawMessage
from gateway.runtime import Gateway
from gateway.store import backup
from gateway.store.migrate import HEAD
from tests.access.conftest import BUILDING, T0, Clock, make_gateway

TABLES = ("event", "rollup_bin", "rollup_day", "booking", "access_grant")
SITE = "test-site"


def rows(db: Path, table: str) -> set[tuple[object, ...]]:
    with sqlite3.connect(db) as conn:
        return set(conn.execute(f"SELECT * FROM {table}"))  # noqa: S608 - a name from TABLES


def count(gw: Gateway, clock: Clock, device: str, n: int, mid: int) -> None:
    payload = json.dumps({"count": n}).encode()
    gw.pipeline.process([RawMessage(f"ref/counter/{device}", payload, clock.t, qos=1, mid=mid)])


def shut(gw: Gateway) -> None:
    """What ``stop`` lets go of: the writer's connection and the engine's pool."""
    gw.writer.close()
    gw.db.dispose()


def a_day(tmp: Path) -> tuple[Gateway, Clock, str]:
    """A real gateway's store: people counted through the pipeline, an hour of 15-minute bins
    and the day's totals saved, a booking and the grants it and a plan give."""
    clock = Clock(T0 - T0 % 900)
    gw = make_gateway(tmp, clock, occupancy={"bin_s": 900, "sensor_stale_s": 86_400})
    for i in range(8):
        count(gw, clock, ("pc-orion", "pc-lounge")[i % 2], i % 5 + 1, i + 1)
        clock.t += 450
        gw.live.tick(clock.t)
    assert gw.keeper.save()
    b = gw.services.bookings.create("orion", "m-3", clock.t, clock.t + 3600, False, "test")
    gw.access.grants.issue("m-3", "door-orion", None, clock.t, clock.t + 3600, "test")
    gw.access.grants.issue("m-1", None, "office-101", clock.t, clock.t + 60, "test")
    return gw, clock, str(b["id"])


def test_backup_while_writing_restores_everything(tmp_path: Path) -> None:
    (tmp_path / "live").mkdir()
    gw, clock, booking = a_day(tmp_path / "live")
    store = tmp_path / "live" / "g.db"
    before = {t: rows(store, t) for t in TABLES}
    assert all(before[t] for t in TABLES), {t: len(r) for t, r in before.items()}
    written, stop = [0], threading.Event()

    def writer() -> None:  # keeps committing batches through the pipeline meanwhile
        mid = 1000
        while not stop.is_set():
            mid += 1
            count(gw, clock, "pc-lounge", mid % 7, mid)
            written[0] += 1

    t = threading.Thread(target=writer)
    t.start()
    try:
        while written[0] < 20:
            stop.wait(0.01)
        at_start = written[0]
        done = backup.backup(gw.settings.database_url, tmp_path / "g.backup")
        during = written[0] - at_start
        while written[0] < at_start + during + 20:
            stop.wait(0.01)
    finally:
        stop.set()
        t.join()
    shut(gw)
    assert done.revision == HEAD and done.size > 0
    assert os.stat(done.path).st_mode & 0o777 == 0o600
    assert not Path(f"{done.path}-wal").exists()  # one file
    (tmp_path / "fresh").mkdir()
    fresh = tmp_path / "fresh" / "g.db"
    back = backup.restore(f"sqlite:///{fresh}", done.path, SITE)
    assert back.path == fresh and os.stat(fresh).st_mode & 0o777 == 0o600
    for table in TABLES:  # everything committed before the backup began is back
        assert before[table] <= rows(fresh, table), table
    events = rows(fresh, "event")
    assert len(before["event"]) + 20 <= len(events) <= len(rows(store, "event"))
    # a gateway starts on the restored store and finds its grants and booking
    gw2 = make_gateway(tmp_path / "fresh", Clock(clock.t))
    try:
        assert gw2.access.grants.allows("m-3", "door-orion", clock.t + 10) is not None
        assert gw2.services.bookings.get(booking)["member"] == "m-3"
    finally:
        shut(gw2)


def test_restore_refuses_a_running_store_and_bad_files(tmp_path: Path) -> None:
    gw, _, _ = a_day(tmp_path)
    url = gw.settings.database_url
    good = backup.backup(url, tmp_path / "good.backup").path
    with pytest.raises(StoreError, match="open in a running gateway: stop it"):
        backup.restore(url, good, SITE)  # gw still holds g.db
    shut(gw)
    other = tmp_path / "other.backup"
    other.write_bytes(good.read_bytes())
    with sqlite3.connect(other) as conn:
        conn.execute("UPDATE site SET id = 'site-elsewhere'")
    with pytest.raises(StoreError, match="store of site-elsewhere, not of site test-site"):
        backup.restore(url, other, SITE)
    old = tmp_path / "old.backup"
    old.write_bytes(good.read_bytes())
    with sqlite3.connect(old) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0005_older'")
    with pytest.raises(StoreError, match=f"revision 0005_older, this gateway at {HEAD}"):
        backup.restore(url, old, SITE)
    junk = tmp_path / "notes.txt"
    junk.write_text("not a database\n" * 10)
    with pytest.raises(StoreError, match="not a gateway store: not a SQLite database"):
        backup.restore(url, junk, SITE)
    foreign = tmp_path / "foreign.db"
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE t (x)")
    with pytest.raises(StoreError, match="not a gateway store: it has no gateway tables"):
        backup.restore(url, foreign, SITE)
    assert not list(tmp_path.glob(".*.tmp"))  # no half file left beside the store
    backup.restore(url, good, SITE)  # stopped, the right file: it goes in
    assert rows(tmp_path / "g.db", "access_grant")


def test_backup_refusals_exit_2_with_the_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    gw, _, _ = a_day(tmp_path)
    shut(gw)
    monkeypatch.setenv("GATEWAY_DATABASE_URL", gw.settings.database_url)
    monkeypatch.setenv("GATEWAY_BUILDING", str(BUILDING))
    locked = tmp_path / "ro"
    locked.mkdir(mode=0o500)
    if not os.access(locked, os.W_OK):  # root may write anywhere: this case is for the others
        assert main(["db", "backup", str(locked / "g.backup")]) == 2
        assert f"cannot write the backup to {locked / 'g.backup'}: Permission denied" in (
            capsys.readouterr().err
        )
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    assert main(["db", "backup", str(a_file / "g.backup")]) == 2
    assert f"cannot write the backup to {a_file / 'g.backup'}: Not a directory" in (
        capsys.readouterr().err
    )
    assert main(["db", "backup", str(tmp_path / "missing" / "g.backup")]) == 2
    assert "No such file or directory" in capsys.readouterr().err
    assert main(["db", "backup", str(tmp_path)]) == 2
    assert "it is a folder" in capsys.readouterr().err
    assert main(["db", "backup", str(tmp_path / "ok.backup")]) == 0
    assert "ok.backup" in capsys.readouterr().out
    assert main(["db", "restore", str(tmp_path / "ok.backup")]) == 0


def test_postgres_says_what_to_run() -> None:
    url = "postgresql+psycopg://gw:secret@db.example:5432/gateway"
    with pytest.raises(StoreError) as err:
        backup.backup(url, "x.dump")
    assert "pg_dump --format=custom --file FILE 'postgresql://gw:***@db.example:5432/gateway'" in (
        str(err.value)
    )
    assert "secret" not in str(err.value)
    with pytest.raises(StoreError, match="pg_restore --clean --if-exists"):
        backup.restore(url, "x.dump", SITE)
