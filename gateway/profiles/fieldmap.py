"""Field maps: one payload key -> one canonical quantity, with type, unit, scale, map."""

from __future__ import annotations

from typing import Any, cast

from gateway.events import DOOR_EVENTS, PRINT_JOB_EVENTS, PRINTER_STATES, QUANTITIES, Value
from gateway.profiles.convert import FieldSpec, MapKey, SourceType
from gateway.profiles.model import CANONICAL_UNITS
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
    ]
)


def parse_field(ctx: Ctx, key: str, raw: Any, where: str) -> FieldSpec:
    if isinstance(raw, str):
        raw = {"quantity": raw}  # shorthand: `temperature: temperature_c`
    spec = ctx.mapping(raw, where, _FIELD_KEYS)
    if "quantity" not in spec:
        ctx.fail(join(where, "quantity"), "is missing")
    quantity = ctx.string(spec["quantity"], join(where, "quantity"))
    if quantity not in QUANTITIES:
        ctx.fail(
            join(where, "quantity"),
            f"unknown quantity {quantity!r} (known: {', '.join(sorted(QUANTITIES))})",
        )
    out_type = QUANTITIES[quantity]
    canonical = CANONICAL_UNITS.get(quantity)
    unit = canonical
    if "unit" in spec:
        unit = ctx.string(spec["unit"], join(where, "unit"))
        if unit != canonical:
            ctx.fail(
                join(where, "unit"),
                f"{quantity} is reported in {canonical!r}, not {unit!r}"
                "; convert with scale and offset",
            )
    allowed = ENUMS.get(quantity)
    mapping = None
    if "map" in spec:
        for key_ in ("type", "scale", "offset", "min", "max"):
            if key_ in spec:
                ctx.fail(join(where, key_), "does not apply together with map")
        mapping = _map(ctx, spec["map"], join(where, "map"), quantity, out_type, allowed)
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
    nums: dict[str, float | None] = {}
    for key_ in ("scale", "offset", "min", "max"):
        nums[key_] = ctx.number(spec[key_], join(where, key_)) if key_ in spec else None
        if nums[key_] is not None and not numeric:
            ctx.fail(join(where, key_), f"only numeric quantities take {key_}, not {quantity}")
    if nums["scale"] == 0:
        ctx.fail(join(where, "scale"), "must not be 0")
    required = ctx.boolean(spec.get("required", False), join(where, "required"))
    return FieldSpec(
        label=key,
        key=key,
        path=key_path(key),
        quantity=quantity,
        out_type=out_type,
        source=source,
        unit=unit,
        scale=nums["scale"],
        offset=nums["offset"],
        minimum=nums["min"],
        maximum=nums["max"],
        mapping=mapping,
        allowed=allowed,
        required=required,
        attrs=parse_attrs(ctx, spec.get("attrs", []), join(where, "attrs")),
    )


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
