"""The whole pipeline from a list of recorded messages: the real payloads of the corpus, through
the hand-off, the loop's threads, decode, the store, the acknowledgement port and the event sink,
with the two seams in memory (no broker, no engine)."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from sqlalchemy import func, select

from bench.profile_corpus import load_corpus
from gateway.building import Building, load_building
from gateway.errors import DecodeError
from gateway.events import Event
from gateway.ingest import Pipeline, RawMessage
from gateway.ingest.handoff import Handoff
from gateway.ingest.ports import MemoryAcks, MemorySink
from gateway.profiles import ProfileRegistry
from gateway.state.config import Current, Snapshot
from gateway.state.devices import DeviceTable
from gateway.store import BatchWriter, create_db_engine, init_db
from gateway.store.sync import sync_building
from gateway.store.tables import Event as EventRow
from tests.support import FIXTURES, ROOT

T0 = 1_764_320_400.0


def recorded(registry: ProfileRegistry) -> tuple[list[RawMessage], dict[str, str]]:
    """The corpus entries the shipped profiles read without site variables, as the network
    thread would hand them on (QoS 1, one packet id each); and each device's profile."""
    msgs: list[RawMessage] = []
    devices: dict[str, str] = {}
    for e in load_corpus():
        if e.variables:
            continue
        try:
            decoded = registry.decode(e.topic, e.payload, {})
        except DecodeError:
            continue
        if decoded is None or not decoded.readings or decoded.device in devices:
            continue
        devices[decoded.device] = decoded.profile
        msgs.append(RawMessage(e.topic, e.payload, T0 + len(msgs), 1, len(msgs) + 1))
    return msgs, devices


def site(tmp: Path, devices: dict[str, str], name: str) -> tuple[Building, BatchWriter]:
    """The small building with every recorded device bound in the open area; a fresh store."""
    text = (FIXTURES / "building-small.yaml").read_text()
    text += "".join(
        f"  - {{id: {json.dumps(d)}, profile: {p}, space: open-2}}\n" for d, p in devices.items()
    )
    path = tmp / f"{name}.yaml"
    path.write_text(text)
    building = load_building(path)
    db = create_db_engine(f"sqlite:///{tmp}/{name}.db")
    init_db(db)
    sync_building(db, building)
    return building, BatchWriter(db, client=name)


def stored(writer: BatchWriter) -> int:
    with writer.engine.connect() as c:
        return int(c.execute(select(func.count()).select_from(EventRow)).scalar_one())


def key(e: Event) -> tuple[str, str, object]:
    return (e.device, e.quantity, e.value)


def test_recorded_corpus_messages_run_through_the_whole_pipeline(tmp_path: Path) -> None:
    registry = ProfileRegistry.load(ROOT / "device_profiles")
    msgs, devices = recorded(registry)
    assert len(msgs) >= 30 and len({p for p in devices.values()}) >= 5  # most bridge families

    # the live path: hand-off, the decode and commit threads, the applier
    building, writer = site(tmp_path, devices, "live")
    acks, sink, table = MemoryAcks(), MemorySink(), DeviceTable()
    pipe = Pipeline(Current(Snapshot(building, registry)), writer, table, sink, acks,
                    batch_size=16, clock=lambda: T0 + 3600)  # fmt: skip
    source, stop = Handoff(maxsize=1000), threading.Event()
    for i in range(0, len(msgs), 7):  # as socket reads hand them on, a chunk at a time
        source.put_many(msgs[i : i + 7])
    stop.set()  # drains what is queued, then returns
    pipe.run(source, stop)

    assert acks.acked == [m.mid for m in msgs]  # every one, in order, once committed
    assert pipe.stats.committed == len(msgs) and pipe.stats.dead_lettered == 0
    assert sink.events and stored(writer) == len(sink.events)
    for dev in devices:
        live = table.get(dev)
        assert live is not None and live.bound and live.space == "open-2" and live.readings

    # the same messages as one batch on this thread: the same events
    building, writer = site(tmp_path, devices, "direct")
    direct = MemorySink()
    again = Pipeline(Current(Snapshot(building, registry)), writer, DeviceTable(), direct,
                     MemoryAcks(), clock=lambda: T0 + 3600)  # fmt: skip
    again.process(msgs)
    assert sorted(map(key, direct.events), key=repr) == sorted(map(key, sink.events), key=repr)
