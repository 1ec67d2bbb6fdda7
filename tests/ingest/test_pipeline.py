"""Recorded messages through the real pipeline: decode, bind, commit, dead letters, device state."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from gateway.building import load_building
from gateway.events import Event
from gateway.ingest import Pipeline, RawMessage
from gateway.ingest.ports import MemoryAcks, MemorySink
from gateway.profiles import ProfileRegistry
from gateway.state.config import Current, Snapshot
from gateway.state.devices import DeviceTable
from gateway.store import BatchWriter, create_db_engine, init_db
from gateway.store.sync import sync_building
from gateway.store.tables import DeadLetter
from gateway.store.tables import Event as EventRow
from tests.support import FIXTURES, ROOT

T0 = 1_764_320_400.0


class Harness:
    def __init__(self, tmp: Path) -> None:
        self.building = load_building(FIXTURES / "building-small.yaml")
        self.registry = ProfileRegistry.load(ROOT / "device_profiles")
        self.db = create_db_engine(f"sqlite:///{tmp}/p.db")
        init_db(self.db)
        sync_building(self.db, self.building)
        self.writer = BatchWriter(self.db)
        self.applied: list[Event] = []
        self.acked: list[int] = []
        self.devices = DeviceTable()
        self.pipeline = Pipeline(
            Current(Snapshot(self.building, self.registry)),
            self.writer,
            devices=self.devices,
            sink=MemorySink(self.applied),
            acks=MemoryAcks(self.acked),
            clock=lambda: T0,
        )
        self.mid = 0

    def msg(self, topic: str, payload: object, at: float = T0) -> RawMessage:
        self.mid += 1
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        return RawMessage(topic, data, at, qos=1, mid=self.mid)

    def count(self, table: type) -> int:
        with self.db.connect() as c:
            return int(c.execute(select(func.count()).select_from(table)).scalar_one())


@pytest.fixture
def h(tmp_path: Path) -> Harness:
    return Harness(tmp_path)


def test_zigbee_motion_becomes_a_stored_event(h: Harness) -> None:
    payload = {
        "battery": 100,
        "illuminance": 12,
        "linkquality": 120,
        "occupancy": True,
        "voltage": 3025,
    }
    h.pipeline.process([h.msg("zigbee2mqtt/z-focus-motion", payload)])
    motion = [e for e in h.applied if e.quantity == "motion"]
    assert len(motion) == 1
    assert (motion[0].device, motion[0].space, motion[0].value, motion[0].ts) == (
        "z-focus-motion",
        "focus",
        True,
        T0,
    )
    assert {e.quantity for e in h.applied} >= {"motion", "battery_pct"}
    assert h.count(EventRow) == len(h.applied)
    assert h.acked == [1]
    d = h.devices["z-focus-motion"]
    assert d.readings["motion"]["value"] is True and d.last_seen == T0


def test_bad_messages_are_dead_lettered_with_reasons(h: Harness) -> None:
    msgs = [
        h.msg("zigbee2mqtt/z-focus-motion", b"{not json"),
        h.msg("nobody/knows/this", {"x": 1}),
        h.msg("zigbee2mqtt/stranger-sensor", {"occupancy": True}),
        h.msg("ref/counter/z-focus-motion", {"count": 2}),
        h.msg("ref/counter/pc-orion", {"count": "many"}),
    ]
    h.pipeline.process(msgs)
    assert h.acked == [1, 2, 3, 4, 5]  # committed as dead letters, so acknowledged
    assert h.count(EventRow) == 0
    with h.db.connect() as c:
        rows = c.execute(select(DeadLetter).order_by(DeadLetter.id)).all()
    reasons = [r.reason for r in rows]
    assert len(reasons) == 5
    assert "json" in reasons[0].lower()
    assert "nobody/knows/this" in reasons[1]
    assert "unknown device 'stranger-sensor'" in reasons[2]
    assert "bound to profile 'zigbee2mqtt'" in reasons[3]
    assert "count" in reasons[4]
    assert rows[0].payload == b"{not json"
    # the unknown device is listed as discovered, not forgotten
    assert h.devices["stranger-sensor"].bound is False
    assert h.writer.dead_letters == 5


def test_good_traffic_keeps_flowing_around_bad(h: Harness) -> None:
    msgs = [
        h.msg("ref/counter/pc-orion", {"count": 3}),
        h.msg("ref/counter/pc-orion", b"\xff\xfe garbage"),
        h.msg("ref/counter/pc-lounge", {"count": 7}),
    ]
    h.pipeline.process(msgs)
    assert [(e.device, e.value) for e in h.applied] == [("pc-orion", 3), ("pc-lounge", 7)]
    assert h.count(DeadLetter) == 1


def test_device_clock_far_off_is_corrected(h: Harness) -> None:
    h.pipeline.process([h.msg("ref/counter/pc-orion", {"count": 1, "ts": T0 + 7200})])
    assert h.applied[0].ts == T0
    assert h.pipeline.stats.clock_corrected == 1
    h.pipeline.process([h.msg("ref/counter/pc-orion", {"count": 2, "ts": T0 - 30})])
    assert h.applied[1].ts == T0 - 30


def test_same_reading_twice_is_stored_twice(h: Harness) -> None:
    h.pipeline.process(
        [h.msg("ref/counter/pc-orion", {"count": 2}), h.msg("ref/counter/pc-orion", {"count": 2})]
    )
    assert h.count(EventRow) == 2


def test_credentials_are_stored_hashed_never_as_read(h: Harness) -> None:
    h.pipeline.process(
        [
            h.msg("ref/door/door-office-101/event", {"event": "denied", "credential": "04a1b2c3"}),
            h.msg("ref/printer/printer-1/badge", {"credential": "card:04A1B2C3"}),
        ]
    )
    with h.db.connect() as c:
        rows = c.execute(select(EventRow.quantity, EventRow.value_text, EventRow.attrs)).all()
        raw_rows = c.exec_driver_sql("SELECT * FROM event").all()
    assert "04A1B2C3" not in repr(raw_rows).upper()  # the card number is nowhere in the table
    door = next(r for r in rows if r.quantity == "door")
    badge = next(r for r in rows if r.quantity == "badge")
    # one spelling: both reads of the same card hash alike, so a badge still finds its member
    assert door.attrs["credential"] == badge.value_text == h.pipeline.hasher.hash("04A1B2C3")
    assert h.devices["printer-1"].readings["badge"]["value"] == badge.value_text


def test_dead_letters_keep_the_payload_but_not_its_card_number(h: Harness) -> None:
    h.pipeline.process(
        [
            # an unknown door: dead-lettered, with its payload kept for diagnosis
            h.msg("ref/door/door-nobody/event", {"event": "granted", "credential": "04A1B2C3"}),
            h.msg("hikvision/nvr-x/event", b'{"AccessControllerEvent": {"cardNo": "99887766"'),
        ]
    )
    with h.db.connect() as c:
        payloads = [r.payload for r in c.execute(select(DeadLetter).order_by(DeadLetter.id))]
    assert len(payloads) == 2
    assert b"04A1B2C3" not in payloads[0] and b"99887766" not in payloads[1]
    assert json.loads(payloads[0])["event"] == "granted"  # the rest stays as sent
    masked = json.loads(payloads[0])["credential"]
    assert masked == h.pipeline.hasher.mask(h.pipeline.hasher.hash("04A1B2C3"))
    assert b'"cardNo": "hmac:' in payloads[1]  # truncated JSON is scrubbed all the same
