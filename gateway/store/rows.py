"""What the store takes from a batch: event rows, dead letters, device updates, fingerprints.

The batch itself is ingest's (``gateway.ingest.batch``); the store sees it through
:class:`StoredBatch`, so it depends on nothing above it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from gateway.events import QUANTITIES, Event
from gateway.store.refusals import StoreDataError

BATCH_MARK = -1  # the packet id of a batch's own record among the redelivery fingerprints


class DeviceFacts(Protocol):
    """What a batch learned about one device, as its row is written."""

    @property
    def profile(self) -> str: ...
    @property
    def space(self) -> str | None: ...
    @property
    def bound(self) -> bool: ...
    @property
    def first_seen(self) -> float: ...
    @property
    def last_seen(self) -> float: ...
    @property
    def online(self) -> bool | None: ...
    @property
    def readings(self) -> dict[str, Any]: ...


@dataclass(slots=True)
class DeviceRow:
    """A device update as it crosses to a writer process (the fields of ``DeviceFacts``)."""

    profile: str
    space: str | None
    bound: bool
    first_seen: float
    last_seen: float
    online: bool | None
    readings: dict[str, Any]

    @classmethod
    def of(cls, u: DeviceFacts) -> DeviceRow:
        return cls(u.profile, u.space, u.bound, u.first_seen, u.last_seen, u.online, u.readings)


class StoredBatch(Protocol):
    """A batch as the writer commits it: its rows, and its record against writing it twice."""

    events: list[tuple[Event, float]]
    dead_letters: list[dict[str, Any]]
    fingerprints: list[tuple[int, int]]
    evicted: list[tuple[str, str]]
    sealed: bytes | None
    id: int
    written: bool
    tries: int

    @property
    def devices(self) -> Mapping[tuple[str, str], DeviceFacts]: ...
    @property
    def mark(self) -> tuple[int, int]: ...
    def __len__(self) -> int: ...


@dataclass(slots=True)
class Rows:
    """A batch as the store takes it (and as it crosses to a writer process): event rows in
    ``EVENT_COLUMNS`` order, dead letters, device updates, redelivery fingerprints."""

    events: list[tuple[Any, ...]]
    dead_letters: list[dict[str, Any]]
    devices: list[tuple[tuple[str, str], DeviceFacts]]
    fingerprints: list[tuple[int, int]]
    evicted: list[tuple[str, str]] = field(default_factory=list)


def batch_rows(batch: StoredBatch) -> Rows:
    """The rows of ``batch``; StoreDataError when a value cannot be a column's."""
    try:
        events = [event_tuple(e, r) for e, r in batch.events]
    except (ValueError, OverflowError, TypeError) as err:
        raise StoreDataError(f"batch not committed: {type(err).__name__}: {err}") from err
    return Rows(
        events,
        batch.dead_letters,
        list(batch.devices.items()),
        [*batch.fingerprints, batch.mark],
        batch.evicted,
    )


def event_tuple(ev: Event, received_at: float) -> tuple[Any, ...]:
    """The column values of one event in ``EVENT_COLUMNS`` order (the driver-level path)."""
    v = ev.value
    attrs = json.dumps(ev.attrs) if ev.attrs else None
    if isinstance(v, str):
        return (ev.site, ev.device, ev.space, ev.ts, received_at, ev.kind, ev.quantity,
                None, v, ev.unit, attrs)  # fmt: skip
    return (ev.site, ev.device, ev.space, ev.ts, received_at, ev.kind, ev.quantity,
            float(v), None, ev.unit, attrs)  # fmt: skip


EVENT_COLUMNS = (
    "site", "device", "space", "ts", "received_at", "kind", "quantity",
    "value_num", "value_text", "unit", "attrs",
)  # fmt: skip


def row_value(
    quantity: str, num: float | None, text: str | None
) -> bool | int | float | str | None:
    """The typed value of a stored event."""
    if text is not None:
        return text
    if num is None:
        return None
    t = QUANTITIES.get(quantity, float)
    if t is bool:
        return bool(num)
    if t is int:
        return int(num)
    return num
