"""What the facility services need from the rest of the gateway, and nothing more.

Bookings, print release, alerts and work orders are handed these ports when they are built
(``MemberServices(FacilityPorts(...))``); none of them sees the gateway as a whole, and none
takes a lock of another part: a port that reads or changes shared state does its own locking.

- :class:`LiveView` -- the live state (the occupancy engine and the device table);
- :class:`ConfigSource` -- the configuration in force (``gateway.state.config.Current``);
- :class:`Bus` -- the hub's channels (``gateway.hub.Hub``);
- :class:`MemberLookup`, :class:`BookingGrants` -- the access side (members, grants);
- :class:`Commands` -- MQTT out, for the printers' release commands;
- :class:`DiskView` -- the free space left for the store (``gateway.store.disk``).

The store engine, the clock, the supervisor and the settings sections are concrete.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy.engine import Engine

from gateway.occupancy.accumulate import Finding
from gateway.occupancy.bookings import BookingWindow
from gateway.settings import AlertSettings, BookingSettings
from gateway.state.config import Snapshot
from gateway.state.devices import DeviceLive
from gateway.supervisor import Supervisor


class LiveView(Protocol):
    """The live state the services read and feed; each call takes the owner's lock itself."""

    def pending_findings(self) -> list[Finding]:
        """The engine's findings not yet saved (so not yet published on ``findings``)."""
        ...

    def set_bookings(self, space: str, windows: Sequence[BookingWindow], now: float) -> None:
        """Have the engine watch these booking windows of ``space`` (no-op for an unknown one)."""
        ...

    def occupied(self, spaces: Iterable[str]) -> set[str]:
        """Which of ``spaces`` the engine holds occupied now."""
        ...

    def devices(self) -> Sequence[DeviceLive]:
        """A copy of every device's live view (bound and discovered)."""
        ...

    def device(self, device_id: str) -> DeviceLive | None:
        """A copy of one device's live view, None when the gateway never heard of it."""
        ...

    def bridges(self) -> Mapping[str, Mapping[str, Any]]:
        """Per bridge id: ``state`` ("online", "offline", "unknown") and ``devices`` (count)."""
        ...

    def own_online(self, device_id: str) -> bool | None:
        """A bridged device's own availability, as it last said it (None: never said)."""
        ...


class ConfigSource(Protocol):
    """The configuration in force: building, profiles, silence timeouts, valid together."""

    def get(self) -> Snapshot:
        """The snapshot in force now (read once per step; a reload swaps it whole)."""
        ...


class Bus(Protocol):
    """Named in-process channels (``events``, ``findings``, ``notices``...)."""

    def subscribe(self, channel: str, callback: Callable[[Any, float], None]) -> Callable[[], None]:
        """Call ``callback(payload, now)`` for each item on ``channel``; returns the unsubscribe."""
        ...

    def publish(self, channel: str, payload: Any, now: float) -> None:
        """Hand ``payload`` to every subscriber of ``channel``."""
        ...


class MemberRef(Protocol):
    @property
    def id(self) -> str: ...


class MemberLookup(Protocol):
    """The member directory (``gateway.access.members.MemberDirectory``)."""

    def get(self, member_id: str) -> object | None:
        """The member with this id, None when there is none."""
        ...

    def by_hash(self, credential_hash: str) -> MemberRef | None:
        """The member holding the credential with this keyed hash."""
        ...


class BookingGrants(Protocol):
    """Access grants that rest on a booking (``gateway.access.grants``)."""

    def revoke_for_booking(self, booking_id: str, actor: str, reason: str) -> object:
        """Revoke every grant whose basis is this booking."""
        ...


class Commands(Protocol):
    """MQTT out, for commands to devices (a printer's ``release_job``)."""

    def send(self, topic: str, payload: bytes) -> None:
        """Publish one command, not retained."""
        ...


class DoorTrip(Protocol):
    """A door's decisions turned limited or were released (``gateway.access.door_limits.Trip``)."""

    @property
    def door(self) -> str: ...
    @property
    def tripped(self) -> bool: ...
    @property
    def reason(self) -> str: ...
    @property
    def ts(self) -> float: ...


class DiskView(Protocol):
    """The room left for the store (``gateway.store.disk.DiskMonitor``)."""

    def free_bytes(self) -> int | None:
        """Free bytes of the file system holding the store; None when not ours to know."""
        ...


@dataclass(frozen=True)
class SiteStore:
    """The store engine, the clock and the site every service's rows belong to."""

    db: Engine
    clock: Callable[[], float]
    site: str


@dataclass(frozen=True)
class FacilityPorts:
    """Everything the member services are built from."""

    store: SiteStore
    config: ConfigSource
    live: LiveView
    bus: Bus
    supervisor: Supervisor
    bookings: BookingSettings
    alerts: AlertSettings
    members: MemberLookup | None = None  # None: trust what a reader says of the member
    grants: BookingGrants | None = None  # None: no access control to tell of a booking's end
    commands: Commands | None = None  # None: MQTT out is off, jobs cannot be released
    disk: DiskView | None = None  # None: the store's free space is not watched
