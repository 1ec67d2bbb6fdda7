"""The normalized event: one shape for every vendor (SPEC section 3). Imports nothing of ours."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

EventKind = Literal["measurement", "door", "printer", "print_job", "availability"]

#: Canonical quantity names and their value types. "door", "printer_state" and "print_job"
#: carry an enum string as value; the rest are numbers or booleans.
QUANTITIES: dict[str, type] = {
    "occupied": bool,
    "motion": bool,
    "presence": bool,
    "people_count": int,
    "contact_open": bool,
    "temperature_c": float,
    "humidity_pct": float,
    "co2_ppm": float,
    "pm25_ugm3": float,
    "pm10_ugm3": float,
    "tvoc_ppb": float,
    "voc_index": float,  # Sensirion VOC index, 1..500, no unit
    "voc_ugm3": float,  # total VOC as a mass concentration
    "pressure_hpa": float,  # barometric air pressure
    "hcho_mgm3": float,  # formaldehyde
    "noise_dba": float,
    "illuminance_lux": float,
    "battery_pct": float,
    "online": bool,
    "door": str,
    "printer_state": str,
    "paper_pct": float,
    "toner_pct": float,
    "jam": bool,
    "print_job": str,
    "badge": str,  # a credential read at a device that is not a door (a printer's reader)
}

DOOR_EVENTS = frozenset({"granted", "denied", "opened", "closed", "forced", "held_open"})
PRINTER_STATES = frozenset({"idle", "printing", "error", "offline"})
PRINT_JOB_EVENTS = frozenset({"submitted", "held", "released", "completed", "failed"})

#: Which kind each quantity belongs to.
KIND_OF: dict[str, EventKind] = {
    "door": "door",
    "printer_state": "printer",
    "paper_pct": "printer",
    "toner_pct": "printer",
    "jam": "printer",
    "print_job": "print_job",
    "badge": "printer",
    "online": "availability",
}

Value = bool | int | float | str


def kind_of(quantity: str) -> EventKind:
    """The event kind of a canonical quantity."""
    return KIND_OF.get(quantity, "measurement")


@dataclass(frozen=True, slots=True)
class Reading:
    """What a profile extracts from one payload: a quantity, its value and unit, its time."""

    quantity: str
    value: Value
    unit: str | None = None
    ts: float | None = None  # device time (epoch seconds, UTC) when the payload carries one
    attrs: dict[str, Any] = field(default_factory=dict)  # credential, member, job, owner, ...


@dataclass(frozen=True, slots=True)
class Event:
    """A normalized event: site, device, space (if bound), time, kind, quantity, value, unit."""

    site: str
    device: str
    space: str | None
    ts: float  # epoch seconds, UTC
    kind: EventKind
    quantity: str
    value: Value
    unit: str | None = None
    attrs: dict[str, Any] = field(default_factory=dict)
