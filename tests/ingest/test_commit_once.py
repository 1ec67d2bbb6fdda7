"""A commit retried after its write succeeded writes nothing twice (faults injected after it)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from gateway.building import load_building
from gateway.ingest import Pipeline, RawMessage
from gateway.ingest.ports import MemoryAcks, MemorySink
from gateway.profiles import ProfileRegistry
from gateway.state.config import Current, Snapshot
from gateway.state.devices import DeviceTable
from gateway.store import BatchWriter, create_db_engine, init_db
from gateway.store.sync import sync_building
from gateway.store.tables import Event as EventRow
from tests.support import FIXTURES, ROOT

T0 = 1_764_320_400.0


class Flaky(Exception):
    pass


@pytest.mark.parametrize("where", ["ack", "backlog"])
def test_a_commit_retried_after_a_fault_past_its_write_stores_it_once(
    tmp_path: Path, where: str
) -> None:
    building = load_building(FIXTURES / "building-small.yaml")
    db = create_db_engine(f"sqlite:///{tmp_path}/c.db")
    init_db(db)
    sync_building(db, building)
    faults = [True]
    acked: list[int] = []

    class Acks(MemoryAcks):
        def ack_messages(self, msgs: list[RawMessage]) -> None:
            if where == "ack" and faults:
                faults.pop()
                raise Flaky("the connection went while acknowledging")
            super().ack_messages(msgs)

    pipe = Pipeline(
        Current(Snapshot(building, ProfileRegistry.load(ROOT / "device_profiles"))),
        BatchWriter(db),
        devices=DeviceTable(),
        sink=MemorySink(),
        acks=Acks(acked),
    )
    if where == "backlog":
        real = pipe.committer.on_backlog

        def allow(held_s: float, why: str) -> None:
            if faults:
                faults.pop()
                raise Flaky("backlog allowance failed")
            real(held_s, why)

        pipe.committer.on_backlog = allow
        pipe.committer.refused_since = 0.0  # the store had refused writes: the allowance runs after
    msgs = [
        RawMessage("ref/counter/pc-orion", json.dumps({"count": i}).encode(), T0 + i, 1, i + 1)
        for i in range(5)
    ]
    kept, batch = pipe.decoder.decode(msgs)
    with pytest.raises(Flaky):
        pipe.committer.commit(kept, batch)
    pipe.committer.commit(kept, batch)  # the worker's retry of the same batch
    with db.connect() as c:
        assert c.execute(select(func.count()).select_from(EventRow)).scalar_one() == 5
    assert acked == [1, 2, 3, 4, 5] and pipe.writer.events_stored == 5
