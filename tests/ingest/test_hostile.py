"""A hostile corpus through the real pipeline on both stores: each bad message becomes a dead
letter with a reason, and the good traffic after it is stored (ingest never halts on data)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from gateway.building import load_building
from gateway.events import Event
from gateway.ingest import Pipeline, RawMessage
from gateway.ingest import decode as decode_module
from gateway.ingest.ports import MemoryAcks, MemorySink
from gateway.ingest.storable import clean_text
from gateway.profiles import ProfileRegistry
from gateway.state.config import Current, Snapshot
from gateway.state.devices import DeviceTable
from gateway.store import BatchWriter, create_db_engine, init_db
from gateway.store.sync import sync_building
from gateway.store.tables import DeadLetter
from gateway.store.tables import Event as EventRow
from tests.support import FIXTURES, ROOT

T0 = 1_764_320_400.0
DOOR = "ref/door/door-office-101/event"


def door(**extra: str) -> bytes:
    """A reference door event (docs/reference-devices.md) with raw JSON text spliced in, so
    NaN and Infinity reach the decoder as a device would send them."""
    body = '{"event": "granted", "credential": "card:04A1B2C3"'
    for k, raw in extra.items():
        body += f', "{k}": {raw}'
    return (body + "}").encode()


def nested(depth: int) -> str:
    return "[" * depth + "1" + "]" * depth


#: (what it is, topic, payload): each must be dead-lettered without stopping ingest
HOSTILE: list[tuple[str, str, bytes]] = [
    ("member NaN (the issue's reproduction)", DOOR, door(member="NaN")),
    ("member Infinity", DOOR, door(member="Infinity")),
    ("member -Infinity", DOOR, door(member="-Infinity")),
    ("member 1e400", DOOR, door(member="1e400")),
    ("member 5,000-digit integer", DOOR, door(member="9" * 5000)),
    ("member 400-digit integer", DOOR, door(member="9" * 400)),
    ("count 400-digit integer", "ref/counter/pc-orion", ('{"count": ' + "9" * 400 + "}").encode()),
    ("count 1e400", "ref/counter/pc-orion", b'{"count": 1e400}'),
    ("count NaN", "ref/counter/pc-orion", b'{"count": NaN}'),
    ("200-character device id", f"ref/door/{'d' * 200}/event", door(member='"m-1"')),
    ("200-character unknown counter", f"ref/counter/{'c' * 200}", b'{"count": 1}'),
    ("over-long topic", "ref/" + "t" * 70_000, b'{"count": 1}'),
    ("NUL in member", DOOR, door(member='"m\\u0000x"')),
    ("NUL byte in payload text", DOOR, door(member='"m') + b"\x00" + b'x"}'),
    ("lone surrogate in member", DOOR, door(member='"\\ud800"')),
    ("deeply nested member", DOOR, door(member=nested(200))),
    ("very deeply nested member", DOOR, door(member=nested(100_000))),
    ("control character in device id", "ref/counter/pc-\x01orion", b'{"count": 1}'),
    ("NUL in topic", "ref/counter/pc\x00-orion", b'{"count": 1}'),
    ("lone surrogate in topic", "ref/counter/pc-\ud800", b'{"count": 1}'),
    ("long event text", DOOR, b'{"event": "' + b"g" * 200 + b'"}'),
]


class Harness:
    def __init__(self, url: str) -> None:
        self.building = load_building(FIXTURES / "building-small.yaml")
        self.registry = ProfileRegistry.load(ROOT / "device_profiles")
        self.db: Engine = create_db_engine(url)
        init_db(self.db)
        sync_building(self.db, self.building)
        self.writer = BatchWriter(self.db)
        self.applied: list[Event] = []
        self.devices = DeviceTable()
        self.acked: list[int] = []
        self.pipeline = Pipeline(
            Current(Snapshot(self.building, self.registry)),
            self.writer,
            devices=self.devices,
            sink=MemorySink(self.applied),
            acks=MemoryAcks(self.acked),
            clock=lambda: T0,
        )
        self.mid = 0
        self.good = 0
        self.good_at: list[float] = []

    def msg(self, topic: str, payload: bytes) -> RawMessage:
        self.mid += 1
        return RawMessage(topic, payload, T0 + self.mid, qos=1, mid=self.mid)

    def good_msgs(self) -> list[RawMessage]:
        self.good += 2
        out = [
            self.msg("ref/counter/pc-orion", json.dumps({"count": self.good % 7}).encode()),
            self.msg(DOOR, door(member=f'"m-{self.good}"')),
        ]
        self.good_at += [m.received_at for m in out]
        return out

    def rows(self, table: Any, *where: Any) -> list[Any]:
        with self.db.connect() as c:
            return list(c.execute(select(table).where(*where)).all())

    def count(self, table: Any, *where: Any) -> int:
        with self.db.connect() as c:
            q = select(func.count()).select_from(table).where(*where)
            return int(c.execute(q).scalar_one())


@pytest.fixture
def h(db_url: str) -> Iterator[Harness]:
    harness = Harness(db_url)
    yield harness
    harness.db.dispose()


def good_stored(h: Harness) -> int:
    """Events of the good messages (each is received at its own second, its event's time)."""
    return h.count(EventRow, EventRow.received_at.in_(h.good_at))  # type: ignore[attr-defined]


def test_the_issues_reproduction_a_door_event_with_member_nan(h: Harness) -> None:
    """On PostgreSQL this batch's COPY failed and the worker retried it forever."""
    h.pipeline.process([h.msg(DOOR, door(member="NaN"))])
    h.pipeline.process(h.good_msgs())
    (letter,) = h.rows(DeadLetter)
    assert "'door' attribute 'member' is not a finite number" in letter.reason
    assert good_stored(h) == 2 and h.acked == [1, 2, 3]


@pytest.mark.parametrize("one_batch", [False, True], ids=["a-batch-each", "one-batch"])
def test_a_hostile_corpus_never_stops_ingest(h: Harness, one_batch: bool) -> None:
    msgs: list[RawMessage] = []
    for _, topic, payload in HOSTILE:
        msgs += [h.msg(topic, payload), *h.good_msgs()]
    if one_batch:
        h.pipeline.process(msgs)
    else:
        for i in range(0, len(msgs), 3):
            h.pipeline.process(msgs[i : i + 3])
    sent_good = 2 * len(HOSTILE)
    assert good_stored(h) == sent_good  # every good message after a bad one is stored
    assert sorted(h.acked) == list(range(1, len(msgs) + 1))  # and every message acknowledged
    letters = h.rows(DeadLetter)
    assert len(letters) == len(HOSTILE)  # each bad one dead-lettered, none stored as events
    assert all(r.reason for r in letters)
    assert h.count(EventRow) == sent_good
    assert h.pipeline.stats.store_errors == 0
    # the reasons never echo the refused values
    mine = [r.reason for r in letters if r.reason.startswith("cannot store it")]
    assert len(mine) >= 10 and not any("999" in r or "ud800" in r for r in mine)


def test_what_the_first_line_misses_the_store_refuses_one_message_at_a_time(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Second line: with decode-time checks off, the store itself refuses the bad rows; the
    batch is split until each refused message is alone, that one is dead-lettered with the
    store's reason and the rest committed once."""
    monkeypatch.setattr(decode_module, "refusal", lambda decoded: None)
    bad = [
        h.msg(DOOR, door(member="NaN")),  # PostgreSQL: invalid json
        h.msg("ref/counter/pc-orion", ('{"count": ' + "9" * 400 + "}").encode()),  # overflow
        h.msg(DOOR, door(member='"\\ud800"')),  # not UTF-8
        h.msg(f"ref/door/{'d' * 200}/event", door(member='"m-1"')),  # PostgreSQL: too long
        h.msg("ref/counter/pc-\ud800", b'{"count": 1}'),  # its device row: not UTF-8
    ]
    msgs: list[RawMessage] = []
    for m in bad:
        msgs += [m, *h.good_msgs()]
    h.pipeline.process(msgs)
    assert good_stored(h) == 2 * len(bad)
    assert sorted(h.acked) == list(range(1, len(msgs) + 1))
    refused = [r for r in h.rows(DeadLetter) if r.reason.startswith("the store refused it")]
    backend = h.db.dialect.name
    assert h.pipeline.stats.store_refused == len(refused) >= (3 if backend == "postgresql" else 1)
    assert {r.topic for r in refused} <= {clean_text(m.topic) for m in bad}
    # what was refused never reached the live state
    assert len(h.applied) == h.count(EventRow)


def test_a_store_that_is_down_still_stops_acknowledging(h: Harness) -> None:
    """A refusal that is not about the data is not split: nothing is acknowledged."""
    from gateway.errors import StoreError

    def down(*_a: Any, **_k: Any) -> float:
        raise StoreError("batch of 2 not committed: OperationalError: database is locked")

    h.writer.write_rows = down  # type: ignore[method-assign]
    with pytest.raises(StoreError):
        h.pipeline.process(h.good_msgs())
    assert h.acked == [] and h.count(DeadLetter) == 0
