"""The member services run on their ports alone: a store, a clock, fakes for the rest."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from gateway.building import load_building
from gateway.events import Event
from gateway.facility.ports import FacilityPorts, SiteStore
from gateway.facility.service_errors import Unavailable
from gateway.facility.services import MemberServices
from gateway.hub import Hub
from gateway.occupancy.accumulate import Finding
from gateway.occupancy.bookings import BookingWindow
from gateway.profiles import ProfileRegistry
from gateway.settings import AlertSettings, BookingSettings, load_settings
from gateway.state.config import Current, Snapshot
from gateway.state.devices import DeviceLive
from gateway.store.db import create_db_engine
from gateway.store.migrate import init_db
from gateway.store.sync import sync_building
from gateway.supervisor import Supervisor
from tests.services.conftest import BUILDING, T0, Clock


class FakeLive:
    """A live view held in plain fields."""

    def __init__(self) -> None:
        self.windows: dict[str, list[BookingWindow]] = {}
        self.occupied_now: set[str] = set()
        self.findings: list[Finding] = []
        self.live: dict[str, DeviceLive] = {}

    def pending_findings(self) -> list[Finding]:
        return list(self.findings)

    def set_bookings(self, space: str, windows: Sequence[BookingWindow], now: float) -> None:
        self.windows[space] = list(windows)

    def occupied(self, spaces: Iterable[str]) -> set[str]:
        return set(spaces) & self.occupied_now

    def devices(self) -> list[DeviceLive]:
        return [d.copy() for d in self.live.values()]

    def device(self, device_id: str) -> DeviceLive | None:
        d = self.live.get(device_id)
        return None if d is None else d.copy()

    def bridges(self) -> dict[str, dict[str, Any]]:
        return {}

    def own_online(self, device_id: str) -> bool | None:
        return None


class Sent:
    def __init__(self) -> None:
        self.commands: list[tuple[str, bytes]] = []

    def send(self, topic: str, payload: bytes) -> None:
        self.commands.append((topic, payload))


class Parts:
    def __init__(self, tmp_path: Path, commands: Sent | None) -> None:
        s = load_settings(database_url=f"sqlite:///{tmp_path}/p.db", building=BUILDING)
        building = load_building(BUILDING)
        self.db = create_db_engine(s.database_url)
        init_db(self.db)
        sync_building(self.db, building)
        registry = ProfileRegistry.load(s.profiles_dir, s.profile_variables)
        self.clock = Clock(T0)
        self.live = FakeLive()
        self.hub = Hub()
        self.notices: list[dict[str, Any]] = []
        self.hub.subscribe("notices", lambda n, _now: self.notices.append(n))
        self.services = MemberServices(
            FacilityPorts(
                SiteStore(self.db, self.clock, building.site.id),
                Current(Snapshot.of(building, registry, 60.0)),
                self.live,
                self.hub,
                Supervisor(self.clock),
                BookingSettings(),
                AlertSettings(),
                commands=commands,
            )
        )
        self.services.attach()

    def events(self, *evs: Event) -> None:
        self.hub.publish("events", list(evs), self.clock.t)
        self.services.pump()


def parts(tmp_path: Path, commands: Sent | None) -> Iterator[Parts]:
    p = Parts(tmp_path, commands)
    yield p
    p.db.dispose()


@pytest.fixture
def sent() -> Sent:
    return Sent()


@pytest.fixture
def site(tmp_path: Path, sent: Sent) -> Iterator[Parts]:
    yield from parts(tmp_path, sent)


def ev(device: str, quantity: str, value: Any, ts: float, **attrs: Any) -> Event:
    return Event("svc-site", device, None, ts, "print_job", quantity, value, attrs=attrs)


def test_a_booking_reaches_the_live_view_and_its_occupied_space_checks_it_in(site: Parts) -> None:
    b = site.services.bookings.create("orion", "m-1", T0 + 60, T0 + 3600, True, "test")
    assert site.live.windows["orion"] == [(b["id"], T0 + 60, T0 + 3600, True)]
    site.live.occupied_now = {"orion"}
    site.clock.t = T0 + 120
    site.services.pump()
    assert site.services.bookings.get(b["id"])["status"] == "checked_in"


def test_a_pending_ghost_finding_releases_its_booking(site: Parts) -> None:
    b = site.services.bookings.create("focus", "m-2", T0 + 60, T0 + 3600, True, "test")
    site.live.findings = [Finding("ghost_booking", b["id"], "focus", T0 + 60, T0 + 3600, T0)]
    site.services.pump()
    assert site.services.bookings.get(b["id"])["status"] == "released"
    assert any(n["type"] == "booking_released" for n in site.notices)


def test_a_held_job_goes_out_as_its_printers_command(site: Parts, sent: Sent) -> None:
    site.events(ev("printer-1", "print_job", "held", T0, job="j-1", owner="m-1"))
    site.services.print_jobs.release("j-1", "m-1", "app:test")
    assert len(sent.commands) == 1
    assert site.services.print_jobs.get("j-1")["status"] == "released"


def test_without_commands_a_release_is_unavailable(tmp_path: Path) -> None:
    for p in parts(tmp_path, None):
        p.events(ev("printer-1", "print_job", "held", T0, job="j-1", owner="m-1"))
        with pytest.raises(Unavailable):
            p.services.print_jobs.release("j-1", "m-1", "app:test")


def test_a_silent_device_raises_device_offline_by_the_configured_silence(site: Parts) -> None:
    site.live.live["pres-orion"] = DeviceLive("pres-orion", "ref-occupancy", "orion", True,
                                              last_seen=T0)  # fmt: skip
    site.clock.t = T0 + 30
    site.services.pump()
    assert not site.services.alerts.query(kind="device_offline")[0]
    site.clock.t = T0 + 61 + AlertSettings().check_s
    site.services.pump()
    found, _ = site.services.alerts.query(kind="device_offline", active=True)
    assert [a["subject"] for a in found] == ["pres-orion"]
