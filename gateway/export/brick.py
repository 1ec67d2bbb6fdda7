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

The graph is built with rdflib and serialized by it, so any name (quotes, backslashes, line
breaks, control characters) is a valid literal, and every id is percent-encoded into its own IRI.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from urllib.parse import quote

from rdflib import RDF, RDFS, Graph, Literal, Namespace, URIRef

from gateway.building import Building, DeviceBinding
from gateway.profiles import ProfileRegistry

BRICK = "https://brickschema.org/schema/Brick#"
QUDT_UNIT = "http://qudt.org/vocab/unit/"

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
    "voc_ugm3": "TVOC_Level_Sensor",
    "pressure_hpa": "Pressure_Sensor",
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
    "voc_ugm3": "MicroGM-PER-M3",
    "pressure_hpa": "HectoPA",
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


def _iri(ns: Namespace, kind: str, ident: str) -> URIRef:
    # every character but unreserved ones is percent-encoded, so distinct ids stay distinct
    return URIRef(f"{ns}{kind}_{quote(ident, safe='')}")


def to_turtle(
    building: Building,
    registry: ProfileRegistry,
    stored: Mapping[str, Iterable[str]] | None = None,
) -> str:
    """The building as Turtle text."""
    stored = stored or {}
    site = building.site
    brick, unit = Namespace(BRICK), Namespace(QUDT_UNIT)
    bldg = Namespace(f"urn:gateway:{quote(site.id, safe='')}#")
    g = Graph()
    g.bind("brick", brick)
    g.bind("bldg", bldg)
    g.bind("rdfs", RDFS)
    g.bind("unit", unit)

    def part(whole: URIRef, piece: URIRef) -> None:
        g.add((whole, brick.hasPart, piece))
        g.add((piece, brick.isPartOf, whole))

    site_n, building_n = bldg["site"], bldg["building"]
    g.add((site_n, RDF.type, brick.Site))
    g.add((site_n, RDFS.label, Literal(site.name)))
    g.add((building_n, RDF.type, brick.Building))
    g.add((building_n, RDFS.label, Literal(site.name)))
    g.add((building_n, RDFS.comment, Literal(f"time zone {site.timezone}")))
    part(site_n, building_n)
    for floor in building.floors:
        fl = _iri(bldg, "floor", floor.id)
        g.add((fl, RDF.type, brick.Floor))
        g.add((fl, RDFS.label, Literal(floor.name)))
        part(building_n, fl)
        for sp in floor.spaces:
            s = _iri(bldg, "space", sp.id)
            g.add((s, RDF.type, brick[SPACE_CLASSES.get(sp.type, "Space")]))
            g.add((s, RDFS.label, Literal(sp.name)))
            g.add((s, RDFS.comment, Literal(f"{sp.type}, capacity {sp.capacity}, id {sp.id}")))
            part(fl, s)
    for dev in building.devices.values():
        if dev.profile in registry.profiles:
            _device(g, bldg, building, dev, device_quantities(dev, registry, stored))
    return g.serialize(format="turtle")


def _device(
    g: Graph, bldg: Namespace, building: Building, dev: DeviceBinding, quantities: tuple[str, ...]
) -> None:
    """One device, located in its space, with a point per quantity it reports."""
    brick, unit = Namespace(BRICK), Namespace(QUDT_UNIT)
    d = _iri(bldg, "device", dev.id)
    g.add((d, RDF.type, brick.Access_Reader if "door" in quantities else brick.Equipment))
    g.add((d, RDFS.label, Literal(dev.id)))
    g.add((d, RDFS.comment, Literal(f"profile {dev.profile}")))
    space = None
    if dev.space is not None and dev.space in building.spaces:
        space = _iri(bldg, "space", dev.space)
        g.add((d, brick.hasLocation, space))
        g.add((space, brick.isLocationOf, d))
    for q in quantities:
        p = _iri(bldg, "point", f"{dev.id}.{q}")
        g.add((p, RDF.type, brick[QUANTITY_CLASSES.get(q, "Point")]))
        g.add((p, RDFS.label, Literal(f"{dev.id} {q}")))
        g.add((d, brick.hasPoint, p))
        g.add((p, brick.isPointOf, d))
        if q in UNITS:
            g.add((p, brick.hasUnit, unit[UNITS[q]]))
        if space is not None:
            g.add((space, brick.hasPoint, p))
