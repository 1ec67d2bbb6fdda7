"""Load and validate a building file into the frozen model; errors name file, line and field."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from gateway.building.bridges import Bridge, bridge_of, parse_bridges
from gateway.building.hours import DAYS, BusinessHours, Span, merge_spans, parse_days, parse_span
from gateway.building.marked import MarkedDict, MarkedList, load_marked
from gateway.building.members import parse_members, parse_plans
from gateway.building.model import SPACE_TYPES, Building, DeviceBinding, Floor, Site, Space
from gateway.building.reader import Reader, join, show
from gateway.errors import BuildingError
from gateway.events import QUANTITIES
from gateway.logtext import clean

log = logging.getLogger(__name__)

_ROOT_KEYS = ("schema_version", "site", "floors", "devices", "plans", "members", "bridges")
_SITE_KEYS = ("id", "name", "timezone", "business_hours")
_FLOOR_KEYS = ("id", "name", "spaces")
_SPACE_KEYS = ("id", "name", "type", "capacity", "bookable", "calendar")
_DEVICE_KEYS = ("id", "profile", "space", "model", "bridge", "entities")
# profiles whose device ids may span topic levels: zigbee2mqtt friendly names group devices
# with '/' (`floor1/room2/pir` publishes on zigbee2mqtt/floor1/room2/pir)
_SPANNING_PROFILES = ("zigbee2mqtt",)


def load_building(path: str | Path) -> Building:
    """Load a building file; raise BuildingError naming the file, line and field on any problem."""
    label = str(path)
    ctx = Reader(label)
    data = load_marked(Path(path), label)
    if data is None:
        raise BuildingError(f"{label}:1: the building file is empty (expected site, floors)")
    root = ctx.mapping(data, getattr(data, "line", 1), "", _ROOT_KEYS)
    version = root.get("schema_version", 1)
    if version != 1 or isinstance(version, bool):
        ctx.fail(root.lines["schema_version"], "schema_version", f"expected 1, got {show(version)}")
    if "site" not in root:
        ctx.fail(root.line, "", "missing key 'site'")
    if "floors" not in root:
        ctx.fail(root.line, "", "missing key 'floors'")
    site = _site(ctx, root["site"], root.lines["site"])
    floors = _floors(ctx, root)
    spaces: dict[str, Space] = {}
    for floor in floors:
        for space in floor.spaces:
            spaces[space.id] = space
    bridges = parse_bridges(ctx, root)
    devices = _devices(ctx, root, spaces, bridges)
    plans = parse_plans(ctx, root, spaces, floors)
    members = parse_members(ctx, root, plans)
    log.debug("loaded building %s: %d spaces, %d devices", clean(label), len(spaces), len(devices))
    return Building(
        site=site,
        floors=floors,
        spaces=spaces,
        devices=devices,
        source=label,
        plans=plans,
        members=members,
        bridges=bridges,
    )


def _site(ctx: Reader, value: Any, line: int) -> Site:
    m = ctx.mapping(value, line, "site", _SITE_KEYS)
    site_id = ctx.ident(m, "id", "site")
    name = ctx.text(m, "name", "site", site_id) or site_id
    tz_name = m.get("timezone")
    if not isinstance(tz_name, str):
        ctx.missing_or_bad(m, "timezone", "site", "expected an IANA time zone name", tz_name)
    try:
        tz = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        ctx.fail(
            m.lines["timezone"],
            "site.timezone",
            f"expected an IANA time zone name such as 'Europe/Amsterdam', got {tz_name!r}",
        )
    if "business_hours" not in m:
        hours = BusinessHours.always(tz)
    else:
        hours = _hours(ctx, m["business_hours"], m.lines["business_hours"], tz)
    return Site(id=site_id, name=name, timezone=tz_name, tz=tz, business_hours=hours)


def _hours(ctx: Reader, value: Any, line: int, tz: ZoneInfo) -> BusinessHours:
    path = "site.business_hours"
    if not isinstance(value, MarkedDict):
        ctx.fail(
            line, path, f"expected a mapping from day or day range to spans, got {show(value)}"
        )
    week: list[list[Span]] = [[] for _ in DAYS]
    seen: dict[int, str] = {}
    for key, spans in value.items():
        kline = value.lines[key]
        kpath = f"{path}.{key}"
        try:
            days = parse_days(str(key)) if isinstance(key, str) else parse_days("")
        except ValueError as err:
            ctx.fail(kline, kpath, f"{err}, got {show(key)}")
        items = [] if spans is None else spans if isinstance(spans, list) else [spans]
        for i, item in enumerate(items):
            ipath = f"{kpath}[{i}]" if isinstance(spans, list) else kpath
            iline = spans.lines[i] if isinstance(spans, MarkedList) else kline
            if not isinstance(item, str):
                ctx.fail(iline, ipath, f"expected a span 'HH:MM-HH:MM', got {show(item)}")
            try:
                span = parse_span(item)
            except ValueError as err:
                ctx.fail(iline, ipath, f"{err}, got {item!r}")
            for d in days:
                week[d].append(span)
        for d in days:
            if d in seen:
                ctx.fail(kline, kpath, f"day '{DAYS[d]}' is already given by '{seen[d]}'")
            seen[d] = str(key)
    merged: list[tuple[Span, ...]] = []
    for d, day_spans in enumerate(week):
        try:
            merged.append(merge_spans(day_spans))
        except ValueError as err:
            ctx.fail(value.lines[seen[d]], f"{path}.{seen[d]}", f"{err} on {DAYS[d]}")
    return BusinessHours(tz, tuple(merged))


def _floors(ctx: Reader, root: MarkedDict) -> tuple[Floor, ...]:
    space_where: dict[str, str] = {}
    floors: list[Floor] = []
    for fpath, fm, fid in ctx.entries(root, "floors", _FLOOR_KEYS, "floor"):
        fname = ctx.text(fm, "name", fpath, fid) or fid
        sitems = ctx.seq(fm, "spaces", fpath)
        spaces: list[Space] = []
        for j, svalue in enumerate(sitems):
            spath = f"{fpath}.spaces[{j}]"
            space = _space(
                ctx, ctx.mapping(svalue, sitems.lines[j], spath, _SPACE_KEYS), spath, fid
            )
            if space.id in space_where:
                ctx.fail(
                    svalue.lines["id"],
                    f"{spath}.id",
                    f"duplicate space id {space.id!r} (already at {space_where[space.id]})",
                )
            space_where[space.id] = spath
            spaces.append(space)
        floors.append(Floor(id=fid, name=fname, spaces=tuple(spaces)))
    return tuple(floors)


def _space(ctx: Reader, m: MarkedDict, path: str, floor: str) -> Space:
    sid = ctx.ident(m, "id", path)
    name = ctx.text(m, "name", path, sid) or sid
    stype = m.get("type")
    if stype not in SPACE_TYPES:
        ctx.missing_or_bad(m, "type", path, f"expected one of {', '.join(SPACE_TYPES)}", stype)
    cap = m.get("capacity")
    if not isinstance(cap, int) or isinstance(cap, bool) or cap < 1:
        ctx.missing_or_bad(m, "capacity", path, "expected an integer >= 1", cap)
    bookable = m.get("bookable", False)
    if not isinstance(bookable, bool):
        ctx.fail(
            m.lines["bookable"],
            f"{path}.bookable",
            f"expected true or false, got {show(bookable)}",
        )
    calendar = _calendar(ctx, m, path, bookable)
    return Space(sid, name, stype, cap, bookable, floor, calendar)


def _calendar(ctx: Reader, m: MarkedDict, path: str, bookable: bool) -> str | None:
    """``calendar:``: an ICS feed URL or file of a bookable space (relative to the file)."""
    value = m.get("calendar")
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        ctx.fail(m.lines["calendar"], f"{path}.calendar",
                 f"expected an ICS feed URL or file path, got {show(value)}")  # fmt: skip
    if not bookable:
        ctx.fail(m.lines["calendar"], f"{path}.calendar", "only a bookable space has a calendar")
    if value.startswith(("http://", "https://")):
        return value
    if "://" in value:
        ctx.fail(m.lines["calendar"], f"{path}.calendar",
                 f"expected an http(s) URL or a file path, got {value!r}")  # fmt: skip
    return str(Path(ctx.label).resolve().parent / value)  # an absolute path stays as it is


def _device_id(ctx: Reader, m: MarkedDict, path: str) -> str:
    """A device id; a zigbee2mqtt friendly name may hold '/' between non-empty levels."""
    value = m.get("id")
    if not isinstance(value, str) or "/" not in value or m.get("profile") not in _SPANNING_PROFILES:
        return ctx.ident(m, "id", path)
    if any(c in value for c in "+#") or value != value.strip() or "" in value.split("/"):
        ctx.fail(
            m.lines["id"],
            join(path, "id"),
            "expected a zigbee2mqtt friendly name: topic levels without '+', '#', empty levels "
            f"or surrounding spaces, got {value!r}",
        )
    return value


def _devices(
    ctx: Reader, root: MarkedDict, spaces: dict[str, Space], bridges: dict[str, Bridge]
) -> dict[str, DeviceBinding]:
    devices: dict[str, DeviceBinding] = {}
    for path, m, did in ctx.entries(
        root, "devices", _DEVICE_KEYS, "device", lambda m, path: _device_id(ctx, m, path)
    ):
        profile = ctx.text(m, "profile", path, None)
        if profile is None:
            ctx.missing_or_bad(m, "profile", path, "expected a profile name", None)
        space = m.get("space")
        if space is not None:
            space = ctx.ident(m, "space", path)
            if space not in spaces:
                ctx.fail(
                    m.lines["space"], f"{path}.space", f"expected the id of a space, got {space!r}"
                )
        model = ctx.text(m, "model", path, None)
        bridge = bridge_of(ctx, m, path, profile, bridges)
        entities = _entities(ctx, m, path)
        devices[did] = DeviceBinding(did, profile, space, model, bridge, entities)
    return devices


def _entities(ctx: Reader, m: MarkedDict, path: str) -> tuple[tuple[str, str], ...]:
    """``entities: {living_pir: motion, "*_temp": temperature_c, status_led: ignore}``: what
    the device's own entity names (ESPHome object ids; `*` and `?` patterns) measure."""
    value = m.get("entities")
    if value is None:
        return ()
    where = join(path, "entities")
    if not isinstance(value, MarkedDict) or not value:
        ctx.fail(m.lines["entities"], where, f"expected a mapping of entity name to quantity, "
                 f"got {show(value)}")  # fmt: skip
    out: list[tuple[str, str]] = []
    for name, quantity in value.items():
        line = value.lines[name]
        if isinstance(name, int) and not isinstance(name, bool):
            name = str(name)
        if not isinstance(name, str) or not name.strip() or any(c in name for c in "/+#"):
            ctx.fail(line, where, f"expected an entity name (one topic level), got {show(name)}")
        if quantity != "ignore" and quantity not in QUANTITIES:
            known = ", ".join(sorted(QUANTITIES))
            ctx.fail(line, f"{where}.{name}", f"expected a quantity ({known}) or ignore, "
                     f"got {show(quantity)}")  # fmt: skip
        out.append((name, quantity))
    return tuple(out)
