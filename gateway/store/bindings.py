"""Device bindings made through the API: kept in the store, laid over the building file."""

from __future__ import annotations

import time

from sqlalchemy import Table, select
from sqlalchemy.engine import Engine

from gateway.building import Building, DeviceBinding
from gateway.store.tables import DeviceBindingOverride
from gateway.store.writer import upsert_rows

_T: Table = DeviceBindingOverride.__table__  # type: ignore[attr-defined]


def load_bindings(db: Engine, site: str) -> dict[str, DeviceBinding]:
    """The API-made bindings of ``site``."""
    with db.connect() as conn:
        rows = conn.execute(select(_T).where(_T.c.site == site)).all()
    return {r.id: DeviceBinding(r.id, r.profile, r.space) for r in rows}


def save_binding(db: Engine, site: str, binding: DeviceBinding) -> None:
    """Keep one API-made binding (replacing an earlier one for the same device)."""
    row = {
        "site": site,
        "id": binding.id,
        "profile": binding.profile,
        "space": binding.space,
        "bound_at": time.time(),
    }
    with db.begin() as conn:
        upsert_rows(conn, _T, ("site", "id"), [row])


def with_bindings(building: Building, extra: dict[str, DeviceBinding]) -> Building:
    """``building`` plus the bindings the file does not already make (the file wins)."""
    added = {k: v for k, v in extra.items() if k not in building.devices}
    if not added:
        return building
    return Building(
        site=building.site,
        floors=building.floors,
        spaces=building.spaces,
        devices={**building.devices, **added},
        source=building.source,
        plans=building.plans,
        members=building.members,
        bridges=building.bridges,
    )
