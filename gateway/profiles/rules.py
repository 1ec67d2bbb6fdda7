"""Compile one rule of a profile file: its topic, predicates, fields, timestamp and device."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any, cast

from gateway.profiles.convert import FieldSpec, TimestampSpec, TsFormat
from gateway.profiles.fieldmap import parse_field
from gateway.profiles.model import PayloadFormat, Rule
from gateway.profiles.patterns import NameMap, is_pattern
from gateway.profiles.predicates import Predicate
from gateway.profiles.sections import fragment_fields
from gateway.profiles.topics import TopicPattern, compile_topic
from gateway.profiles.validate import Ctx, join, key_path, parse_attrs, scalar_key

_V1_RULE = {"topic", "format", "when", "device_key", "timestamp", "fields", "value", "attrs"}
V2_RULE_KEYS = {"extend", "model", "select", "ignore"}  # a version-1 file may not use them
_RULE_KEYS = frozenset(_V1_RULE | V2_RULE_KEYS | {"on_empty", "description", "device"})


def parse_topic(ctx: Ctx, raw: Any, where: str) -> TopicPattern:
    try:
        return compile_topic(ctx.string(raw, where))
    except ValueError as err:
        ctx.fail(where, str(err))


def parse_timestamp(ctx: Ctx, raw: Any, where: str) -> TimestampSpec | None:
    if raw is None:
        return None
    if isinstance(raw, str):
        raw = {"key": raw}
    spec = ctx.mapping(raw, where, {"key", "format"})
    key = ctx.string(spec.get("key"), join(where, "key"))
    fmt = ctx.choice(
        spec.get("format", "auto"),
        join(where, "format"),
        ("auto", "iso8601", "epoch_s", "epoch_ms"),
    )
    return TimestampSpec(key=key, path=key_path(key), format=cast(TsFormat, fmt))


class RuleReader:
    """Compiles the rules of one file."""

    def __init__(
        self,
        ctx: Ctx,
        path: Path,
        profile: str,
        version: int,
        fmt: PayloadFormat,
        default_ts: TimestampSpec | None,
    ) -> None:
        self.ctx, self.path, self.profile, self.version = ctx, path, profile, version
        self.fmt, self.default_ts = fmt, default_ts

    def fields(self, ctx: Ctx, key: str, raw: Any, where: str) -> list[FieldSpec]:
        """One payload key's specs: one mapping, or (v2) a list giving several readings."""
        if isinstance(raw, list) and self.version >= 2:
            if not raw:
                ctx.fail(where, "needs at least one reading")
            return [self.field(ctx, key, r, join(where, i)) for i, r in enumerate(raw)]
        return [self.field(ctx, key, raw, where)]

    def field(self, ctx: Ctx, key: str, raw: Any, where: str) -> FieldSpec:
        parse_ts = (lambda r, w: parse_timestamp(ctx, r, w)) if self.version >= 2 else None
        return parse_field(ctx, key, raw, where, parse_ts)

    def rule(self, index: int, raw: Any) -> Rule:
        ctx, where = self.ctx, join("rules", index)
        spec = ctx.mapping(raw, where, _RULE_KEYS)
        if "topic" not in spec:
            ctx.fail(join(where, "topic"), "is missing")
        topic = parse_topic(ctx, spec["topic"], join(where, "topic"))
        fmt = cast(
            PayloadFormat,
            ctx.choice(spec.get("format", self.fmt), join(where, "format"), ("json", "text")),
        )
        device_key = None
        if "device_key" in spec:
            key = ctx.string(spec["device_key"], join(where, "device_key"))
            device_key = (key, key_path(key))
        drop = ctx.boolean(spec.get("ignore", False), join(where, "ignore"))
        device_id = _device_id(ctx, spec, where, topic, device_key)
        if "device" not in topic.captures and device_key is None and not drop and not device_id:
            ctx.fail(
                join(where, "topic"), "needs a {device} capture (or give device_key or device)"
            )
        if "device" in topic.captures and device_key is not None:
            ctx.fail(join(where, "device_key"), "the topic already captures {device}")
        if "description" in spec:
            ctx.string(spec["description"], join(where, "description"))
        on_empty = ctx.choice(
            spec.get("on_empty", "error"), join(where, "on_empty"), ("error", "ignore", "seen")
        )
        when = tuple(
            _predicate(ctx, p, join(join(where, "when"), i), topic)
            for i, p in enumerate(ctx.list_of(spec.get("when", []), join(where, "when")))
        )
        base = {
            "when": when,
            "ignore_empty": on_empty == "ignore",
            "seen_empty": on_empty == "seen",  # a message that only says the device is alive
            "device_id": device_id,
        }
        if drop:
            for key in ("fields", "value", "select", "extend", "device"):
                if key in spec:
                    ctx.fail(join(where, key), "an ignore rule reads nothing")
            return Rule(self.profile, index, topic, fmt, (), drop=True, **base)  # type: ignore[arg-type]
        if fmt == "text":
            return self._text_rule(spec, where, index, topic, base)
        return self._json_rule(spec, where, index, topic, device_key, base)

    def _text_rule(
        self,
        spec: dict[str, Any],
        where: str,
        index: int,
        topic: TopicPattern,
        base: dict[str, Any],
    ) -> Rule:
        ctx = self.ctx
        for key in ("timestamp", "attrs", "device_key", "extend", "model"):
            if key in spec:
                ctx.fail(join(where, key), "does not apply to a text rule (it has one value)")
        if any(not p.capture for p in base["when"]):
            ctx.fail(join(where, "when"), "a text rule can only test topic levels (capture:)")
        if "select" in spec:
            select = ctx.string(spec["select"], join(where, "select"))
            if select not in topic.captures:
                ctx.fail(join(where, "select"), f"the topic has no {{{select}}} capture")
            if "value" in spec or "fields" not in spec:
                ctx.fail(join(where, "fields"), "a select rule maps each topic level value")
            fmap = ctx.mapping(spec["fields"], join(where, "fields"))
            if not fmap:
                ctx.fail(join(where, "fields"), "needs at least one field")
            # a name (or a `*`/`?` pattern) -> its field; `ignore` reads nothing on purpose
            at = join(where, "fields")
            named = [
                (k, None if v == "ignore" else self.field(ctx, k, v, join(at, k)))
                for k, v in fmap.items()
            ]
            real = [(k, f) for k, f in named if f is not None]
            if not real:
                ctx.fail(join(where, "fields"), "needs at least one field that is not ignore")
            return Rule(
                self.profile,
                index,
                topic,
                "text",
                tuple(f for _, f in real),
                select=select,
                by_capture={k: f for k, f in real if not is_pattern(k)},
                names=NameMap(named),
                **base,
            )
        if "fields" in spec:
            ctx.fail(
                join(where, "fields"),
                "does not apply to a text rule (it has one 'value', or select + fields)",
            )
        if "value" not in spec:
            ctx.fail(join(where, "value"), "is missing (a text rule maps its one value)")
        field = self.field(ctx, "value", spec["value"], join(where, "value"))
        return Rule(self.profile, index, topic, "text", (field,), **base)

    def _json_rule(
        self,
        spec: dict[str, Any],
        where: str,
        index: int,
        topic: TopicPattern,
        device_key: tuple[str, tuple[str, ...] | None] | None,
        base: dict[str, Any],
    ) -> Rule:
        ctx = self.ctx
        for key in ("value", "select"):
            if key in spec:
                ctx.fail(join(where, key), "only a text rule has it; use fields")
        seen = base["seen_empty"]  # a join or a keep-alive may read nothing at all
        if "fields" not in spec and "extend" not in spec and not seen:
            ctx.fail(join(where, "fields"), "is missing")
        fields, each = self._json_fields(spec, where)
        if not fields and not seen:
            ctx.fail(join(where, "fields"), "needs at least one field (or extend)")
        quantities = [f.quantity for f in fields]
        ts = (
            parse_timestamp(ctx, spec["timestamp"], join(where, "timestamp"))
            if "timestamp" in spec
            else self.default_ts
        )
        model_key = None
        if "model" in spec:
            key = ctx.string(spec["model"], join(where, "model"))
            model_key = (key, key_path(key))
        return Rule(
            self.profile,
            index,
            topic,
            "json",
            tuple(fields),
            globs=frozenset(f.key for f in fields if is_pattern(f.key)),
            each=frozenset(each),
            timestamp=ts,
            attrs=parse_attrs(ctx, spec.get("attrs", []), join(where, "attrs")),
            device_key=device_key,
            dedupe=len(set(quantities)) != len(quantities),
            model_key=model_key,
            per_field=any(f.ts is not None or f.unit_from is not None for f in fields),
            **base,
        )

    def _json_fields(self, spec: dict[str, Any], where: str) -> tuple[list[FieldSpec], set[str]]:
        """A JSON rule's own fields, then its fragments' (``extend``); and its ``each`` keys."""
        ctx = self.ctx
        fields: list[FieldSpec] = []
        fmap = ctx.mapping(spec.get("fields", {}), join(where, "fields"))
        each: set[str] = set()
        for k, v in fmap.items():
            at = join(join(where, "fields"), k)
            if isinstance(v, dict) and "each" in v:  # a reading per sensor the key matches
                if ctx.boolean(v["each"], join(at, "each")):
                    each.add(k)
                v = {key: val for key, val in v.items() if key != "each"}
            fields += self.fields(ctx, k, v, at)
        own = {f.key for f in fields}
        for i, item in enumerate(ctx.list_of(spec.get("extend", []), join(where, "extend"))):
            at = join(join(where, "extend"), i)
            if isinstance(item, str):
                item = {"fragment": item}
            ref = ctx.mapping(item, at, {"fragment", "under"})
            name = ctx.string(ref.get("fragment"), join(at, "fragment"))
            extra = fragment_fields(self.path, name, at, ctx, self.fields)
            if "under" in ref:  # the fragment's keys sit inside a nested object
                under = ctx.string(ref["under"], join(at, "under"))
                extra = [_nested(f, under) for f in extra]
            fields += [f for f in extra if f.key not in own]  # the rule's own fields win
        return fields, each


def _device_id(
    ctx: Ctx,
    spec: dict[str, Any],
    where: str,
    topic: TopicPattern,
    device_key: tuple[str, tuple[str, ...] | None] | None,
) -> str | None:
    """``device: octoPrint``: the one device a topic that names none stands for."""
    if "device" not in spec:
        return None
    device = ctx.string(spec["device"], join(where, "device"))
    if "device" in topic.captures or device_key is not None:
        ctx.fail(join(where, "device"), "the topic (or device_key) already names the device")
    return device


def _nested(spec: FieldSpec, under: str) -> FieldSpec:
    key = f"{under}.{spec.key}"
    return replace(spec, key=key, label=key, path=key_path(key))


def _predicate(ctx: Ctx, raw: Any, where: str, topic: TopicPattern) -> Predicate:
    spec = ctx.mapping(raw, where, {"key", "capture", "exists", "equals", "in", "like"})
    if ("key" in spec) == ("capture" in spec):
        ctx.fail(where, "give one of key (a payload key) or capture (a topic level)")
    capture = "capture" in spec
    key = ctx.string(spec.get("capture" if capture else "key"), join(where, "key"))
    if capture and key not in topic.captures:
        ctx.fail(join(where, "capture"), f"the topic has no {{{key}}} capture")
    path = None if capture else key_path(key)
    tests = [k for k in ("exists", "equals", "in", "like") if k in spec]
    if len(tests) > 1:
        ctx.fail(where, f"give one of exists, equals, in, like (got {', '.join(tests)})")
    if "like" in spec:  # a text matching a `*`/`?` pattern: `like: "temperature:*"`
        like = ctx.string(spec["like"], join(where, "like"))
        return Predicate(key, path, capture=capture, like=like)
    if "exists" in spec:
        exists = ctx.boolean(spec["exists"], join(where, "exists"))
        return Predicate(key, path, exists=exists, capture=capture)
    if "equals" in spec or "in" in spec:
        values = (
            [spec["equals"]] if "equals" in spec else ctx.list_of(spec["in"], join(where, "in"))
        )
        keys = {scalar_key(ctx, v, join(where, tests[0])) for v in values}
        return Predicate(key, path, exists=None, one_of=frozenset(keys), capture=capture)
    return Predicate(key, path, exists=True, capture=capture)
