"""Profile variables: ``${name}`` in a profile's strings, with a default the site may override."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from gateway.profiles.validate import Ctx

_REF = re.compile(r"\$\{([^}]*)\}")
_NAME = re.compile(r"[a-z][a-z0-9_]*\Z")
_VALUE = re.compile(r"[^/+#${}\s][^+#${}\s]*\Z")  # topic levels: no wildcards, no empty level


def apply_variables(
    ctx: Ctx, doc: dict[str, Any], overrides: Mapping[str, str] | None
) -> dict[str, Any]:
    """``doc`` with every ``${name}`` replaced by the ``variables:`` default or the override.

    ``variables: {base_topic: zigbee2mqtt}`` lets a site whose bridge publishes under another
    base topic say so in its settings (``profile_variables``) without editing the profile.
    """
    raw = doc.pop("variables", None)
    values: dict[str, str] = {}
    if raw is not None:
        for name, default in ctx.mapping(raw, "variables").items():
            if not _NAME.match(name):
                ctx.fail(f"variables.{name}", f"a variable name must match {_NAME.pattern}")
            values[name] = _value(ctx, default, f"variables.{name}")
    for name, value in (overrides or {}).items():
        if name not in values:
            known = ", ".join(sorted(values)) or "none"
            ctx.fail("variables", f"the settings set {name!r}, which the profile lacks ({known})")
        values[name] = _value(ctx, value, f"variables.{name} (from the settings)")
    if not values and raw is None:
        _check_unused(ctx, doc)
        return doc
    return {key: _substitute(ctx, value, values) for key, value in doc.items()}


def _value(ctx: Ctx, raw: Any, where: str) -> str:
    if not isinstance(raw, str) or not _VALUE.match(raw) or "//" in raw or raw.endswith("/"):
        ctx.fail(where, f"expected topic levels without wildcards, got {raw!r}")
    return raw


def _substitute(ctx: Ctx, value: Any, values: dict[str, str]) -> Any:
    if isinstance(value, str):
        if "${" not in value:
            return value

        def one(m: re.Match[str]) -> str:
            found = values.get(m.group(1))
            if found is None:
                ctx.fail("variables", f"{m.group(0)} is used but not declared")
            return found

        return _REF.sub(one, value)
    if isinstance(value, list):
        return [_substitute(ctx, v, values) for v in value]
    if isinstance(value, dict):
        return {k: _substitute(ctx, v, values) for k, v in value.items()}
    return value


def _check_unused(ctx: Ctx, doc: Any) -> None:
    """A ``${...}`` in a profile without ``variables:`` is a mistake, not a literal topic."""
    if isinstance(doc, str):
        m = _REF.search(doc)
        if m:
            ctx.fail("variables", f"{m.group(0)} is used but not declared")
    elif isinstance(doc, list):
        for v in doc:
            _check_unused(ctx, v)
    elif isinstance(doc, dict):
        for v in doc.values():
            _check_unused(ctx, v)
