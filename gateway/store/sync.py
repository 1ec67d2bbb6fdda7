"""Write the building model (site, floors, spaces, bound devices) into the store."""

from __future__ import annotations

from sqlalchemy import Table
from sqlalchemy.engine import Engine

from gateway.building import Building
from gateway.store.tables import Device, Floor, Site, Space
from gateway.store.writer import upsert


def _t(model: type) -> Table:
    return model.__table__  # type: ignore[attr-defined,no-any-return]


def sync_building(engine: Engine, building: Building) -> None:
    """Upsert the building; devices keep their readings, and discovered ones become bound."""
    dialect = engine.dialect.name
    site = building.site
    with engine.begin() as conn:
        conn.execute(
            upsert(
                dialect,
                _t(Site),
                {
                    "id": site.id,
                    "name": site.name,
                    "timezone": site.timezone,
                    "business_hours": {
                        "week": [list(map(list, d)) for d in site.business_hours.week]
                    },
                },
                ("id",),
            )
        )
        for pos, floor in enumerate(building.floors):
            conn.execute(
                upsert(
                    dialect,
                    _t(Floor),
                    {"site": site.id, "id": floor.id, "name": floor.name, "position": pos},
                    ("site", "id"),
                )
            )
            for sp in floor.spaces:
                row = {
                    "site": site.id,
                    "id": sp.id,
                    "floor": floor.id,
                    "name": sp.name,
                    "type": sp.type,
                    "capacity": sp.capacity,
                    "bookable": sp.bookable,
                }
                conn.execute(upsert(dialect, _t(Space), row, ("site", "id")))
        for d in building.devices.values():
            row = {
                "site": site.id,
                "id": d.id,
                "profile": d.profile,
                "space": d.space,
                "bound": True,
                "readings": {},
            }
            conn.execute(
                upsert(dialect, _t(Device), row, ("site", "id"), insert_only=("readings",))
            )
