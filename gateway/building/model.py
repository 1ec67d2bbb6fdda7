"""The building model: site, floors, spaces and device bindings (frozen, read by the engine)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from gateway.building.hours import BusinessHours
from gateway.profiles.patterns import NameMap

if TYPE_CHECKING:
    from gateway.building.bridges import Bridge

SPACE_TYPES: tuple[str, ...] = (
    "private_office",
    "hot_desk",
    "open_area",
    "meeting_room",
    "phone_booth",
    "lounge",
)


@dataclass(frozen=True, slots=True)
class PlanSpec:
    """A plan as the file gives it."""

    id: str
    name: str
    spaces: tuple[str, ...] = ()
    floors: tuple[str, ...] = ()
    space_types: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class MemberSpec:
    """A member as the file gives it; ``credentials`` are raw and only hashed when stored."""

    id: str
    name: str
    company: str | None = None
    plan: str | None = None
    credentials: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Site:
    """The site: its id, name, IANA time zone and business hours."""

    id: str
    name: str
    timezone: str
    tz: ZoneInfo
    business_hours: BusinessHours


@dataclass(frozen=True, slots=True)
class Space:
    """A sellable space; ``floor`` is the id of its floor."""

    id: str
    name: str
    type: str
    capacity: int
    bookable: bool
    floor: str
    #: a bookable space's room calendar: an http(s) ICS feed URL or an absolute file path
    #: (a relative one in the file is taken from the building file's directory)
    calendar: str | None = None


@dataclass(frozen=True, slots=True)
class Floor:
    """A floor and its spaces, in file order."""

    id: str
    name: str
    spaces: tuple[Space, ...]


@dataclass(frozen=True, slots=True)
class DeviceBinding:
    """A device id (as its profile captures it from the topic), its profile and its space, if any.

    ``model`` is a free label of the kind of device (``pir``, ``mmwave``, ``aqara-rtcgq11lm``, ...);
    the gateway ignores it, the simulator uses it to pick a behaviour.
    """

    id: str
    profile: str
    space: str | None = None
    model: str | None = None
    bridge: str | None = None  # the id of the bridge it comes through; None: connects itself
    #: ``entities:``: the device's own names (ESPHome object ids, or `*` patterns) -> quantity
    #: (or ``ignore``), read before the profile's defaults
    entities: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True, eq=False)
class Building:
    """One site: floors in file order, spaces and devices by id, and devices by space."""

    site: Site
    floors: tuple[Floor, ...]
    spaces: dict[str, Space]
    devices: dict[str, DeviceBinding]
    source: str | None = None  # the file it was loaded from
    by_space: dict[str, tuple[DeviceBinding, ...]] = field(default_factory=dict)
    plans: dict[str, PlanSpec] = field(default_factory=dict)  # optional ``plans:`` section
    members: dict[str, MemberSpec] = field(default_factory=dict)  # optional ``members:``
    bridges: dict[str, Bridge] = field(default_factory=dict)  # declared and implicit bridges
    # state topic -> bridge, and bridge id -> its devices (derived)
    bridge_states: dict[str, Bridge] = field(default_factory=dict)
    bridged: dict[str, tuple[DeviceBinding, ...]] = field(default_factory=dict)
    #: device id -> its ``entities`` binding, for the profiles' select rules (derived)
    entities: dict[str, NameMap[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.entities:
            bound = {d.id: NameMap(d.entities) for d in self.devices.values() if d.entities}
            object.__setattr__(self, "entities", bound)
        if self.bridges and not self.bridged:
            via: dict[str, list[DeviceBinding]] = {b: [] for b in self.bridges}
            for dev in self.devices.values():
                if dev.bridge is not None and dev.bridge in via:
                    via[dev.bridge].append(dev)
            object.__setattr__(self, "bridged", {k: tuple(v) for k, v in via.items()})
            states = {b.state_topic: b for b in self.bridges.values() if b.state_topic}
            object.__setattr__(self, "bridge_states", states)
        if not self.by_space and self.devices:
            groups: dict[str, list[DeviceBinding]] = {}
            for dev in self.devices.values():
                if dev.space is not None:
                    groups.setdefault(dev.space, []).append(dev)
            object.__setattr__(self, "by_space", {k: tuple(v) for k, v in groups.items()})

    def floor_name(self, floor_id: str) -> str:
        """The name the building file gives a floor; its id when no floor has it."""
        return next((f.name for f in self.floors if f.id == floor_id), floor_id)

    def devices_in(self, space_id: str) -> tuple[DeviceBinding, ...]:
        """The devices bound to one space (empty for an unknown space)."""
        return self.by_space.get(space_id, ())
