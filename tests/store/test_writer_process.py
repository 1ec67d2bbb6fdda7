"""The writer in a child process: same rows as in-process, errors kept, restarts, no orphans."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from gateway.errors import StoreError
from gateway.events import Event
from gateway.ingest.batch import Batch, DeviceUpdate
from gateway.store import create_db_engine, init_db
from gateway.store import writer_process as wp
from gateway.store.writer import DEVICES, EVENTS
from gateway.store.writer_process import WriterProcess
from tests.support import wait_for

T = 1_764_320_400.123456


@pytest.fixture
def db(db_url: str) -> Iterator[tuple[Engine, str]]:
    engine = create_db_engine(db_url)
    init_db(engine)
    yield engine, db_url
    engine.dispose()


def batch(first: int, n: int, site: str = "a") -> Batch:
    b = Batch()
    for i in range(first, first + n):
        e = Event(site, f"dev-{i % 3}", "orion", T + i, "measurement", "people_count", i, None, {})
        b.events.append((e, T + i + 0.5))
        b.fingerprints.append((i % 65535 + 1, 1000 + i))
    b.devices[(site, "dev-0")] = DeviceUpdate("ref", "orion", True, T, T + n, True, {"x": 1})
    return b


def stored(engine: Engine) -> list[tuple[str, float, float | None]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(EVENTS.c.device, EVENTS.c.ts, EVENTS.c.value_num).order_by(EVENTS.c.ts)
        ).all()
    return [tuple(r) for r in rows]  # type: ignore[misc]


def child_of(w: WriterProcess) -> subprocess.Popen[bytes]:
    proc = w._proc
    assert proc is not None
    return proc


def test_rows_written_by_the_child_are_the_batch_and_counted(db: tuple[Engine, str]) -> None:
    engine, url = db
    w = WriterProcess(engine, url, site="a")
    try:
        seen: list[int] = []
        w.observers.append(lambda b, _s: seen.append(len(b.events)))
        w.write(batch(0, 700))
        w.write(batch(700, 5))
        assert (w.events_stored, w.batches_written, seen) == (705, 2, [700, 5])
        assert stored(engine) == [(f"dev-{i % 3}", T + i, float(i)) for i in range(705)]
        assert w.committed([(1, 1000), (2, 9)]) == {(1, 1000)}
    finally:
        w.close()
    assert w._proc is None


def test_a_sealed_batch_writes_its_device_updates_as_they_are_at_the_write(
    db: tuple[Engine, str],
) -> None:
    """Sealing packs the rows ahead; what the commit learns about devices after it (first
    seen, back online, from the live view) still reaches the store."""
    engine, url = db
    w = WriterProcess(engine, url, site="a")
    try:
        b = batch(0, 20)
        w.seal(b)
        assert b.sealed is not None
        b.devices[("a", "dev-0")].first_seen = T - 100
        b.devices[("a", "dev-0")].online = False
        w.write(b)
        assert stored(engine) == [(f"dev-{i % 3}", T + i, float(i)) for i in range(20)]
        with engine.connect() as conn:
            dev = conn.execute(select(DEVICES).where(DEVICES.c.id == "dev-0")).one()
        assert (dev.first_seen, dev.online, dev.last_seen) == (T - 100, False, T + 20)
    finally:
        w.close()


def test_a_refused_batch_keeps_nothing_and_the_child_goes_on(db: tuple[Engine, str]) -> None:
    engine, url = db
    w = WriterProcess(engine, url, site="a")
    try:
        bad = batch(0, 3)
        bad.events.append((Event(None, "d", None, T, "measurement", "x", 1), T))  # type: ignore[arg-type]
        with pytest.raises(StoreError):
            w.write(bad)
        assert stored(engine) == [] and w.events_stored == 0
        w.write(batch(10, 2))
        assert len(stored(engine)) == 2 and w.restarts == 0
    finally:
        w.close()


def test_a_child_lost_mid_batch_is_replaced_and_the_batch_written_exactly_once(
    db: tuple[Engine, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, url = db
    w = WriterProcess(engine, url, site="a")
    real_send, real_recv = wp._send, wp._recv
    doomed: list[str] = []

    def send_to_a_dying_child(pipe: Any, *frames: bytes) -> None:
        if doomed == ["before"] and len(frames) == 2:  # a batch (settings are one frame)
            doomed.pop()
            proc = child_of(w)
            proc.kill()
            proc.wait()
        real_send(pipe, *frames)

    def answer_lost_after_the_commit(pipe: Any) -> Any:
        if doomed == ["after"]:
            doomed.pop()
            wait_for(lambda: len(stored(engine)) == 50)  # the child has committed it
            proc = child_of(w)
            proc.kill()
            proc.wait()
            raise EOFError("the child went before it answered")
        return real_recv(pipe)

    def write_until_done(b: Batch) -> None:  # as the worker does: retried on a store error
        for _ in range(3):
            try:
                w.write(b)
                return
            except StoreError:
                continue
        raise AssertionError("never written")

    monkeypatch.setattr(wp, "_send", send_to_a_dying_child)
    monkeypatch.setattr(wp, "_recv", answer_lost_after_the_commit)
    try:
        # a QoS 0 batch (no redelivery fingerprints): lost after it committed, the batch's
        # own record says it is in, and it is not written a second time
        first = batch(0, 50)
        first.fingerprints.clear()
        doomed.append("after")
        write_until_done(first)
        assert w.restarts == 1 and len(stored(engine)) == 50 and w.events_stored == 50
        # lost before it committed: the batch is refused (nothing acknowledged), and the
        # worker's retry writes it once
        second = batch(50, 10)
        doomed.append("before")
        with pytest.raises(StoreError):
            w.write(second)
        w.write(second)
        w.write(second)  # a retry of a batch already written writes nothing
        assert w.restarts == 2
        with engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(EVENTS)).scalar_one() == 60
        assert w.events_stored == 60
    finally:
        w.close()


def test_the_child_does_not_outlive_a_killed_gateway(tmp_path: object) -> None:
    url = f"sqlite:///{tmp_path}/g.db"
    script = (
        "import sys, time\n"
        "from gateway.store import create_db_engine, init_db\n"
        "from gateway.store.writer_process import WriterProcess\n"
        f"e = create_db_engine({url!r}); init_db(e)\n"
        f"w = WriterProcess(e, {url!r})\n"
        "print(w._proc.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    time.sleep(0.5)  # the child is up and has asked to die with its parent
    parent.kill()
    parent.wait()
    wait_for(lambda: not _alive(child), timeout=5)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] != "Z"  # a zombie has exited
    except FileNotFoundError:
        return False


def test_a_batch_refused_for_its_data_is_told_apart_from_a_store_failure(
    db: tuple[Engine, str],
) -> None:
    """The child says when the store refused a value (the pipeline then isolates it) rather
    than failed (the pipeline then retries): a device id that is not UTF-8 is refused on
    both stores."""
    from gateway.store.refusals import StoreDataError

    engine, url = db
    w = WriterProcess(engine, url, site="a")
    try:
        bad = batch(0, 2)
        bad.devices[("a", "dev-\ud800")] = DeviceUpdate("ref", None, False, T, T)
        with pytest.raises(StoreDataError, match="surrogates not allowed"):
            w.write(bad)
        w.write(batch(10, 2))
        assert len(stored(engine)) == 2 and w.restarts == 0
    finally:
        w.close()
