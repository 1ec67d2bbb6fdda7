"""Field maps: one payload key -> one canonical quantity, with type, unit, scale, map."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from gateway.events import DOOR_EVENTS, PRINT_JOB_EVENTS, PRINTER_STATES, QUANTITIES, Value
from gateway.profiles.convert import FieldSpec, MapKey, SourceType, TimestampSpec
from gateway.profiles.model import CANONICAL_UNITS
from gateway.profiles.units import BOUNDS, conversion, units_of
from gateway.profiles.validate import Ctx, join, key_path, parse_attrs, scalar_key, type_name

ENUMS: dict[str, frozenset[str]] = {
    "door": DOOR_EVENTS,
    "printer_state": PRINTER_STATES,
    "print_job": PRINT_JOB_EVENTS,
}
_SOURCE_OF: dict[type, SourceType] = {
    bool: "boolean",
    int: "integer",
    float: "number",
    str: "string",
}
_FIELD_KEYS = frozenset(
    [
        "quantity",
        "type",
        "unit",
        "scale",
        "offset",
        "min",
        "max",
        "map",
        "required",
        "attrs",
        "description",
        "timestamp",
        "unmapped",
        "unit_from",
    ]
)


def parse_field(
    ctx: Ctx,
    key: str,
    raw: Any,
    where: str,
    parse_ts: Callable[[Any, str], TimestampSpec | None] | None = None,
) -> FieldSpec:
    """One field spec; ``parse_ts`` reads a per-field ``timestamp`` (v2)."""
    if isinstance(raw, str):
        raw = {"quantity": raw}  # shorthand: `temperature: temperature_c`
    spec = ctx.mapping(raw, where, _FIELD_KEYS)
    quantity = _quantity(ctx, spec, where)
    out_type = QUANTITIES[quantity]
    linear = _linear(ctx, spec, where, quantity)
    allowed = ENUMS.get(quantity)
    mapping = None
    if "map" in spec:
        for key_ in ("type", "scale", "offset", "min", "max"):
            if key_ in spec:
                ctx.fail(join(where, key_), "does not apply together with map")
        mapping = _map(ctx, spec["map"], join(where, "map"), quantity, out_type, allowed)
    source = _source(ctx, spec, where, quantity, out_type)
    numeric = out_type in (int, float)
    nums = _numbers(ctx, spec, where, quantity, numeric, linear)
    required = ctx.boolean(spec.get("required", False), join(where, "required"))
    unmapped = ctx.choice(
        spec.get("unmapped", "reject"), join(where, "unmapped"), ("reject", "skip")
    )
    if unmapped == "skip" and mapping is None:
        ctx.fail(join(where, "unmapped"), "only a field with a map can skip unmapped values")
    ts = None
    if "timestamp" in spec and parse_ts is not None:
        ts = parse_ts(spec["timestamp"], join(where, "timestamp"))
    elif "timestamp" in spec:
        ctx.fail(join(where, "timestamp"), "per-field timestamps need schema_version 2")
    unit_from = None
    if "unit_from" in spec:
        unit_from = _unit_from(ctx, spec["unit_from"], join(where, "unit_from"), quantity)
        if not numeric:
            ctx.fail(join(where, "unit_from"), f"{quantity} has no unit")
    return FieldSpec(
        label=key,
        key=key,
        path=key_path(key),
        quantity=quantity,
        out_type=out_type,
        source=source,
        unit=CANONICAL_UNITS.get(quantity),
        scale=nums["scale"],
        offset=nums["offset"],
        minimum=nums["min"],
        maximum=nums["max"],
        mapping=mapping,
        allowed=allowed,
        required=required,
        attrs=parse_attrs(ctx, spec.get("attrs", []), join(where, "attrs")),
        ts=ts,
        skip_unmapped=unmapped == "skip",
        unit_from=unit_from,
    )


def _quantity(ctx: Ctx, spec: dict[str, Any], where: str) -> str:
    if "quantity" not in spec:
        ctx.fail(join(where, "quantity"), "is missing")
    quantity = ctx.string(spec["quantity"], join(where, "quantity"))
    if quantity not in QUANTITIES:
        ctx.fail(
            join(where, "quantity"),
            f"unknown quantity {quantity!r} (known: {', '.join(sorted(QUANTITIES))})",
        )
    return quantity


def _linear(
    ctx: Ctx, spec: dict[str, Any], where: str, quantity: str
) -> tuple[float, float] | None:
    """(factor, offset) from the ``unit`` given to the canonical one; None: it is canonical."""
    if "unit" not in spec:
        return None
    canonical = CANONICAL_UNITS.get(quantity)
    given = ctx.string(spec["unit"], join(where, "unit"))
    if given == canonical:
        return None
    linear = conversion(quantity, given)
    if linear is None:
        ctx.fail(
            join(where, "unit"),
            f"{quantity} is reported in {canonical!r} and cannot be converted from "
            f"{given!r} (known: {', '.join(units_of(quantity)) or 'none'})"
            "; convert with scale and offset",
        )
    return linear


def _source(
    ctx: Ctx, spec: dict[str, Any], where: str, quantity: str, out_type: type
) -> SourceType:
    default_source = _SOURCE_OF[out_type]
    source = cast(
        SourceType,
        ctx.choice(
            spec.get("type", default_source),
            join(where, "type"),
            ("boolean", "integer", "number", "string"),
        ),
    )
    numeric = out_type in (int, float)
    if numeric != (source in ("integer", "number")) or (not numeric and source != default_source):
        ctx.fail(
            join(where, "type"),
            f"a {source} cannot become {quantity} "
            f"({out_type.__name__}); use map for other kinds of values",
        )
    return source


def _numbers(
    ctx: Ctx,
    spec: dict[str, Any],
    where: str,
    quantity: str,
    numeric: bool,
    linear: tuple[float, float] | None,
) -> dict[str, float | None]:
    """scale, offset, min and max, with the unit conversion and physical range folded in."""
    nums: dict[str, float | None] = {}
    for key_ in ("scale", "offset", "min", "max"):
        nums[key_] = ctx.number(spec[key_], join(where, key_)) if key_ in spec else None
        if nums[key_] is not None and not numeric:
            ctx.fail(join(where, key_), f"only numeric quantities take {key_}, not {quantity}")
    if nums["scale"] == 0:
        ctx.fail(join(where, "scale"), "must not be 0")
    if linear is not None:  # fold the unit conversion into scale and offset
        scale, offset = nums["scale"] or 1.0, nums["offset"] or 0.0
        nums["scale"], nums["offset"] = scale * linear[0], offset * linear[0] + linear[1]
    if numeric:  # a physical range applies unless the profile narrows or widens it
        low, high = BOUNDS.get(quantity, (None, None))
        nums["min"] = low if nums["min"] is None else nums["min"]
        nums["max"] = high if nums["max"] is None else nums["max"]
    return nums


def _unit_from(
    ctx: Ctx, raw: Any, where: str, quantity: str
) -> tuple[str, tuple[str, ...] | None, dict[str | None, tuple[float, float]]]:
    """``unit_from: {key: TempUnit, units: {C: "°C", F: "°F"}}``: the payload names the unit;
    ``default: C`` is the unit of a payload without the key (older Tasmota sent no unit)."""
    spec = ctx.mapping(raw, where, {"key", "units", "default"})
    key = ctx.string(spec.get("key"), join(where, "key"))
    units = ctx.mapping(spec.get("units"), join(where, "units"))
    if not units:
        ctx.fail(join(where, "units"), "needs at least one unit")
    table: dict[str | None, tuple[float, float]] = {}
    for word, unit in units.items():
        unit = ctx.string(unit, join(join(where, "units"), word))
        linear = (1.0, 0.0) if unit == CANONICAL_UNITS.get(quantity) else None
        linear = linear or conversion(quantity, unit)
        if linear is None:
            ctx.fail(join(join(where, "units"), word), f"cannot convert {unit!r} to {quantity}")
        table[word] = linear
    if "default" in spec:
        default = ctx.string(spec["default"], join(where, "default"))
        if default not in table:
            ctx.fail(join(where, "default"), f"is not one of the units ({', '.join(units)})")
        table[None] = table[default]
    return key, key_path(key), table


def _map(
    ctx: Ctx,
    raw: Any,
    where: str,
    quantity: str,
    out_type: type,
    allowed: frozenset[str] | None,
) -> dict[MapKey, Value]:
    if not isinstance(raw, dict) or not raw:
        ctx.fail(where, f"expected a non-empty mapping, got {type_name(raw)}")
    out: dict[MapKey, Value] = {}
    for key, value in raw.items():
        at = join(where, str(key))
        mk = scalar_key(ctx, key, at)
        ok = isinstance(value, out_type) and (out_type is bool or not isinstance(value, bool))
        if out_type is float and isinstance(value, int) and not isinstance(value, bool):
            value, ok = float(value), True
        if not ok:
            ctx.fail(at, f"{quantity} takes {out_type.__name__} values, got {type_name(value)}")
        if allowed is not None and value not in allowed:
            ctx.fail(at, f"{value!r} is not a {quantity} value ({', '.join(sorted(allowed))})")
        out[mk] = value
    return out
