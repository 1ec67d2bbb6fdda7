"""Redeliveries, oversized payloads and floods through the real pipeline and store."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import func, select

from gateway.building import load_building
from gateway.events import Event
from gateway.ingest import Pipeline, RawMessage
from gateway.ingest.ports import MemoryAcks, MemorySink
from gateway.ingest.screen import MAX_TRACKED_TOPICS, Screen
from gateway.profiles import ProfileRegistry
from gateway.state.config import Current, Snapshot
from gateway.state.devices import DeviceTable
from gateway.store import BatchWriter, create_db_engine, init_db
from gateway.store.redelivery import RECORDS
from gateway.store.sync import sync_building
from gateway.store.tables import DeadLetter
from gateway.store.tables import Event as EventRow
from tests.support import FIXTURES, ROOT

T0 = 1_764_320_400.0


class Harness:
    def __init__(self, tmp: Path, screen: Screen | None = None, window: int = 10_000) -> None:
        self.tmp = tmp
        self.building = load_building(FIXTURES / "building-small.yaml")
        self.registry = ProfileRegistry.load(ROOT / "device_profiles")
        self.db = create_db_engine(f"sqlite:///{tmp}/g.db")
        init_db(self.db)
        sync_building(self.db, self.building)
        self.acked: list[int] = []
        self.applied: list[Event] = []
        self.window = window
        self.screen = screen
        self.restart()

    def restart(self) -> None:
        """A fresh writer and pipeline on the same store: what a process restart sees."""
        self.writer = BatchWriter(self.db, client="gw-test", redelivery_window=self.window)
        self.pipeline = Pipeline(
            Current(Snapshot(self.building, self.registry)),
            self.writer,
            devices=DeviceTable(),
            sink=MemorySink(self.applied),
            acks=MemoryAcks(self.acked),
            screen=self.screen,
            clock=lambda: T0,
        )

    def count(self, table: type) -> int:
        with self.db.connect() as c:
            return int(c.execute(select(func.count()).select_from(table)).scalar_one())


def msg(mid: int, count: int, dup: bool = False, at: float = T0, topic: str = "") -> RawMessage:
    payload = json.dumps({"count": count}).encode()
    return RawMessage(topic or "ref/counter/pc-orion", payload, at, qos=1, mid=mid, dup=dup)


def test_redelivery_of_a_committed_message_is_acked_not_stored_again(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    h.pipeline.process([msg(7, 3), msg(8, 4)])
    h.restart()  # the PUBACKs were lost with the process; the broker resends with DUP=1
    h.pipeline.process([msg(7, 3, dup=True), msg(8, 4, dup=True), msg(9, 5)])
    assert h.count(EventRow) == 3
    assert h.acked == [7, 8, 7, 8, 9]
    assert h.pipeline.stats.redelivered == 2


def test_a_dup_never_committed_is_stored(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    h.pipeline.process([msg(7, 3)])
    # same packet id, other payload: a different message sent before the crash, not stored
    h.pipeline.process([msg(7, 9, dup=True), msg(11, 3, dup=True)])
    assert h.count(EventRow) == 3
    assert h.pipeline.stats.redelivered == 0


def test_the_same_reading_twice_without_dup_is_stored_twice(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    h.pipeline.process([msg(7, 3)])
    h.pipeline.process([msg(8, 3), msg(7, 3)])  # a sensor repeating itself; ids are reused
    assert h.count(EventRow) == 3


def test_a_dup_inside_the_same_batch_is_recognised(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    h.pipeline.process([msg(7, 3), msg(7, 3, dup=True)])
    assert h.count(EventRow) == 1
    assert h.acked == [7, 7]


def test_the_redelivery_record_is_pruned_to_its_window(tmp_path: Path) -> None:
    h = Harness(tmp_path, window=100)
    for b in range(60):
        h.pipeline.process([msg(b * 10 + i + 1, i) for i in range(10)])
    # one record per batch, pruned every 50 batches to the newest that cover the window
    # and at least the newest 100 batches (a retry looks for its own): none pruned yet
    with h.db.connect() as c:
        r = RECORDS.c
        batches, messages = c.execute(select(func.count(), func.sum(r.messages))).one()
    assert (batches, messages) == (60, 600)
    for b in range(60, 160):
        h.pipeline.process([msg(b * 10 + i + 1, i) for i in range(10)])
    with h.db.connect() as c:
        batches, messages = c.execute(select(func.count(), func.sum(r.messages))).one()
    assert 100 <= batches <= 150 and messages == 10 * batches  # pruned at 100 and 150
    h.pipeline.process([msg(1600, 9, dup=True)])  # the newest is still remembered
    assert h.pipeline.stats.redelivered == 1


def test_oversized_payload_is_dead_lettered_unparsed(tmp_path: Path) -> None:
    h = Harness(tmp_path, Screen(max_payload_bytes=1000, rate_per_s=0, burst=0))
    big = RawMessage("ref/counter/pc-orion", b"{" + b" " * 5000 + b"}", T0, qos=1, mid=1)
    h.pipeline.process([big, msg(2, 4)])
    with h.db.connect() as c:
        dl = c.execute(select(DeadLetter)).one()
    assert "5002 bytes is over the 1000-byte limit" in dl.reason
    assert len(dl.payload) == 1024  # a prefix is kept, not the whole payload
    assert h.count(EventRow) == 1 and h.acked == [1, 2]
    assert h.pipeline.stats.oversized == 1


def test_a_flooding_topic_is_limited_and_others_keep_flowing(tmp_path: Path) -> None:
    h = Harness(tmp_path, Screen(max_payload_bytes=65536, rate_per_s=10, burst=20))
    flood = [msg(i + 1, i, at=T0 + i * 0.001, topic="ref/counter/pc-lounge") for i in range(500)]
    good = [msg(1000 + i, i, at=T0 + i * 0.2) for i in range(50)]  # 5/s, under the limit
    h.pipeline.process(flood + good)
    with h.db.connect() as c:
        by_dev = dict(
            c.execute(select(EventRow.device, func.count()).group_by(EventRow.device)).all()
        )
        reasons = [r for (r,) in c.execute(select(DeadLetter.reason)).all()]
    assert by_dev["pc-orion"] == 50  # every one of them passes
    assert 20 <= by_dev["pc-lounge"] <= 26  # the burst, plus 0.5 s of refill at 10/s
    assert len(reasons) == 1 and "rate limit: topic 'ref/counter/pc-lounge'" in reasons[0]
    assert h.pipeline.stats.rate_limited == 500 - by_dev["pc-lounge"]
    assert len(h.acked) == 550  # rejected ones are acknowledged once their batch commits


def test_a_backlog_drain_within_the_burst_is_not_limited() -> None:
    s = Screen(max_payload_bytes=65536, rate_per_s=200, burst=2000)
    # a day's backlog of the chattiest device, arriving at drain speed
    verdicts = [s.check(msg(i + 1, i, at=T0 + i * 0.0001)) for i in range(1500)]
    assert verdicts.count(None) == 1500


def test_a_backlog_longer_than_the_burst_passes_after_an_absence() -> None:
    s = Screen(max_payload_bytes=65536, rate_per_s=10, burst=20)
    assert s.allow_backlog(60.0, T0) == 600  # away a minute: 600 a topic above the burst
    assert Screen(65536, rate_per_s=0, burst=20).allow_backlog(60.0, T0) == 0  # no limit
    drain = [s.check(msg(i + 1, i, at=T0 + i * 0.0001)) for i in range(620)]
    assert drain.count(None) == 620  # what a device at the allowed rate sent meanwhile
    assert s.check(msg(700, 0, at=T0 + 0.07)) is not None  # more than that was a flood
    other = [s.check(msg(800 + i, i, at=T0 + 1, topic="ref/counter/pc-lounge")) for i in range(700)]
    assert other.count(None) == 620  # every topic has its own allowance, once


def test_a_backlog_allowance_lapses_after_as_long_as_the_absence() -> None:
    s = Screen(max_payload_bytes=65536, rate_per_s=10, burst=20)
    s.allow_backlog(60.0, T0)
    assert s.check(msg(1, 0, at=T0 + 1)) is None  # takes the allowance: 619 left
    late = [s.check(msg(i + 2, i, at=T0 + 61 + i * 0.0001)) for i in range(100)]
    assert late.count(None) == 20  # what it did not use is gone: only the burst
    lounge = "ref/counter/pc-lounge"
    fresh = [s.check(msg(i + 200, i, at=T0 + 61, topic=lounge)) for i in range(100)]
    assert fresh.count(None) == 20  # nor does a topic first heard after the window take it


def test_backlog_allowances_add_up_and_are_taken_once() -> None:
    s = Screen(max_payload_bytes=65536, rate_per_s=10, burst=20)
    s.allow_backlog(100.0, T0)  # a long absence
    s.allow_backlog(2.0, T0 + 1)  # a brief drop while its backlog drains
    drain = [s.check(msg(i + 1, i, at=T0 + 1 + i * 1e-6)) for i in range(1100)]
    assert drain.count(None) == 20 + 1000 + 20


def test_a_flood_of_fresh_topics_does_not_hand_out_the_allowance_again() -> None:
    s = Screen(max_payload_bytes=65536, rate_per_s=10, burst=20)
    s.allow_backlog(60.0, T0)
    first = [s.check(msg(i + 1, i, at=T0 + i * 0.0001)) for i in range(700)]
    assert first.count(None) == 620
    for i in range(MAX_TRACKED_TOPICS):  # every bucket now holds state: all are dropped
        s.check(msg(i, 0, at=T0 + 1, topic=f"ref/counter/x{i}"))
    again = [s.check(msg(i + 1, i, at=T0 + 2 + i * 0.0001)) for i in range(100)]
    assert again.count(None) == 20  # a fresh bucket: its burst, not the allowance again


def test_each_backlog_allowance_lapses_at_its_own_time() -> None:
    s = Screen(max_payload_bytes=65536, rate_per_s=10, burst=20)
    s.allow_backlog(100.0, T0)  # 1,000 a topic until T0 + 100
    assert s.check(msg(1, 0, at=T0 + 1)) is None
    s.allow_backlog(100.0, T0 + 50)  # 1,000 more until T0 + 150
    assert s.check(msg(2, 0, at=T0 + 60)) is None
    flood = [s.check(msg(i + 3, i, at=T0 + 120 + i * 1e-6)) for i in range(3000)]
    assert flood.count(None) == 20 + 1000  # the burst and the second allowance only
