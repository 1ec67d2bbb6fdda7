"""A rule's conditions on a message: a payload key exists (or not), equals, is in, is like."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gateway.profiles.convert import MapKey, get_path, map_key, show
from gateway.profiles.patterns import compile_pattern


@dataclass(frozen=True, slots=True)
class Predicate:
    """A rule applies only when its predicates hold: a key exists (or not), equals, or is in."""

    key: str
    path: tuple[str, ...] | None
    exists: bool | None = None
    one_of: frozenset[MapKey] | None = None  # ``equals`` is a one-element ``in``
    capture: bool = False  # tests a topic capture instead of a payload key
    like: str | None = None  # ``like: "temperature:*"``: a text matching the pattern

    def holds(self, obj: dict[str, Any] | None, captures: dict[str, str] | None = None) -> bool:
        if self.capture:
            value: Any = (captures or {}).get(self.key)
        else:
            value = get_path(obj, self.key, self.path) if obj is not None else None
        if self.exists is not None and (value is not None) != self.exists:
            return False
        if self.like is not None:
            return isinstance(value, str) and compile_pattern(self.like).match(value) is not None
        if self.one_of is not None:
            key = map_key(value)
            return key is not None and key in self.one_of
        return True

    def describe(self) -> str:
        what = "topic level" if self.capture else "key"
        if self.like is not None:
            return f"{what} {self.key!r} is like {self.like!r}"
        if self.one_of is not None:
            return f"{what} {self.key!r} has one of {sorted(show(k[1]) for k in self.one_of)}"
        return f"{what} {self.key!r} {'exists' if self.exists is not False else 'is absent'}"
