"""Profile loader: validates one YAML file (schema_version 1) and compiles it into a Profile."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, cast

from gateway.profiles.convert import FieldSpec, TimestampSpec, TsFormat
from gateway.profiles.fieldmap import parse_field
from gateway.profiles.model import PayloadFormat, Predicate, Profile, Rule
from gateway.profiles.samples import load_samples
from gateway.profiles.topics import TopicPattern, compile_topic
from gateway.profiles.validate import Ctx, join, key_path, parse_attrs, scalar_key
from gateway.profiles.yamlfile import read_yaml

SCHEMA_VERSION = 1
NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\Z")
_TOP_KEYS = frozenset(
    ["schema_version", "description", "source", "format", "timestamp", "ignore", "rules", "samples"]
)
_RULE_KEYS = frozenset(
    [
        "topic",
        "format",
        "when",
        "device_key",
        "timestamp",
        "fields",
        "value",
        "attrs",
        "on_empty",
        "description",
    ]
)


def load_profile(path: Path) -> Profile:
    """Load and validate one profile file; raises ProfileError naming file, field and problem."""
    ctx = Ctx(str(path))
    name = path.stem
    if not NAME_RE.match(name):
        ctx.fail("", f"profile name {name!r} (the file stem) must match {NAME_RE.pattern}")
    doc = ctx.mapping(read_yaml(path), "", _TOP_KEYS)
    if "schema_version" not in doc:
        ctx.fail("schema_version", "is missing (this loader reads schema_version: 1)")
    if doc["schema_version"] != SCHEMA_VERSION or isinstance(doc["schema_version"], bool):
        ctx.fail("schema_version", f"unsupported version {doc['schema_version']!r} (expected 1)")
    for key in ("description", "source", "rules"):
        if key not in doc:
            ctx.fail(key, "is missing")
    fmt = cast(PayloadFormat, ctx.choice(doc.get("format", "json"), "format", ("json", "text")))
    default_ts = _timestamp(ctx, doc.get("timestamp"), "timestamp")
    rules_raw = ctx.list_of(doc["rules"], "rules")
    if not rules_raw:
        ctx.fail("rules", "needs at least one rule")
    rules = tuple(_rule(ctx, name, i, raw, fmt, default_ts) for i, raw in enumerate(rules_raw))
    ignore = tuple(
        _topic(ctx, t, join("ignore", i))
        for i, t in enumerate(ctx.list_of(doc.get("ignore", []), "ignore"))
    )
    samples = load_samples(ctx, doc.get("samples", []))
    return Profile(
        name=name,
        path=str(path),
        description=ctx.string(doc["description"], "description"),
        source=ctx.string(doc["source"], "source"),
        rules=rules,
        ignore=ignore,
        samples=samples,
    )


def _topic(ctx: Ctx, raw: Any, where: str) -> TopicPattern:
    try:
        return compile_topic(ctx.string(raw, where))
    except ValueError as err:
        ctx.fail(where, str(err))


def _timestamp(ctx: Ctx, raw: Any, where: str) -> TimestampSpec | None:
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


def _rule(
    ctx: Ctx,
    profile: str,
    index: int,
    raw: Any,
    default_fmt: PayloadFormat,
    default_ts: TimestampSpec | None,
) -> Rule:
    where = join("rules", index)
    spec = ctx.mapping(raw, where, _RULE_KEYS)
    if "topic" not in spec:
        ctx.fail(join(where, "topic"), "is missing")
    topic = _topic(ctx, spec["topic"], join(where, "topic"))
    fmt = cast(
        PayloadFormat,
        ctx.choice(spec.get("format", default_fmt), join(where, "format"), ("json", "text")),
    )
    device_key = None
    if "device_key" in spec:
        key = ctx.string(spec["device_key"], join(where, "device_key"))
        device_key = (key, key_path(key))
    if "device" not in topic.captures and device_key is None:
        ctx.fail(join(where, "topic"), "needs a {device} capture (or give device_key)")
    if "device" in topic.captures and device_key is not None:
        ctx.fail(join(where, "device_key"), "the topic already captures {device}")
    if "description" in spec:
        ctx.string(spec["description"], join(where, "description"))
    on_empty = ctx.choice(
        spec.get("on_empty", "error"), join(where, "on_empty"), ("error", "ignore")
    )
    if fmt == "text":
        for key in ("fields", "when", "timestamp", "attrs", "device_key"):
            if key in spec:
                ctx.fail(join(where, key), "does not apply to a text rule (it has one 'value')")
        if "value" not in spec:
            ctx.fail(join(where, "value"), "is missing (a text rule maps its one value)")
        fields: tuple[FieldSpec, ...] = (
            parse_field(ctx, "value", spec["value"], join(where, "value")),
        )
        return Rule(profile, index, topic, fmt, fields)
    if "value" in spec:
        ctx.fail(join(where, "value"), "only a text rule has 'value'; use fields")
    if "fields" not in spec:
        ctx.fail(join(where, "fields"), "is missing")
    fmap = ctx.mapping(spec["fields"], join(where, "fields"))
    if not fmap:
        ctx.fail(join(where, "fields"), "needs at least one field")
    fields = tuple(parse_field(ctx, k, v, join(join(where, "fields"), k)) for k, v in fmap.items())
    quantities = [f.quantity for f in fields]
    ts = (
        _timestamp(ctx, spec["timestamp"], join(where, "timestamp"))
        if "timestamp" in spec
        else default_ts
    )
    return Rule(
        profile,
        index,
        topic,
        fmt,
        fields,
        when=tuple(
            _predicate(ctx, p, join(join(where, "when"), i))
            for i, p in enumerate(ctx.list_of(spec.get("when", []), join(where, "when")))
        ),
        timestamp=ts,
        attrs=parse_attrs(ctx, spec.get("attrs", []), join(where, "attrs")),
        device_key=device_key,
        ignore_empty=on_empty == "ignore",
        dedupe=len(set(quantities)) != len(quantities),
    )


def _predicate(ctx: Ctx, raw: Any, where: str) -> Predicate:
    spec = ctx.mapping(raw, where, {"key", "exists", "equals", "in"})
    key = ctx.string(spec.get("key"), join(where, "key"))
    tests = [k for k in ("exists", "equals", "in") if k in spec]
    if len(tests) > 1:
        ctx.fail(where, f"give one of exists, equals, in (got {', '.join(tests)})")
    if "exists" in spec:
        return Predicate(
            key, key_path(key), exists=ctx.boolean(spec["exists"], join(where, "exists"))
        )
    if "equals" in spec or "in" in spec:
        values = (
            [spec["equals"]] if "equals" in spec else ctx.list_of(spec["in"], join(where, "in"))
        )
        keys = {scalar_key(ctx, v, join(where, tests[0])) for v in values}
        return Predicate(key, key_path(key), exists=None, one_of=frozenset(keys))
    return Predicate(key, key_path(key), exists=True)
