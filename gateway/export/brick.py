"""The building as a Brick Schema model (Turtle): site, building, floors, spaces, devices, points.

Shape of the model (``bldg:`` is ``urn:gateway:<site id>#``):

- ``bldg:site`` (``brick:Site``) ``brick:hasPart`` ``bldg:building`` (``brick:Building``), which
  ``brick:hasPart`` each floor (``brick:Floor``), which ``brick:hasPart`` its spaces, with the
  inverse ``brick:isPartOf`` on each;
- a space's Brick class follows its type (``SPACE_CLASSES``); its name is its label, its
  type, capacity and gateway id are in its ``rdfs:comment``;
- a device is a ``brick:Equipment`` (a door controller a ``brick:Access_Reader``) with
  ``brick:hasLocation`` its space; each quantity it reports is a point (``QUANTITY_CLASSES``:
  ``brick:Occupancy_Sensor``, ``brick:CO2_Level_Sensor``, ``brick:Air_Temperature_Sensor``,
  ...) linked by ``brick:hasPoint`` / ``brick:isPointOf`` to the device and ``brick:hasPoint``
  from the space, with ``brick:hasUnit`` in QUDT where the unit is fixed.

Which points a device has: the quantities the gateway has stored for it when a store is given,
else what its ``model`` label says (``pir``, ``mmwave``, ``temphum``, ...), else every quantity
its profile can read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from urllib.parse import quote

from gateway.building import Building, DeviceBinding
from gateway.profiles import ProfileRegistry

BRICK = "https://brickschema.org/schema/Brick#"

SPACE_CLASSES: dict[str, str] = {
    "private_office": "Enclosed_Office",
    "hot_desk": "Open_Office",
    "open_area": "Open_Office",
    "meeting_room": "Conference_Room",
    "phone_booth": "Room",
    "lounge": "Lounge",
}

#: Brick point class of each canonical quantity (door and printer states as statuses).
QUANTITY_CLASSES: dict[str, str] = {
    "occupied": "Occupancy_Sensor",
    "presence": "Occupancy_Sensor",
    "motion": "Motion_Sensor",
    "people_count": "Occupancy_Count_Sensor",
    "contact_open": "Contact_Sensor",
    "temperature_c": "Air_Temperature_Sensor",
    "humidity_pct": "Relative_Humidity_Sensor",
    "co2_ppm": "CO2_Level_Sensor",
    "pm25_ugm3": "PM2.5_Sensor",
    "pm10_ugm3": "PM10_Sensor",
    "tvoc_ppb": "TVOC_Level_Sensor",
    "voc_index": "TVOC_Level_Sensor",
    "hcho_mgm3": "Formaldehyde_Level_Sensor",
    "illuminance_lux": "Illuminance_Sensor",
    "noise_dba": "Sensor",
    "battery_pct": "Sensor",
    "paper_pct": "Sensor",
    "toner_pct": "Sensor",
    "online": "Status",
    "door": "Open_Close_Status",
    "printer_state": "Status",
    "jam": "Fault_Status",
    "print_job": "Status",
}

UNITS: dict[str, str] = {
    "temperature_c": "DEG_C",
    "humidity_pct": "PERCENT_RH",
    "co2_ppm": "PPM",
    "tvoc_ppb": "PPB",
    "pm25_ugm3": "MicroGM-PER-M3",
    "pm10_ugm3": "MicroGM-PER-M3",
    "illuminance_lux": "LUX",
    "battery_pct": "PERCENT",
    "paper_pct": "PERCENT",
    "toner_pct": "PERCENT",
}

#: What a device's ``model`` label says it measures (the simulator's labels).
MODEL_QUANTITIES: dict[str, tuple[str, ...]] = {
    "pir": ("motion",),
    "aqara-rtcgq11lm": ("motion", "illuminance_lux", "battery_pct"),
    "mmwave": ("presence",),
    "desk": ("presence",),
    "contact": ("contact_open", "battery_pct"),
    "temphum": ("temperature_c", "humidity_pct", "battery_pct"),
    "airq": ("co2_ppm", "temperature_c", "humidity_pct", "pm25_ugm3", "voc_index"),
    "counter": ("people_count",),
}


def profile_quantities(registry: ProfileRegistry, profile: str) -> tuple[str, ...]:
    """Every canonical quantity the profile's rules can produce, in rule order."""
    seen: dict[str, None] = {}
    for rule in registry.profiles[profile].rules:
        for spec in rule.fields:
            seen.setdefault(spec.quantity, None)
        for spec in (rule.by_capture or {}).values():
            seen.setdefault(spec.quantity, None)
    return tuple(seen)


def device_quantities(
    dev: DeviceBinding, registry: ProfileRegistry, stored: Mapping[str, Iterable[str]]
) -> tuple[str, ...]:
    """The points of one device: what the store saw, else its model's, else its profile's."""
    seen = tuple(stored.get(dev.id, ()))
    if seen:
        return tuple(sorted(seen))
    if dev.model is not None and dev.model in MODEL_QUANTITIES:
        return MODEL_QUANTITIES[dev.model]
    return profile_quantities(registry, dev.profile)


def _iri(kind: str, ident: str) -> str:
    # percent escapes are legal in a Turtle local name; "." may not end one
    return f"bldg:{kind}_{quote(ident, safe='')}".rstrip(".")


def _lit(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def to_turtle(
    building: Building,
    registry: ProfileRegistry,
    stored: Mapping[str, Iterable[str]] | None = None,
) -> str:
    """The building as Turtle text."""
    stored = stored or {}
    site = building.site
    out = [
        f"@prefix brick: <{BRICK}> .",
        f"@prefix bldg: <urn:gateway:{quote(site.id, safe='')}#> .",
        "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .",
        "@prefix unit: <http://qudt.org/vocab/unit/> .",
        "",
        f"bldg:site a brick:Site ; rdfs:label {_lit(site.name)} ; brick:hasPart bldg:building .",
        f"bldg:building a brick:Building ; rdfs:label {_lit(site.name)} ;",
        f"    rdfs:comment {_lit('time zone ' + site.timezone)} ;",
        "    brick:isPartOf bldg:site"
        + "".join(f" ;\n    brick:hasPart {_iri('floor', f.id)}" for f in building.floors)
        + " .",
        "",
    ]
    for floor in building.floors:
        fl = _iri("floor", floor.id)
        out.append(
            f"{fl} a brick:Floor ; rdfs:label {_lit(floor.name)} ; brick:isPartOf bldg:building"
            + "".join(f" ;\n    brick:hasPart {_iri('space', s.id)}" for s in floor.spaces)
            + " ."
        )
    out.append("")
    points_of_space: dict[str, list[str]] = {}
    devices_of_space: dict[str, list[str]] = {}
    for dev in building.devices.values():
        if dev.profile not in registry.profiles:
            continue
        d = _iri("device", dev.id)
        quantities = device_quantities(dev, registry, stored)
        cls = "Access_Reader" if "door" in quantities else "Equipment"
        lines = [f"{d} a brick:{cls} ; rdfs:label {_lit(dev.id)}"]
        lines.append(f"    rdfs:comment {_lit(f'profile {dev.profile}')}")
        if dev.space is not None and dev.space in building.spaces:
            lines.append(f"    brick:hasLocation {_iri('space', dev.space)}")
            devices_of_space.setdefault(dev.space, []).append(d)
        points: list[str] = []
        for q in quantities:
            p = _iri("point", f"{dev.id}.{q}")
            points.append(p)
            lines.append(f"    brick:hasPoint {p}")
            unit = f" ;\n    brick:hasUnit unit:{UNITS[q]}" if q in UNITS else ""
            label = _lit(f"{dev.id} {q}")
            out.append(
                f"{p} a brick:{QUANTITY_CLASSES.get(q, 'Point')} ; rdfs:label {label} ;\n"
                f"    brick:isPointOf {d}{unit} ."
            )
        if dev.space is not None and dev.space in building.spaces:
            points_of_space.setdefault(dev.space, []).extend(points)
        out.append(" ;\n".join(lines) + " .")
    out.append("")
    for floor in building.floors:
        for sp in floor.spaces:
            s = _iri("space", sp.id)
            lines = [
                f"{s} a brick:{SPACE_CLASSES.get(sp.type, 'Space')} ; rdfs:label {_lit(sp.name)}",
                f"    rdfs:comment {_lit(f'{sp.type}, capacity {sp.capacity}, id {sp.id}')}",
                f"    brick:isPartOf {_iri('floor', floor.id)}",
            ]
            lines += [f"    brick:isLocationOf {d}" for d in devices_of_space.get(sp.id, [])]
            lines += [f"    brick:hasPoint {p}" for p in points_of_space.get(sp.id, [])]
            out.append(" ;\n".join(lines) + " .")
    return "\n".join(out) + "\n"
