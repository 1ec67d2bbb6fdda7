"""Validation helpers for profile files: each problem names the file, the field path, the issue."""

from __future__ import annotations

import re
from typing import Any, NoReturn, cast

from gateway.credential import is_credential_key
from gateway.errors import ProfileError
from gateway.profiles.convert import MapKey, map_key

AttrSpec = tuple[str, str, tuple[str, ...] | None]


class Ctx:
    """Where we are in the file, for error messages: file, field path, problem."""

    def __init__(self, file: str) -> None:
        self.file = file

    def fail(self, where: str, problem: str) -> NoReturn:
        raise ProfileError(
            f"{self.file}: {where}: {problem}" if where else f"{self.file}: {problem}"
        )

    def mapping(
        self, value: Any, where: str, allowed: frozenset[str] | set[str] | None = None
    ) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.fail(where, f"expected a mapping, got {type_name(value)}")
        for key in value:
            if not isinstance(key, str):
                self.fail(where, f"keys must be strings, got {key!r}")
            if allowed is not None and key not in allowed:
                self.fail(join(where, key), f"unknown key (allowed: {', '.join(sorted(allowed))})")
        return cast(dict[str, Any], value)

    def string(self, value: Any, where: str) -> str:
        if not isinstance(value, str) or not value.strip():
            self.fail(where, f"expected a non-empty string, got {type_name(value)}")
        return value

    def number(self, value: Any, where: str) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(where, f"expected a number, got {type_name(value)}")
        return float(value)

    def boolean(self, value: Any, where: str) -> bool:
        if not isinstance(value, bool):
            self.fail(where, f"expected true or false, got {type_name(value)}")
        return value

    def choice(self, value: Any, where: str, options: tuple[str, ...]) -> str:
        if value not in options:
            self.fail(where, f"expected one of {', '.join(options)}, got {value!r}")
        return cast(str, value)

    def list_of(self, value: Any, where: str) -> list[Any]:
        if not isinstance(value, list):
            self.fail(where, f"expected a list, got {type_name(value)}")
        return value


def type_name(value: Any) -> str:
    if value is None:
        return "nothing"
    return f"{type(value).__name__} {value!r}"[:80]


def join(where: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{where}[{key}]"
    return f"{where}.{key}" if where else key


def key_path(key: str) -> tuple[str, ...] | None:
    """The parts of a dotted key; ``a[0].b`` indexes a list: ("a", "0", "b")."""
    if "[" in key:
        key = re.sub(r"\[(\d+)\]", r".\1", key)
    return tuple(key.split(".")) if "." in key else None


def scalar_key(ctx: Ctx, value: Any, where: str) -> MapKey:
    key = map_key(value)
    if key is None or value is None:
        ctx.fail(where, f"expected a scalar (string, number, true/false), got {type_name(value)}")
    return key


def parse_attrs(ctx: Ctx, raw: Any, where: str) -> tuple[AttrSpec, ...]:
    if isinstance(raw, dict):
        pairs = [
            (name, ctx.string(key, join(where, name)))
            for name, key in ctx.mapping(raw, where).items()
        ]
    else:
        pairs = []
        for i, key in enumerate(ctx.list_of(raw, where)):
            key = ctx.string(key, join(where, i))
            pairs.append((key.rsplit(".", 1)[-1], key))
    for name, _ in pairs:
        if name != "credential" and is_credential_key(name):  # only that name is hashed
            ctx.fail(join(where, name), "a credential attribute is named 'credential'")
    return tuple((name, key, key_path(key)) for name, key in pairs)
