"""Nothing acknowledged is lost, nothing stored twice: real Mosquitto, real `gateway run`.

Each message is a people count carrying its own sequence number as the value, so the store can
be checked message by message: every number present exactly once.
"""

from __future__ import annotations

import errno
import os
import re
import sqlite3
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from tests.support import MOSQUITTO, Broker, GatewayProcess, wait_for

pytestmark = pytest.mark.skipif(MOSQUITTO is None, reason="needs a Mosquitto binary")

DEVICES = ("pc-orion", "pc-lounge")
NO_LIMIT = {"GATEWAY_INGEST__DEVICE_RATE_PER_S": "0"}


def counts(db: Path) -> Counter[int]:
    """How many times each sequence number is stored."""
    if not db.exists():
        return Counter()
    with sqlite3.connect(db, timeout=5) as c:
        rows = c.execute(
            "SELECT value_num FROM event WHERE quantity = 'people_count' AND device IN (?, ?)",
            DEVICES,
        ).fetchall()
    return Counter(int(v) for (v,) in rows)


def assert_exactly_once(db: Path, n: int) -> None:
    got = counts(db)
    missing = [i for i in range(n) if got[i] == 0]
    twice = {i: k for i, k in got.items() if k > 1}
    assert not missing, f"{len(missing)} lost, first {missing[:10]}"
    assert not twice, f"{len(twice)} stored more than once: {list(twice.items())[:10]}"
    assert sum(got.values()) == n


def publish(port: int, seqs: range, wait_each: bool = False) -> None:
    """QoS 1 people counts ``seqs`` alternating over two devices; returns when all are acked."""
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"pub-{port}-{seqs.start}")
    c.max_inflight_messages_set(500)
    c.connect("127.0.0.1", port)
    c.loop_start()
    infos = []
    for i in seqs:
        info = c.publish(f"ref/counter/{DEVICES[i % 2]}", f'{{"count": {i}}}', qos=1)
        if wait_each:
            info.wait_for_publish(timeout=10)
        infos.append(info)
    for info in infos:
        info.wait_for_publish(timeout=30)
    c.disconnect()
    c.loop_stop()


_started: list[GatewayProcess] = []


@pytest.fixture(autouse=True)
def _cleanup() -> Iterator[None]:
    """A failing test must not leave its gateway process running."""
    yield
    while _started:
        g = _started.pop()
        if g.proc is not None:
            g.stop(sig="kill")


def gateway(broker: Broker, workdir: Path, **env: str) -> GatewayProcess:
    g = GatewayProcess(
        broker.url, workdir, GATEWAY_MQTT__CLIENT_ID=f"gw-{workdir.name}", **{**NO_LIMIT, **env}
    )
    _started.append(g)
    return g


def metric(gw: GatewayProcess, name: str) -> float:
    for line in gw.http.get("/metrics").text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} not in /metrics")


def test_kill_9_mid_stream_then_restart_stores_every_message_once(
    broker: Broker, tmp_path: Path
) -> None:
    n = 4000
    gw = gateway(broker, tmp_path, GATEWAY_MQTT__BATCH_SIZE="100").start()
    db = tmp_path / "gateway.db"
    pub = threading.Thread(target=publish, args=(broker.port, range(n)))
    pub.start()
    wait_for(lambda: sum(counts(db).values()) >= n // 4, timeout=30, interval=0.01)
    gw.stop(sig="kill")
    pub.join()
    gw.start()
    wait_for(lambda: sum(counts(db).values()) >= n, timeout=60)
    wait_for(lambda: gw.get("/api/v1/health")["queue_depth"] == 0, timeout=10)
    gw.stop()
    assert_exactly_once(db, n)


def test_crash_after_commit_before_ack_is_recognised_on_redelivery(
    broker: Broker, tmp_path: Path
) -> None:
    """The worst moment: committed, PUBACKs never sent. The broker resends them (DUP=1)."""
    n = 1000
    first = gateway(
        broker, tmp_path, GATEWAY_MQTT__BATCH_SIZE="50", GATEWAY_FAULT_EXIT_AFTER="3"
    ).start()
    publish(broker.port, range(n))
    assert first.proc is not None
    assert first.proc.wait(timeout=30) == 137  # exited right after its third commit
    first.stop()
    db = tmp_path / "gateway.db"
    committed_before = sum(counts(db).values())
    assert committed_before >= 3  # something was committed and never acknowledged
    again = gateway(broker, tmp_path).start()  # same client id: the same session
    wait_for(lambda: sum(counts(db).values()) >= n, timeout=60)
    wait_for(lambda: metric(again, "gateway_redeliveries_total") >= 1, timeout=10)
    again.stop()
    assert_exactly_once(db, n)


def test_broker_restart_mid_stream_loses_nothing(tmp_path: Path) -> None:
    bdir = tmp_path / "broker"
    bdir.mkdir()
    broker = Broker(bdir, persistence=True).start()
    gw = gateway(broker, tmp_path).start()
    db = tmp_path / "gateway.db"
    n = 1200
    try:
        publish(broker.port, range(n // 2), wait_each=True)
        broker.stop()  # SIGTERM: Mosquitto saves sessions and queued messages
        broker = Broker(bdir, port=broker.port, persistence=True).start()
        wait_for(lambda: gw.get("/api/v1/health")["mqtt"] == "connected", timeout=60)
        publish(broker.port, range(n // 2, n), wait_each=True)
        wait_for(lambda: sum(counts(db).values()) >= n, timeout=60)
        gw.stop()
        assert_exactly_once(db, n)
    finally:
        broker.stop()


def test_sigterm_drains_and_commits_what_is_in_flight(broker: Broker, tmp_path: Path) -> None:
    n = 600
    # A long batch window (a batch closes after a pause of a 25th of it, here 4 s): on SIGTERM
    # the messages are held by the worker, not committed yet.
    gw = gateway(
        broker, tmp_path, GATEWAY_MQTT__BATCH_MS="100000", GATEWAY_MQTT__BATCH_SIZE="100000"
    ).start()
    db = tmp_path / "gateway.db"
    publish(broker.port, range(n))
    wait_for(lambda: gw.get("/api/v1/stats")["messages_received"] >= n, timeout=10)
    assert sum(counts(db).values()) < n  # still in flight inside the gateway
    # uvicorn re-raises the SIGTERM after its graceful shutdown, so -15 is a clean exit too
    assert gw.stop() in (0, -15)
    assert f"gateway stopped: {n} messages committed" in gw.read_log()
    assert_exactly_once(db, n)  # committed before exit
    gw.env["GATEWAY_MQTT__BATCH_MS"] = "50"
    gw.start()  # and acknowledged: nothing comes back
    publish(broker.port, range(n, n + 1))
    wait_for(lambda: sum(counts(db).values()) >= n + 1, timeout=15)
    gw.stop()
    assert_exactly_once(db, n + 1)


def test_store_locked_stops_acks_reports_error_and_recovers(broker: Broker, tmp_path: Path) -> None:
    gw = gateway(broker, tmp_path, GATEWAY_DATABASE_BUSY_TIMEOUT_MS="200").start()
    db = tmp_path / "gateway.db"
    lock = sqlite3.connect(db, timeout=5, isolation_level=None)
    lock.execute("BEGIN EXCLUSIVE")  # another process holds the store
    try:
        publish(broker.port, range(200))
        wait_for(lambda: gw.get("/api/v1/health")["store"] == "error", timeout=15)
        assert gw.get("/api/v1/health")["status"] == "degraded"
        assert metric(gw, "gateway_store_ok") == 0
        assert metric(gw, "gateway_store_errors_total") >= 1
        why = gw.get("/api/v1/stats")["last_store_error"]
        assert "database is locked" in why and "INSERT" not in why  # not a batch's values
    finally:
        lock.execute("ROLLBACK")
        lock.close()
    wait_for(lambda: gw.get("/api/v1/health")["store"] == "ok", timeout=30)
    wait_for(lambda: sum(counts(db).values()) >= 200, timeout=30)
    gw.stop()
    assert_exactly_once(db, 200)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 24 MiB file system (tmpfs) of the store's own, so the disk can really fill up."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", str(mnt)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small file system here: {done.stderr.decode().strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def fill(disk: Path) -> Path:
    """Take every free byte of ``disk`` with one file; the file."""
    filler = disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        for chunk in (1 << 20, 4096, 1):  # down to the last byte
            try:
                while True:
                    os.write(fd, b"\0" * chunk)
            except OSError as err:
                assert err.errno == errno.ENOSPC, err
    finally:
        os.close(fd)
    return filler


def test_disk_full_stops_acks_reports_error_and_recovers(
    broker: Broker, tmp_path: Path, small_disk: Path
) -> None:
    db = small_disk / "gateway.db"
    gw = gateway(broker, tmp_path, GATEWAY_DATABASE_URL=f"sqlite:///{db}").start()
    n = 3000
    publish(broker.port, range(100))  # the store works before the disk fills
    wait_for(lambda: sum(counts(db).values()) >= 100, timeout=15)
    filler = fill(small_disk)
    publish(broker.port, range(100, n))
    wait_for(lambda: gw.get("/api/v1/health")["store"] == "error", timeout=30)
    assert gw.get("/api/v1/health")["status"] == "degraded"
    assert metric(gw, "gateway_store_ok") == 0
    why = gw.get("/api/v1/stats")["last_store_error"]
    assert "database or disk is full" in why and "INSERT" not in why
    assert sum(counts(db).values()) < n  # held back, not acknowledged
    filler.unlink()  # space again
    wait_for(lambda: gw.get("/api/v1/health")["store"] == "ok", timeout=30)
    wait_for(lambda: sum(counts(db).values()) >= n, timeout=60)
    gw.stop()
    assert_exactly_once(db, n)


def test_a_backlog_queued_while_away_is_stored_not_rate_limited(
    broker: Broker, tmp_path: Path
) -> None:
    """Per topic 5/s with a burst of 10: a backlog of 20 a topic only passes because the
    gateway knows it was away long enough for a device to send that many at 5/s."""
    limit = {"GATEWAY_INGEST__DEVICE_RATE_PER_S": "5", "GATEWAY_INGEST__DEVICE_BURST": "10"}
    gw = gateway(broker, tmp_path, **limit).start()
    db = tmp_path / "gateway.db"
    publish(broker.port, range(10), wait_each=True)
    wait_for(lambda: sum(counts(db).values()) >= 10, timeout=15)
    gw.stop()
    time.sleep(5.0)  # away: at 5/s a device may send 25 meanwhile, and the broker queues them
    publish(broker.port, range(10, 50))  # 20 a topic
    flood = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"flood-{broker.port}")
    flood.connect("127.0.0.1", broker.port)
    flood.loop_start()
    infos = [
        flood.publish("zigbee2mqtt/z-office-101-temp", '{"temperature": 21.5}', qos=1)
        for _ in range(400)
    ]
    for info in infos:
        info.wait_for_publish(timeout=30)
    flood.disconnect()
    flood.loop_stop()
    gw.start()
    wait_for(lambda: gw.get("/api/v1/stats")["messages_committed"] >= 440, timeout=30)
    allowance = allowances(tmp_path / "gateway.log", "session resumed")
    assert len(allowance) == 1 and allowance[0] >= 25  # away at least 5 s at 5/s
    limited = metric(gw, "gateway_rejected_rate_limited_total")
    gw.stop()
    assert_exactly_once(db, 50)
    with sqlite3.connect(db) as c:
        (flooded,) = c.execute(
            "SELECT count(*) FROM event WHERE device = 'z-office-101-temp'"
        ).fetchone()
    assert flooded + limited == 400
    # its burst, its share of the absence and a little refill while it drains: not 400
    assert 10 <= flooded <= 10 + allowance[0] + 10


def allowances(log: Path, why: str) -> list[float]:
    """The backlog allowances (messages a topic) the gateway logged for ``why``."""
    found = re.findall(rf"backlog \({why}\): .* may pass up to (\d+) queued", log.read_text())
    return [float(x) for x in found]


def test_a_backlog_held_while_the_store_refused_writes_is_stored(tmp_path: Path) -> None:
    """A locked store: nothing is acknowledged, and once its 20 in-flight messages are out
    the broker holds the stream. Two devices at 4/s (under the 5/s limit) must all be stored
    when the store is back, though what the broker held arrives at once."""
    (tmp_path / "broker").mkdir()
    broker = Broker(tmp_path / "broker", inflight=20).start()
    try:
        gw = gateway(
            broker,
            tmp_path,
            GATEWAY_INGEST__DEVICE_RATE_PER_S="5",
            GATEWAY_INGEST__DEVICE_BURST="5",
            GATEWAY_DATABASE_BUSY_TIMEOUT_MS="200",
        ).start()
        db = tmp_path / "gateway.db"
        pub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"steady-{broker.port}")
        pub.connect("127.0.0.1", broker.port)
        pub.loop_start()
        lock = sqlite3.connect(db, timeout=5, isolation_level=None)
        lock.execute("BEGIN EXCLUSIVE")
        n = 0
        try:
            for _ in range(40):  # 10 s; after the first 20 the broker holds the rest
                for dev in DEVICES:
                    info = pub.publish(f"ref/counter/{dev}", f'{{"count": {n}}}', qos=1)
                    info.wait_for_publish(5)
                    n += 1
                time.sleep(0.25)
        finally:
            lock.execute("ROLLBACK")
            lock.close()
        pub.disconnect()
        pub.loop_stop()
        wait_for(lambda: gw.get("/api/v1/stats")["messages_committed"] >= n, timeout=60)
        assert allowances(tmp_path / "gateway.log", "the store took writes again")
        assert metric(gw, "gateway_rejected_rate_limited_total") == 0
        gw.stop()
        assert_exactly_once(db, n)
    finally:
        broker.stop()
