"""A small site for the bridge tests: a building file, the shipped profiles, a real pipeline
and store; ``feed`` returns the events a message gave, ``dead`` the dead letters so far."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select

from gateway.building import load_building
from gateway.events import Event
from gateway.ingest import Pipeline, RawMessage
from gateway.ingest.ports import MemorySink
from gateway.profiles import ProfileRegistry
from gateway.state.config import Current, Snapshot
from gateway.state.devices import DeviceTable
from gateway.store import BatchWriter, create_db_engine, init_db
from gateway.store.sync import sync_building
from gateway.store.tables import DeadLetter
from tests.support import ROOT

T0 = 1_764_320_400.0


class Site:
    def __init__(self, tmp: Path, building: str) -> None:
        path = tmp / "building.yaml"
        path.write_text(building, encoding="utf-8")
        self.building = load_building(path)
        self.db = create_db_engine(f"sqlite:///{tmp}/site.db")
        init_db(self.db)
        sync_building(self.db, self.building)
        self.events: list[Event] = []
        self.devices = DeviceTable()
        self.pipeline = Pipeline(
            Current(Snapshot(self.building, ProfileRegistry.load(ROOT / "device_profiles"))),
            BatchWriter(self.db),
            devices=self.devices,
            sink=MemorySink(self.events),
            clock=lambda: T0,
        )
        self.mid = 0

    def feed(self, topic: str, payload: object) -> list[Event]:
        self.mid += 1
        if isinstance(payload, str):
            data = payload.encode()
        elif isinstance(payload, bytes):
            data = payload
        else:
            data = json.dumps(payload).encode()
        before = len(self.events)
        self.pipeline.process([RawMessage(topic, data, T0, qos=1, mid=self.mid)])
        return self.events[before:]

    def values(self, topic: str, payload: object) -> dict[str, object]:
        """quantity -> value of the measurements a message gave (availability left out)."""
        return {e.quantity: e.value for e in self.feed(topic, payload) if e.quantity != "online"}

    def each(self, topic: str, payload: object) -> list[tuple[str, object, object]]:
        """(quantity, value, attrs.sensor) of every measurement a message gave, in order."""
        return [
            (e.quantity, e.value, (e.attrs or {}).get("sensor"))
            for e in self.feed(topic, payload)
            if e.quantity != "online"
        ]

    def live(self, device: str, quantity: str) -> object:
        """The device's live value of ``quantity`` (what the API and the spaces show)."""
        return self.devices[device].readings[quantity]["value"]

    def dead(self) -> list[tuple[str, str, str | None]]:
        """(topic, reason, device) of every dead letter, oldest first."""
        with self.db.connect() as c:
            rows = c.execute(
                select(DeadLetter.topic, DeadLetter.reason, DeadLetter.device).order_by(
                    DeadLetter.id  # type: ignore[arg-type]
                )
            ).all()
        return [(r[0], r[1], r[2]) for r in rows]
