"""A flood of fresh topics: device rows, dead letters and log lines stay bounded, good traffic
keeps flowing."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from sqlalchemy import func, select

from gateway.building import load_building
from gateway.ingest import Pipeline, RawMessage
from gateway.ingest.floods import DeadLetterLimit
from gateway.ingest.ports import MemorySink
from gateway.profiles import ProfileRegistry
from gateway.state.config import Current, Snapshot
from gateway.state.devices import DeviceTable
from gateway.store import BatchWriter, create_db_engine, init_db
from gateway.store.sync import sync_building
from gateway.store.tables import DeadLetter, Device
from gateway.store.tables import Event as EventRow
from tests.support import FIXTURES, ROOT

T0 = 1_764_320_400.0
FRESH = 20_000
CAP = 1_000


def test_twenty_thousand_fresh_topics_stay_bounded(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    building = load_building(FIXTURES / "building-small.yaml")
    db = create_db_engine(f"sqlite:///{tmp_path}/f.db")
    init_db(db)
    sync_building(db, building)
    devices = DeviceTable()
    limit = DeadLetterLimit(rate_per_s=50.0, burst=1_000, lines_per_period=100)
    pipe = Pipeline(
        Current(Snapshot(building, ProfileRegistry.load(ROOT / "device_profiles"))),
        BatchWriter(db),
        devices=devices,
        sink=MemorySink(),
        dead_letter_limit=limit,
        max_unknown_devices=CAP,
    )
    # zigbee2mqtt devices that no binding names, 1,000 a second for 20 s, and every 100th
    # message a bound counter's reading
    msgs: list[RawMessage] = []
    good = 0
    for i in range(FRESH):
        at = T0 + i / 1_000
        msgs.append(RawMessage(f"zigbee2mqtt/fresh-{i}", b'{"occupancy": true}', at))
        if i % 100 == 0:
            good += 1
            msgs.append(RawMessage("ref/counter/pc-orion", json.dumps({"count": 3}).encode(), at))
    good += 1  # one more a minute later: the period's summary line is written
    msgs.append(RawMessage("ref/counter/pc-orion", b'{"count": 2}', T0 + 80))
    with caplog.at_level(logging.INFO):
        for i in range(0, len(msgs), 500):
            pipe.process(msgs[i : i + 500])
    with db.connect() as c:

        def count(t: type, *where: object) -> int:
            q = select(func.count()).select_from(t).where(*where)  # type: ignore[arg-type]
            return int(c.execute(q).scalar_one())

        unbound = count(Device, Device.bound.is_(False))  # type: ignore[attr-defined]
        letters = count(DeadLetter)
        stored = count(EventRow, EventRow.device == "pc-orion")
    assert stored == good  # good traffic kept flowing
    assert unbound == CAP and sum(1 for d in devices.all() if not d.bound) == CAP
    assert pipe.stats.unknown_evicted == FRESH - CAP
    assert "fresh-19999" in devices and "fresh-0" not in devices  # the oldest seen went
    # 1,000 of burst plus 50 a second over the 20 s of the flood
    assert 1_000 <= letters <= 1_000 + 50 * 21
    assert pipe.stats.dead_letters_dropped == FRESH - letters
    lines = [r for r in caplog.records if r.name == "gateway.ingest.pipeline"]
    assert len(lines) <= 100
    summary = [r.getMessage() for r in caplog.records if "dead-letter flood" in r.getMessage()]
    assert len(summary) == 1 and f"{FRESH - letters} dead letters counted" in summary[0]
