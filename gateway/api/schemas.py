"""Response models of the API."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel

from gateway.building import Building, Space
from gateway.timefmt import iso as iso  # the routes take it from here


class LoopStatus(BaseModel):
    """One supervised thread or loop, as health shows it."""

    state: Literal["running", "failing", "restarting", "stopped"]
    failures: int  # passes that raised since start
    restarts: int  # times its thread was restarted after a crash
    last_error: str | None
    last_error_at: datetime | None


class BridgeStatus(BaseModel):
    """A bridge (zigbee2mqtt, a ChirpStack gateway) as its last will says: its devices follow."""

    state: Literal["online", "offline", "unknown"]  # unknown: it has said nothing yet
    since: datetime | None  # when the gateway heard it change
    devices: int
    state_topic: str | None  # None: it publishes no state the gateway can read


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    mqtt: Literal["connected", "disconnected"]
    store: Literal["ok", "error"]
    broker: str
    embedded_broker: bool
    uptime_s: float
    queue_depth: int
    # the gateway's clock and how many of its seconds pass per wall second: the simulator's
    # in `gateway demo`, so the dashboard says "for how long" on the same clock as the API
    now: datetime | None = None
    clock_speed: float = 1.0
    # the supervised loops that are not running well, by name (empty when all are)
    failing: dict[str, LoopStatus] = {}
    loops: dict[str, Literal["running", "failing", "restarting", "stopped"]] = {}
    bridges: dict[str, BridgeStatus] = {}  # by bridge id
    # by space: each room calendar's last poll (state, error, errors, ...); a failing feed
    # keeps its bookings and does not make the gateway degraded
    calendars: dict[str, dict[str, Any]] = {}


class Stats(BaseModel):
    messages_received: int
    messages_committed: int
    messages_ignored: int
    events_stored: int
    dead_letters: int
    dead_lettered_since_start: int
    bridge_states_refused: int = 0  # bridge state payloads neither online nor offline
    clock_corrections: int
    store_errors: int
    last_store_error: str | None  # why the store last refused a batch (disk full, locked, ...)
    queue_depth: int
    last_commit_ms: float
    spaces_by_state: dict[str, int]
    # the store's disk (gateway.store.disk), None when not known (PostgreSQL's free space)
    store_bytes: int | None = None
    store_free_bytes: int | None = None
    store_events_per_day: int | None = None
    store_days_until_full: float | None = None
    # the retention pass (gateway.store.retention): rows pruned since start, its last pass
    events_pruned: int = 0
    audit_pruned: int = 0
    retention_last_pass_at: datetime | None = None


class SpaceBase(BaseModel):
    """What the building file says of a space."""

    id: str
    name: str
    type: str
    floor: str
    floor_name: str  # as the building file names the floor, for people to read
    capacity: int
    bookable: bool


def space_fields(building: Building, sp: Space) -> dict[str, Any]:
    """The SpaceBase fields of a building space."""
    return {
        "id": sp.id,
        "name": sp.name,
        "type": sp.type,
        "floor": sp.floor,
        "floor_name": building.floor_name(sp.floor),
        "capacity": sp.capacity,
        "bookable": sp.bookable,
    }


class SpacePublic(SpaceBase):
    state: Literal["occupied", "vacant", "unknown"]
    occupancy: int | None
    since: datetime
    idle: bool


class SpacesPublic(BaseModel):
    data: list[SpacePublic]
    count: int


class Reading(BaseModel):
    value: bool | int | float | str
    unit: str | None = None
    ts: datetime


class DevicePublic(BaseModel):
    id: str
    profile: str
    space: str | None
    bound: bool
    online: bool
    last_seen: datetime | None
    readings: dict[str, Reading]


class DevicesPublic(BaseModel):
    data: list[DevicePublic]
    count: int


class DeadLetterPublic(BaseModel):
    id: int
    topic: str
    payload: str
    payload_encoding: Literal["utf-8", "base64"]
    reason: str
    profile: str | None
    device: str | None
    time: datetime


class DeadLettersPublic(BaseModel):
    data: list[DeadLetterPublic]
    count: int
    total: int
