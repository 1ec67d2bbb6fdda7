"""Profile loader: validates one YAML file and compiles it into a Profile.

It reads ``schema_version: 2`` and still reads version-1 files: a version-1 file is migrated
in memory (its meaning is unchanged; keys that only version 2 knows are refused in it).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast

from gateway.profiles.model import PayloadFormat
from gateway.profiles.profile import Profile
from gateway.profiles.rules import V2_RULE_KEYS, RuleReader, parse_timestamp, parse_topic
from gateway.profiles.samples import load_samples
from gateway.profiles.sections import parse_availability, parse_commands
from gateway.profiles.validate import Ctx, join
from gateway.profiles.variables import apply_variables
from gateway.profiles.yamlfile import read_yaml

SCHEMA_VERSION = 2
SUPPORTED_VERSIONS = (1, 2)
NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\Z")
_V1_TOP = {"schema_version", "description", "source", "format", "timestamp", "ignore", "rules"}
_TOP_KEYS = frozenset(_V1_TOP | {"samples", "availability", "commands", "variables"})


def load_profile(path: Path, variables: Mapping[str, str] | None = None) -> Profile:
    """Load and validate one profile file; raises ProfileError naming file, field and problem.

    ``variables`` overrides the defaults of the profile's ``variables:`` (``base_topic``)."""
    ctx = Ctx(str(path))
    name = path.stem
    if not NAME_RE.match(name):
        ctx.fail("", f"profile name {name!r} (the file stem) must match {NAME_RE.pattern}")
    doc = ctx.mapping(read_yaml(path), "", _TOP_KEYS)
    version = _version(ctx, doc)
    doc = apply_variables(ctx, doc, variables)
    for key in ("description", "source", "rules"):
        if key not in doc:
            ctx.fail(key, "is missing")
    fmt = cast(PayloadFormat, ctx.choice(doc.get("format", "json"), "format", ("json", "text")))
    reader = RuleReader(
        ctx, path, name, version, fmt, parse_timestamp(ctx, doc.get("timestamp"), "timestamp")
    )
    rules_raw = ctx.list_of(doc["rules"], "rules")
    if not rules_raw:
        ctx.fail("rules", "needs at least one rule")
    rules = tuple(reader.rule(i, raw) for i, raw in enumerate(rules_raw))
    ignore = tuple(
        parse_topic(ctx, t, join("ignore", i))
        for i, t in enumerate(ctx.list_of(doc.get("ignore", []), "ignore"))
    )
    return Profile(
        name=name,
        path=str(path),
        description=ctx.string(doc["description"], "description"),
        source=ctx.string(doc["source"], "source"),
        rules=rules,
        ignore=ignore,
        samples=load_samples(ctx, doc.get("samples", [])),
        schema_version=version,
        availability=parse_availability(ctx, doc["availability"])
        if "availability" in doc
        else None,
        commands=parse_commands(ctx, doc["commands"]) if "commands" in doc else {},
    )


def _version(ctx: Ctx, doc: dict[str, Any]) -> int:
    if "schema_version" not in doc:
        ctx.fail("schema_version", f"is missing (this loader reads {SUPPORTED_VERSIONS})")
    version = doc["schema_version"]
    if isinstance(version, bool) or version not in SUPPORTED_VERSIONS:
        ctx.fail("schema_version", f"unsupported version {version!r} (expected 1 or 2)")
    if version == 1:  # migrate: a version-1 file means the same, without version-2 keys
        for key in sorted(set(doc) - _V1_TOP - {"samples"}):
            ctx.fail(key, "needs schema_version: 2")
        for i, rule in enumerate(doc.get("rules") or []):
            for key in sorted(set(rule) & V2_RULE_KEYS if isinstance(rule, dict) else ()):
                ctx.fail(join(join("rules", i), key), "needs schema_version: 2")
    return cast(int, version)
