"""The building file: site, floors, spaces and device bindings, loaded from YAML.

A building file looks like this (SPEC section 5)::

    site:
      id: ams-01
      name: Amsterdam Noord
      timezone: Europe/Amsterdam            # IANA name
      business_hours:                       # missing day = closed; omitted = open 24/7
        mon-fri: "08:00-20:00"              # a day or a range (wrapping allowed: fri-mon)
        sat: ["10:00-13:00", "14:00-18:00"] # one span or a list; "00:00-24:00" is all day
    floors:
      - id: f1
        name: Ground floor
        spaces:
          - {id: f1-orion, name: Orion, type: meeting_room, capacity: 8, bookable: true}
    devices:
      - {id: f1-orion-pc, profile: ref-counter, space: f1-orion}
      - {id: z-f1-orion-co2, profile: zigbee2mqtt, space: f1-orion, model: airq}
      - {id: printer-1, profile: ref-printer}   # no space: a corridor printer

``name`` defaults to the id; ``bookable`` to false; ``model`` is a free label. Unknown keys,
duplicate ids and keys, unknown spaces, bad time zones and spans raise
:class:`gateway.errors.BuildingError` with ``file:line: field.path: what was expected``
(list indexes in the path count from 0). Profile names are checked by the caller.
"""

from gateway.building.hours import DAYS, BusinessHours
from gateway.building.loader import load_building
from gateway.building.model import SPACE_TYPES, Building, DeviceBinding, Floor, Site, Space

__all__ = [
    "DAYS",
    "SPACE_TYPES",
    "Building",
    "BusinessHours",
    "DeviceBinding",
    "Floor",
    "Site",
    "Space",
    "load_building",
]
