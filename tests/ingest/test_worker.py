"""The live worker: preparing overlaps committing, yet acks, storage and apply stay in order."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from gateway.building import load_building
from gateway.events import Event
from gateway.ingest import Pipeline, RawMessage
from gateway.ingest.batch import Batch
from gateway.ingest.handoff import Handoff
from gateway.ingest.ports import MemorySink
from gateway.profiles import ProfileRegistry
from gateway.state.config import Current, Snapshot
from gateway.state.devices import DeviceTable
from gateway.store import BatchWriter, create_db_engine, init_db
from gateway.store.sync import sync_building
from gateway.store.tables import Event as EventRow
from tests.support import FIXTURES, ROOT, wait_for

T0 = 1_764_320_400.0


class GatedWriter(BatchWriter):
    """Holds its first commit until the test opens the gate."""

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.entered = threading.Event()
        self.gate = threading.Event()

    def write(self, batch: Batch) -> None:
        self.entered.set()
        assert self.gate.wait(10)
        super().write(batch)


class Harness:
    def __init__(self, tmp: Path) -> None:
        building = load_building(FIXTURES / "building-small.yaml")
        self.db = create_db_engine(f"sqlite:///{tmp}/w.db")
        init_db(self.db)
        sync_building(self.db, building)
        self.writer = GatedWriter(self.db, client="gw-test")
        self.acks: list[list[int]] = []
        self.applied: list[Event] = []
        self.pipeline = Pipeline(
            Current(Snapshot(building, ProfileRegistry.load(ROOT / "device_profiles"))),
            self.writer,
            devices=DeviceTable(),
            sink=MemorySink(self.applied),
            acks=self,
            batch_size=10,
            batch_ms=10,
            clock=lambda: T0,
        )
        self.queue = Handoff(maxsize=1000)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.pipeline.run, args=(self.queue, self.stop))
        self.thread.start()

    def ack_messages(self, msgs: list[RawMessage]) -> None:
        self.acks.append([m.mid for m in msgs])

    def is_stale(self, msg: RawMessage) -> bool:
        return False

    def acked(self) -> list[int]:
        return [mid for batch in self.acks for mid in batch]

    def count(self) -> int:
        with self.db.connect() as c:
            return int(c.execute(select(func.count()).select_from(EventRow)).scalar_one())

    def close(self) -> None:
        self.writer.gate.set()
        self.stop.set()
        self.thread.join(timeout=10)
        assert not self.thread.is_alive()


def msg(mid: int, count: int, dup: bool = False) -> RawMessage:
    payload = json.dumps({"count": count}).encode()
    return RawMessage("ref/counter/pc-orion", payload, T0 + mid, qos=1, mid=mid, dup=dup)


def test_batches_commit_ack_and_apply_in_arrival_order(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    try:
        h.writer.gate.set()
        for start in range(1, 61, 7):  # chunks that do not line up with batches
            h.queue.put_many([msg(i, i) for i in range(start, min(start + 7, 61))])
        wait_for(lambda: len(h.acked()) == 60, timeout=10)
        assert h.acked() == list(range(1, 61))
        assert len(h.acks) >= 6  # batches of at most 10
        assert [e.value for e in h.applied] == list(range(1, 61))
        assert h.count() == 60
    finally:
        h.close()


def test_a_redelivery_of_a_message_still_committing_is_not_stored_twice(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    try:
        h.queue.put_many([msg(1, 3), msg(2, 4)])
        assert h.writer.entered.wait(5)  # batch one is committing (held at the gate)
        # the connection dropped before its PUBACKs: the broker resends message 2 as a DUP
        h.queue.put_many([msg(2, 4, dup=True), msg(3, 5)])
        threading.Timer(0.3, h.writer.gate.set).start()
        wait_for(lambda: len(h.acked()) == 4, timeout=10)
        assert h.acked() == [1, 2, 2, 3]
        assert h.count() == 3
        assert h.pipeline.stats.redelivered == 1
    finally:
        h.close()


def test_stop_commits_what_is_queued_before_returning(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    h.queue.put_many([msg(i, i) for i in range(1, 26)])
    threading.Timer(0.2, h.writer.gate.set).start()
    h.stop.set()
    h.thread.join(timeout=10)
    assert h.acked() == list(range(1, 26))
    assert h.count() == 25


def test_what_arrives_while_a_batch_commits_joins_one_waiting_batch(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    try:
        h.queue.put(msg(1, 1))
        assert h.writer.entered.wait(5)  # batch one is committing (held at the gate)
        for start in range(2, 10, 2):  # four small chunks, well apart (past the 10 ms age)
            h.queue.put_many([msg(start, start), msg(start + 1, start + 1)])
            threading.Event().wait(0.05)
        h.writer.gate.set()
        wait_for(lambda: len(h.acked()) == 9, timeout=10)
        # not four small batches queued behind the first: one batch of all eight
        assert h.acks == [[1], list(range(2, 10))]
        assert [e.value for e in h.applied] == list(range(1, 10))
        h.queue.put(msg(10, 10))  # with the committer idle, a lone message goes at once
        wait_for(lambda: len(h.acked()) == 10, timeout=5)
        assert h.acks[-1] == [10]
    finally:
        h.close()


def test_a_batch_that_cannot_be_packed_ahead_is_still_committed(
    tmp_path: Path, caplog: Any
) -> None:
    """Packing ahead (``seal``) is an optimisation: when it fails the write packs the batch
    itself, and nothing is lost or left unacknowledged."""
    h = Harness(tmp_path)
    failures = [True]

    def seal(batch: Batch) -> None:
        if failures:
            failures.pop()
            batch.sealed = b"half-done"
            raise RuntimeError("packing failed")

    h.writer.seal = seal  # type: ignore[method-assign]
    try:
        h.writer.gate.set()
        h.queue.put_many([msg(i, i) for i in range(1, 6)])
        wait_for(lambda: len(h.acked()) == 5, timeout=10)
        assert h.acked() == [1, 2, 3, 4, 5] and h.count() == 5
        assert not failures and "packing a batch ahead of its commit failed" in caplog.text
        h.queue.put_many([msg(i, i) for i in range(6, 9)])  # the worker is still there
        wait_for(lambda: len(h.acked()) == 8, timeout=10)
        assert h.count() == 8
    finally:
        h.close()
