"""Profile sections beside the rules: availability, commands and shared field fragments."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from gateway.profiles.commands import CommandSpec
from gateway.profiles.convert import FieldSpec
from gateway.profiles.profile import Availability
from gateway.profiles.validate import Ctx, join
from gateway.profiles.yamlfile import read_yaml

FRAGMENTS_DIR = "_fragments"
_CLASSES = ("mains", "battery")
_COMMAND_KEYS = {"topic", "payload", "params", "defaults", "description", "qos", "retain"}

FieldParser = Callable[[Ctx, str, Any, str], list[FieldSpec]]


def parse_availability(ctx: Ctx, raw: Any) -> Availability:
    """``availability: {silence_timeout_s: N | {mains: N, battery: N}, power:, models:}``."""
    spec = ctx.mapping(raw, "availability", {"silence_timeout_s", "power", "models"})
    where = "availability.silence_timeout_s"
    if "silence_timeout_s" not in spec:
        ctx.fail(where, "is missing")
    timeouts_raw = spec["silence_timeout_s"]
    if isinstance(timeouts_raw, dict):
        table = ctx.mapping(timeouts_raw, where, set(_CLASSES))
        timeouts = {k: _positive(ctx, v, join(where, k)) for k, v in table.items()}
    else:
        timeouts = {"default": _positive(ctx, timeouts_raw, where)}
    default = spec.get("power", next(iter(timeouts)) if len(timeouts) == 1 else None)
    if default is None:
        ctx.fail("availability.power", "is missing (the class of a device of unknown model)")
    if default not in timeouts:
        ctx.fail("availability.power", f"{default!r} has no silence_timeout_s")
    models: dict[str, str] = {}
    for model, cls in ctx.mapping(spec.get("models", {}), "availability.models").items():
        if cls not in timeouts:
            ctx.fail(join("availability.models", model), f"{cls!r} has no silence_timeout_s")
        models[model] = cls
    return Availability(default=default, timeouts=timeouts, models=models)


def _positive(ctx: Ctx, raw: Any, where: str) -> float:
    value = ctx.number(raw, where)
    if value <= 0:
        ctx.fail(where, "must be above 0 seconds")
    return value


def parse_commands(ctx: Ctx, raw: Any) -> dict[str, CommandSpec]:
    """``commands: {name: {topic, payload, params, defaults}}``."""
    out: dict[str, CommandSpec] = {}
    for name, body in ctx.mapping(raw, "commands").items():
        where = join("commands", name)
        spec = ctx.mapping(body, where, _COMMAND_KEYS)
        for key in ("topic", "payload"):
            if key not in spec:
                ctx.fail(join(where, key), "is missing")
        topic = ctx.string(spec["topic"], join(where, "topic"))
        if any(c in topic for c in "+#"):
            ctx.fail(join(where, "topic"), "a command topic cannot hold a wildcard")
        params = tuple(
            ctx.string(p, join(join(where, "params"), i))
            for i, p in enumerate(ctx.list_of(spec.get("params", []), join(where, "params")))
        )
        defaults = ctx.mapping(spec.get("defaults", {}), join(where, "defaults"))
        qos = spec.get("qos", 1)
        if qos not in (0, 1, 2) or isinstance(qos, bool):
            ctx.fail(join(where, "qos"), f"expected 0, 1 or 2, got {qos!r}")
        cmd = CommandSpec(
            name=name,
            topic=topic,
            payload=spec["payload"],
            params=params,
            defaults=dict(defaults),
            description=str(spec.get("description", "")),
            qos=qos,
            retain=ctx.boolean(spec.get("retain", False), join(where, "retain")),
        )
        unknown = cmd.placeholders() - {*params, *defaults, "device"}
        if unknown:
            ctx.fail(
                where,
                f"template uses {', '.join('{' + u + '}' for u in sorted(unknown))} "
                "which is neither a param nor a default",
            )
        out[name] = cmd
    return out


def fragment_fields(
    profile_path: Path, name: str, where: str, ctx: Ctx, parse: FieldParser
) -> list[FieldSpec]:
    """The fields of ``_fragments/<name>.yaml`` beside the profile, parsed in that file."""
    path = profile_path.parent / FRAGMENTS_DIR / f"{name}.yaml"
    if not path.is_file():
        ctx.fail(where, f"no fragment {name!r} ({path} does not exist)")
    fctx = Ctx(str(path))
    doc = fctx.mapping(read_yaml(path), "", {"schema_version", "description", "fields"})
    if doc.get("schema_version") != 2:
        fctx.fail("schema_version", "a fragment needs schema_version: 2")
    fields = fctx.mapping(doc.get("fields"), "fields")
    out: list[FieldSpec] = []
    for key, spec in fields.items():
        out += parse(fctx, key, spec, join("fields", key))
    return out
