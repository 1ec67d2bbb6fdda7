"""What raises and clears an alert: the conditions on one event, and what an alert says.

Pure functions of an event, the alert settings and the building's spaces (whose type picks
the comfort limits); :mod:`gateway.facility.alerts` raises, clears and stores.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from gateway.building import Space
from gateway.events import Event
from gateway.settings import AlertSettings, EnvLimits

WATCHED = frozenset(
    {
        "jam",
        "paper_pct",
        "toner_pct",
        "printer_state",
        "online",
        "co2_ppm",
        "temperature_c",
        "humidity_pct",
    }
)
TITLES = {
    "printer_jam": "paper jam",
    "out_of_paper": "out of paper",
    "toner_low": "toner low",
    "printer_offline": "printer offline",
    "device_offline": "device offline",
    "bridge_offline": "bridge offline",
    "co2_high": "CO2 above limit",
    "temperature_out_of_range": "temperature outside comfort",
    "humidity_out_of_range": "humidity outside comfort",
    "door_rate_limited": "door requests rate-limited (card guessing?)",
    "disk_low": "store disk almost full",
}
ENV_KINDS = frozenset({"co2_high", "temperature_out_of_range", "humidity_out_of_range"})

Spaces = Mapping[str, Space]


def condition(
    ev: Event, s: AlertSettings, spaces: Spaces
) -> tuple[str, bool | None, float | None] | None:
    """(kind, raised / cleared / None: inside the clearing margin, value), or None when
    the event bears on no alert. Runs for every watched event of every batch: it only
    compares, :func:`message` words the alert once it is raised."""
    q, v = ev.quantity, ev.value
    if q == "jam":
        return "printer_jam", bool(v), None
    if q == "printer_state":
        return "printer_offline", v == "offline", None
    if q == "online":
        return "device_offline", not v, None
    if isinstance(v, bool) or not isinstance(v, int | float):
        return None
    x = float(v)
    if q == "paper_pct":
        return "out_of_paper", x <= s.paper_low_pct, x
    if q == "toner_pct":
        return "toner_low", x <= s.toner_low_pct, x
    lim = limits(s, spaces, ev.space)
    if q == "co2_ppm":
        return "co2_high", band(x, -math.inf, lim.co2_max_ppm, 50.0), x
    if q == "temperature_c":
        return (
            "temperature_out_of_range",
            band(x, lim.temperature_min_c, lim.temperature_max_c, 0.5),
            x,
        )
    if q == "humidity_pct":
        return (
            "humidity_out_of_range",
            band(x, lim.humidity_min_pct, lim.humidity_max_pct, 2.0),
            x,
        )
    return None


def message(kind: str, ev: Event, x: float | None, s: AlertSettings, spaces: Spaces) -> str:
    """What a raised alert says."""
    dev = ev.device
    if kind == "printer_jam":
        return f"{dev}: paper jam"
    if kind == "printer_offline":
        return f"{dev} is offline"
    if kind == "device_offline":
        return f"{dev} reports offline"
    if kind == "out_of_paper":
        return f"{dev}: paper at {x:g} %"
    if kind == "toner_low":
        return f"{dev}: toner at {x:g} %"
    lim = limits(s, spaces, ev.space)
    where = ev.space or dev
    if kind == "co2_high":
        return f"{where}: CO2 {x:g} ppm above {lim.co2_max_ppm:g}"
    if kind == "temperature_out_of_range":
        lo, hi = lim.temperature_min_c, lim.temperature_max_c
        return f"{where}: {x:g} °C outside {lo:g}-{hi:g}"
    lo, hi = lim.humidity_min_pct, lim.humidity_max_pct
    return f"{where}: humidity {x:g} % outside {lo:g}-{hi:g}"


def limits(s: AlertSettings, spaces: Spaces, space_id: str | None) -> EnvLimits:
    """The comfort limits of the space's type, else the site's."""
    sp = spaces.get(space_id) if space_id else None
    if sp is not None and sp.type in s.env_by_type:
        return s.env_by_type[sp.type]
    return s.env


def bridge_held(readings: Mapping[str, Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The stored ``online`` reading of a device its bridge holds offline, else None
    (``gateway.ingest.bridges.forced_reading``; a release to silence keeps ``unknown``)."""
    kept = readings.get("online")
    if kept and "bridge" in kept and not kept.get("unknown"):
        return kept
    return None


def band(x: float, lo: float, hi: float, margin: float) -> bool | None:
    """Outside [lo, hi]: True; back inside by ``margin``: False; in between: None (no change),
    so a reading hovering at a limit does not raise and clear an alert every minute."""
    if x < lo or x > hi:
        return True
    if lo + margin <= x <= hi - margin:
        return False
    return None
