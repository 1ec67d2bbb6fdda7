"""Canonical units: conversions into them and the physical range of each quantity."""

from __future__ import annotations

#: Linear conversions into the canonical unit: quantity -> {unit: (scale, offset)}, so that
#: canonical = value * scale + offset.
CONVERSIONS: dict[str, dict[str, tuple[float, float]]] = {
    "temperature_c": {"°F": (5.0 / 9.0, -160.0 / 9.0), "K": (1.0, -273.15)},
    "humidity_pct": {"fraction": (100.0, 0.0)},
    "battery_pct": {"fraction": (100.0, 0.0)},
    "paper_pct": {"fraction": (100.0, 0.0)},
    "toner_pct": {"fraction": (100.0, 0.0)},
    "pm25_ugm3": {"mg/m³": (1000.0, 0.0)},
    "pm10_ugm3": {"mg/m³": (1000.0, 0.0)},
    "tvoc_ppb": {"ppm": (1000.0, 0.0)},
    "co2_ppm": {"%": (10000.0, 0.0)},
    "hcho_mgm3": {"µg/m³": (0.001, 0.0)},
    "voc_ugm3": {"mg/m³": (1000.0, 0.0)},
    "pressure_hpa": {
        "Pa": (0.01, 0.0),
        "kPa": (10.0, 0.0),
        "mbar": (1.0, 0.0),
        "mmHg": (1.333224, 0.0),
        "inHg": (33.863886, 0.0),
    },
}

#: The physical range of each numeric quantity in its canonical unit. A value outside it is a
#: broken sensor or a wrong profile, not a measurement; a field's own min/max replace these.
BOUNDS: dict[str, tuple[float, float]] = {
    "temperature_c": (-50.0, 100.0),
    "humidity_pct": (0.0, 100.0),
    "co2_ppm": (0.0, 10000.0),
    "pm25_ugm3": (0.0, 1000.0),
    "pm10_ugm3": (0.0, 2000.0),
    "tvoc_ppb": (0.0, 60000.0),
    "voc_index": (0.0, 500.0),
    "voc_ugm3": (0.0, 100000.0),
    # from the top of Everest (about 310 hPa) to the highest sea-level pressure recorded
    "pressure_hpa": (300.0, 1100.0),
    "hcho_mgm3": (0.0, 10.0),
    "noise_dba": (0.0, 140.0),
    "illuminance_lux": (0.0, 200000.0),
    "battery_pct": (0.0, 100.0),
    "paper_pct": (0.0, 100.0),
    "toner_pct": (0.0, 100.0),
    "people_count": (0.0, 10000.0),
}


def conversion(quantity: str, unit: str) -> tuple[float, float] | None:
    """(scale, offset) turning ``unit`` into the canonical unit of ``quantity``, or None."""
    return CONVERSIONS.get(quantity, {}).get(unit)


def units_of(quantity: str) -> list[str]:
    """The units ``quantity`` can be converted from."""
    return sorted(CONVERSIONS.get(quantity, {}))
