"""`gateway export brick`: the Turtle parses, and a known space has the right classes and links."""

from __future__ import annotations

from pathlib import Path

from rdflib import RDF, RDFS, Graph, Literal, Namespace, URIRef

from gateway.building import load_building
from gateway.cli import main
from gateway.export.brick import to_turtle
from gateway.profiles import ProfileRegistry
from tests.support import FIXTURES, ROOT

BRICK = Namespace("https://brickschema.org/schema/Brick#")
UNIT = Namespace("http://qudt.org/vocab/unit/")
B = Namespace("urn:gateway:test-site#")
BUILDING = FIXTURES / "building-small.yaml"


def export(tmp_path: Path) -> Graph:
    out = tmp_path / "building.ttl"
    rc = main(["export", "brick", "--building", str(BUILDING), "--no-store", "-o", str(out)])
    assert rc == 0
    return Graph().parse(out, format="turtle")


def test_site_building_floors_and_spaces(tmp_path: Path) -> None:
    g = export(tmp_path)
    assert (B.site, RDF.type, BRICK.Site) in g
    assert (B.building, RDF.type, BRICK.Building) in g
    assert (B.building, BRICK.isPartOf, B.site) in g
    floor = URIRef(B + "floor_1")
    orion = URIRef(B + "space_orion")
    assert (floor, RDF.type, BRICK.Floor) in g
    assert (B.building, BRICK.hasPart, floor) in g
    assert (floor, BRICK.hasPart, orion) in g and (orion, BRICK.isPartOf, floor) in g
    types = {
        sid: set(g.objects(URIRef(B + f"space_{sid}"), RDF.type))
        for sid in ("orion", "office-101", "lounge", "desk-area", "booth-1")
    }
    assert types["orion"] == {BRICK.Conference_Room}
    assert types["office-101"] == {BRICK.Enclosed_Office}
    assert types["lounge"] == {BRICK.Lounge}
    assert types["desk-area"] == {BRICK.Open_Office}
    assert types["booth-1"] == {BRICK.Room}
    # every space of the building file is in the model, each on one floor
    spaces = set(g.subjects(BRICK.isPartOf, floor)) | set(
        g.subjects(BRICK.isPartOf, URIRef(B + "floor_2"))
    )
    assert len(spaces) == len(load_building(BUILDING).spaces)


def test_sensors_and_points_of_a_known_space(tmp_path: Path) -> None:
    g = export(tmp_path)
    orion = URIRef(B + "space_orion")
    counter = URIRef(B + "device_pc-orion")
    point = URIRef(B + "point_pc-orion.people_count")
    assert (counter, BRICK.hasLocation, orion) in g and (orion, BRICK.isLocationOf, counter) in g
    assert (point, RDF.type, BRICK.Occupancy_Count_Sensor) in g
    assert (counter, BRICK.hasPoint, point) in g and (point, BRICK.isPointOf, counter) in g
    assert (orion, BRICK.hasPoint, point) in g
    # the environment monitor in the open area: CO2 and temperature with their units
    env = URIRef(B + "device_env-open-2")
    co2 = URIRef(B + "point_env-open-2.co2_ppm")
    temp = URIRef(B + "point_env-open-2.temperature_c")
    assert (co2, RDF.type, BRICK.CO2_Level_Sensor) in g and (co2, BRICK.hasUnit, UNIT.PPM) in g
    assert (temp, RDF.type, BRICK.Air_Temperature_Sensor) in g
    assert (temp, BRICK.hasUnit, UNIT.DEG_C) in g
    assert {co2, temp} <= set(g.objects(env, BRICK.hasPoint))
    assert (URIRef(B + "space_open-2"), BRICK.hasPoint, co2) in g
    # a door controller is an access reader; the unplaced printer has no location
    assert (URIRef(B + "device_door-office-101"), RDF.type, BRICK.Access_Reader) in g
    assert not list(g.objects(URIRef(B + "device_printer-1"), BRICK.hasLocation))


def test_points_follow_what_the_store_saw() -> None:
    building = load_building(BUILDING)
    registry = ProfileRegistry.load(ROOT / "device_profiles")
    text = to_turtle(building, registry, {"z-orion-motion": ["motion", "battery_pct"]})
    g = Graph().parse(data=text, format="turtle")
    dev = URIRef(B + "device_z-orion-motion")
    points = set(g.objects(dev, BRICK.hasPoint))
    assert points == {
        URIRef(B + "point_z-orion-motion.motion"),
        URIRef(B + "point_z-orion-motion.battery_pct"),
    }
    assert (URIRef(B + "point_z-orion-motion.motion"), RDF.type, BRICK.Motion_Sensor) in g
    # without a store nor a model label, the profile's quantities: more than two
    g2 = Graph().parse(data=to_turtle(building, registry), format="turtle")
    assert len(set(g2.objects(dev, BRICK.hasPoint))) > 2


AWKWARD = r"""
site: {id: "odd site:1", name: "Quote \" back\\slash \r CR", timezone: UTC,
       business_hours: {mon-sun: "00:00-24:00"}}
floors:
  - id: "1."
    name: "Line\nbreak, tab\t, bell \a"
    spaces:
      - {id: x, name: "x: \"plain\"", type: meeting_room, capacity: 4}
      - {id: "x.", name: "x. with \\ and \r\n", type: lounge, capacity: 4}
      - {id: "x%2E", name: "looks percent-encoded", type: hot_desk, capacity: 1}
devices:
  - {id: "d.", profile: ref-counter, space: "x.", model: counter}
  - {id: d, profile: ref-counter, space: x, model: counter}
"""


def test_awkward_names_and_ids_parse_back_exactly_and_stay_distinct(tmp_path: Path) -> None:
    (tmp_path / "b.yaml").write_text(AWKWARD)
    building = load_building(tmp_path / "b.yaml")
    registry = ProfileRegistry.load(ROOT / "device_profiles")
    g = Graph().parse(data=to_turtle(building, registry), format="turtle")
    labels = {str(o) for o in g.objects(None, RDFS.label)}
    assert {building.site.name, building.floors[0].name} <= labels
    assert {s.name for s in building.spaces.values()} <= labels
    assert "\r" in building.site.name and "\a" in building.floors[0].name  # the YAML escapes
    rooms = set(g.subjects(RDF.type, BRICK.Conference_Room))
    lounges = set(g.subjects(RDF.type, BRICK.Lounge))
    desks = set(g.subjects(RDF.type, BRICK.Open_Office))
    assert len(rooms) == len(lounges) == len(desks) == 1
    assert len(rooms | lounges | desks) == 3  # x, x. and x%2E: three spaces, three IRIs
    (room,), (lounge,) = rooms, lounges
    for space, device in ((room, "d"), (lounge, "d.")):  # each device in its own space only
        (dev,) = g.subjects(RDFS.label, Literal(device))
        assert set(g.objects(dev, BRICK.hasLocation)) == {space}
        (point,) = g.objects(dev, BRICK.hasPoint)
        assert set(g.subjects(BRICK.hasPoint, point)) == {dev, space}
