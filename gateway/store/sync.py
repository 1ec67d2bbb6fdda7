"""Write the building model (site, floors, spaces, bound devices) into the store."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.engine import Engine

from gateway.building import Building
from gateway.store.tables import Device, Floor, Site, Space
from gateway.store.writer import upsert_rows


def _t(model: type) -> Table:
    return model.__table__  # type: ignore[attr-defined,no-any-return]


def sync_building(engine: Engine, building: Building) -> None:
    """Upsert the building; devices keep their readings, and discovered ones become bound.

    One statement per table, executed for all its rows."""
    site = building.site
    hours = {"week": [list(map(list, d)) for d in site.business_hours.week]}
    site_row = {
        "id": site.id,
        "name": site.name,
        "timezone": site.timezone,
        "business_hours": hours,
    }
    floors = [
        {"site": site.id, "id": floor.id, "name": floor.name, "position": pos}
        for pos, floor in enumerate(building.floors)
    ]
    spaces = [
        {
            "site": site.id,
            "id": sp.id,
            "floor": floor.id,
            "name": sp.name,
            "type": sp.type,
            "capacity": sp.capacity,
            "bookable": sp.bookable,
        }
        for floor in building.floors
        for sp in floor.spaces
    ]
    devices: list[dict[str, Any]] = [
        {
            "site": site.id,
            "id": d.id,
            "profile": d.profile,
            "space": d.space,
            "bound": True,
            "readings": {},
        }
        for d in building.devices.values()
    ]
    with engine.begin() as conn:
        upsert_rows(conn, _t(Site), ("id",), [site_row])
        upsert_rows(conn, _t(Floor), ("site", "id"), floors)
        upsert_rows(conn, _t(Space), ("site", "id"), spaces)
        upsert_rows(conn, _t(Device), ("site", "id"), devices, insert_only=("readings",))
