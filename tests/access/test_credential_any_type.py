"""A credential of any JSON type is stored hashed: a card number sent as a JSON number, a list of
credentials, Hikvision's cardNo; on both stores, through the real pipeline and profiles.

Numeric card numbers are what real controllers send: UHPPOTE boards report cards as uint32
(uhppoted/uhppoted-mqtt, documentation/commands/open-door.md: card 8165538), and Hikvision's
ISAPI ``AccessControllerEvent.cardNo`` arrives as whatever the bridge re-encodes (the shape in
tidalisworkspace/harpia-gateway, main/server/types/HikvisionEvent.ts, and the samples of
device_profiles/hikvision-access.yaml).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from gateway.access.members import Member
from gateway.building import load_building
from gateway.credential import CredentialHasher
from gateway.ingest import Pipeline, RawMessage
from gateway.ingest.ports import MemorySink
from gateway.profiles import ProfileRegistry
from gateway.state.config import Current, Snapshot
from gateway.state.devices import DeviceTable
from gateway.store import BatchWriter, create_db_engine, init_db
from gateway.store.sync import sync_building
from gateway.store.tables import DeadLetter
from gateway.store.tables import Event as EventRow
from tests.access.conftest import Clock, make_gateway
from tests.support import FIXTURES, ROOT

T0 = 1_795_857_400.0  # 2026-11-28 09:16:40 UTC, the time of the Hikvision sample below
CARD = 4011223344  # the numeric credential
PRINTER_CARD = 87654321
HIKVISION = "hikvision/2f-east/event"


def hikvision_denied(card_no: Any, when: str = "2026-11-28T10:16:40+01:00") -> dict[str, Any]:
    """device_profiles/hikvision-access.yaml, sample "card without the right to this door"."""
    return {
        "dateTime": when,
        "eventType": "AccessControllerEvent",
        "eventState": "active",
        "AccessControllerEvent": {
            "majorEventType": 5,
            "subEventType": 6,
            "cardNo": card_no,
            "cardReaderNo": 1,
            "currentVerifyMode": "card",
        },
    }


class Harness:
    """The small test building plus a Hikvision terminal, the real profiles, a real store."""

    def __init__(self, url: str, tmp: Path) -> None:
        text = (FIXTURES / "building-small.yaml").read_text()
        text += "  - {id: 2f-east, profile: hikvision-access, space: office-101}\n"
        (tmp / "building.yaml").write_text(text)
        self.building = load_building(tmp / "building.yaml")
        self.db: Engine = create_db_engine(url)
        init_db(self.db)
        sync_building(self.db, self.building)
        self.hasher = CredentialHasher.ephemeral(self.building.site.id)
        self.devices = DeviceTable()
        self.pipeline = Pipeline(
            Current(Snapshot(self.building, ProfileRegistry.load(ROOT / "device_profiles"))),
            BatchWriter(self.db),
            devices=self.devices,
            sink=MemorySink(),
            clock=lambda: T0,
            hasher=self.hasher,
        )
        self.mid = 0

    def send(self, *msgs: tuple[str, Any]) -> None:
        raw = []
        for topic, payload in msgs:
            self.mid += 1
            data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
            raw.append(RawMessage(topic, data, T0 + self.mid, qos=1, mid=self.mid))
        self.pipeline.process(raw)

    def events(self) -> list[Any]:
        with self.db.connect() as c:
            return list(c.execute(select(EventRow).order_by(EventRow.id)).all())  # type: ignore[arg-type]

    def dump(self, table: str) -> str:
        """Every column of every row of ``table`` as text, bytes included."""
        with self.db.connect() as c:
            rows = c.exec_driver_sql(f"SELECT * FROM {table}").all()
        return " ".join(
            bytes(v).decode("latin-1") if isinstance(v, bytes | memoryview) else repr(v)
            for row in rows
            for v in row
        )

    def dead_letters(self) -> list[Any]:
        with self.db.connect() as c:
            return list(c.execute(select(DeadLetter).order_by(DeadLetter.id)).all())  # type: ignore[arg-type]


@pytest.fixture
def h(db_url: str, tmp_path: Path) -> Iterator[Harness]:
    harness = Harness(db_url, tmp_path)
    yield harness
    harness.db.dispose()


def test_numeric_and_list_credentials_are_stored_hashed(h: Harness) -> None:
    h.send(
        # the reference door (docs/reference-devices.md) with a card read as a JSON number
        ("ref/door/door-office-101/event", {"event": "granted", "credential": CARD}),
        # two credentials presented together (card and PIN) as a list
        ("ref/door/door-office-101/event", {"event": "denied", "credential": ["pin:1234", CARD]}),
        (HIKVISION, hikvision_denied(CARD)),
        ("ref/printer/printer-1/badge", {"ts": 1795857302, "credential": PRINTER_CARD}),
    )
    stored = h.dump("event")
    for digits in (str(CARD), str(PRINTER_CARD), "1234"):
        assert digits not in stored  # the card number is nowhere in the table
    assert h.dead_letters() == []  # all four read and stored, none refused
    events = h.events()
    assert [e.quantity for e in events] == ["door", "door", "door", "badge"]
    # the number hashes as its digits would: a card sent either way finds its member
    assert events[0].attrs["credential"] == h.hasher.hash(str(CARD)) == h.hasher.hash(CARD)
    assert events[1].attrs["credential"] == h.hasher.hash(["pin:1234", CARD])
    assert events[2].attrs["credential"] == h.hasher.hash("4011223344")
    assert events[2].attrs["verify_mode"] == "card"  # the rest of the attributes as read
    assert events[3].value_text == h.hasher.hash("87654321")
    assert h.devices["printer-1"].readings["badge"]["value"] == events[3].value_text


def test_a_numeric_card_at_a_door_request_is_decided(tmp_path: Path) -> None:
    """A controller that sends its card as a JSON number gets an answer, not silence."""
    gw = make_gateway(tmp_path, Clock(T0))
    try:
        gw.access.directory.put(Member("m-9", "Dee", "Acme", "team-101"), [str(CARD)])
        out = gw.access.decider.handle(
            "ref/door/door-office-101/request",
            json.dumps({"request": "r-1", "credential": CARD}).encode(),
        )
        assert out is not None and gw.access.decider.malformed == 0
        assert json.loads(out[1])["decision"] == "granted"  # m-9's plan opens office-101
    finally:
        gw.db.dispose()


def test_protect_hashes_every_non_null_type_and_leaves_hashes_alone() -> None:
    hasher = CredentialHasher.ephemeral("s")
    for raw in (CARD, 4011223344.5, True, [CARD, "qr:7f3a"], {"card": CARD}, "04A1B2C3"):
        value, attrs = hasher.protect("badge", raw, {"credential": raw, "cardNo": raw})
        assert value == attrs["credential"] == attrs["cardNo"] == hasher.hash(raw), raw
        assert len(value) == 64 and str(CARD) not in repr(attrs)
        assert hasher.protect("badge", value, attrs) == (value, attrs)  # hashed once only
    assert hasher.protect("door", "granted", {"credential": None}) == (
        "granted",
        {"credential": None},
    )


def test_a_profile_names_its_credential_attribute_credential(tmp_path: Path) -> None:
    """Only the ``credential`` attribute is hashed on ingest: a profile keeping Hikvision's
    cardNo under its own name would store the card as read, so it does not load."""
    from gateway.errors import ProfileError
    from gateway.profiles.loader import load_profile

    text = (ROOT / "device_profiles" / "hikvision-access.yaml").read_text()
    assert "credential: AccessControllerEvent.cardNo" in text
    for attr in ("cardNo: AccessControllerEvent.cardNo", "pin_code: AccessControllerEvent.cardNo"):
        path = tmp_path / "hikvision-access.yaml"
        path.write_text(text.replace("credential: AccessControllerEvent.cardNo", attr))
        with pytest.raises(ProfileError, match="a credential attribute is named 'credential'"):
            load_profile(path)
    path.write_text(text)
    assert load_profile(path).name == "hikvision-access"
