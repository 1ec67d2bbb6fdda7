"""Reading a building file's marked YAML: typed getters whose errors name file, line and field."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, NoReturn

from gateway.building.marked import MarkedDict, MarkedList
from gateway.errors import BuildingError

_BAD_ID_CHARS = ("/", "+", "#")


def show(value: Any) -> str:
    """A value as the YAML author wrote it, for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return repr(value)


class Reader:
    """The file label, for error messages."""

    def __init__(self, label: str) -> None:
        self.label = label

    def fail(self, line: int, path: str, expected: str) -> NoReturn:
        where = f"{path}: " if path else ""
        raise BuildingError(f"{self.label}:{line}: {where}{expected}")

    def mapping(self, value: Any, line: int, path: str, keys: tuple[str, ...]) -> MarkedDict:
        if not isinstance(value, MarkedDict):
            self.fail(
                line, path, f"expected a mapping with keys {', '.join(keys)}, got {show(value)}"
            )
        for key in value:
            if key not in keys:
                self.fail(
                    value.lines[key],
                    f"{path}.{key}" if path else str(key),
                    f"unknown key (expected one of {', '.join(keys)})",
                )
        return value

    def seq(self, m: MarkedDict, key: str, path: str) -> MarkedList:
        value = m.get(key)
        if value is None:
            value = MarkedList()
            value.line, value.lines = m.line, []
        if not isinstance(value, MarkedList):
            self.fail(m.lines[key], join(path, key), f"expected a list, got {show(value)}")
        return value

    def entries(
        self,
        root: MarkedDict,
        key: str,
        keys: tuple[str, ...],
        what: str,
        ident: Callable[[MarkedDict, str], str] | None = None,
    ) -> Iterator[tuple[str, MarkedDict, str]]:
        """Each mapping in the list ``root[key]`` as (its path, it, its id), the ids unique;
        ``ident`` reads the id (default: an id without '/', '+', '#')."""
        items = self.seq(root, key, "")
        seen: set[str] = set()
        for i, value in enumerate(items):
            path = f"{key}[{i}]"
            m = self.mapping(value, items.lines[i], path, keys)
            got = self.ident(m, "id", path) if ident is None else ident(m, path)
            if got in seen:
                self.fail(m.lines["id"], f"{path}.id", f"duplicate {what} id {got!r}")
            seen.add(got)
            yield path, m, got

    def ident(self, m: MarkedDict, key: str, path: str) -> str:
        value = m.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or not value.strip():
            self.missing_or_bad(m, key, path, "expected a non-empty string", value)
        if any(c in value for c in _BAD_ID_CHARS) or value != value.strip():
            self.fail(
                m.lines[key],
                join(path, key),
                f"expected an id without '/', '+', '#' or surrounding spaces, got {value!r}",
            )
        return value

    def text(self, m: MarkedDict, key: str, path: str, default: str | None) -> str | None:
        value = m.get(key)
        if value is None:
            return default
        if not isinstance(value, str) or not value.strip():
            self.missing_or_bad(m, key, path, "expected a non-empty string", value)
        return value

    def missing_or_bad(self, m: MarkedDict, key: str, path: str, expected: str, v: Any) -> NoReturn:
        if key not in m:
            self.fail(m.line, path, f"missing key '{key}' ({expected})")
        self.fail(m.lines[key], join(path, key), f"{expected}, got {show(v)}")


def join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key
