"""Name patterns in profiles: ``*`` and ``?`` in payload keys and in topic-level names.

Bridges name things the profile cannot list in full: Tasmota appends an index to a sensor's
name when a device has several (``DS18B20-1``, ``AM2301-12``, ``SHT3X-0x44``), ESPHome users
name their entities freely (``living_pir``), Shelly numbers add-on peripherals from 100
(``temperature:100``). A profile writes such names as patterns: ``*`` stands for any run of
characters, ``?`` for one; everything else is literal (case-sensitive).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any, Generic, TypeVar

T = TypeVar("T")
_MEMO_MAX = 4096  # names remembered per map; a flood of fresh names is matched, not kept


def is_pattern(text: str) -> bool:
    """Whether ``text`` holds a ``*`` or ``?``."""
    return "*" in text or "?" in text


@lru_cache(maxsize=1024)
def compile_pattern(pattern: str) -> re.Pattern[str]:
    """The regex of a ``*``/``?`` pattern; every other character is literal."""
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(f"{body}\\Z", re.DOTALL)


def glob_get(obj: Mapping[str, Any], parts: tuple[str, ...]) -> Any:
    """The value at a dotted path whose parts may be patterns, else None.

    A pattern part takes the first key of the object (in payload order) that matches it and
    leads to a value: ``DS18B20*.Temperature`` reads ``DS18B20-1`` when there are several.
    """
    return _walk(obj, parts, 0)


def glob_all(obj: Mapping[str, Any], parts: tuple[str, ...]) -> list[tuple[str, Any]]:
    """Every (sensor name, value) at a path whose parts may be patterns, in payload order.

    The sensor name is the key a pattern part matched (``DS18B20*.Temperature`` gives
    ``DS18B20-1``, ``params.temperature:*.tC`` gives ``temperature:100``), or the first part
    when no part is a pattern."""
    out: list[tuple[str, Any]] = []
    _walk_all(obj, parts, 0, None, out)
    if out and not any(is_pattern(p) for p in parts):
        out = [(parts[0], out[0][1])]
    return out


def _walk_all(
    cur: Any, parts: tuple[str, ...], i: int, name: str | None, out: list[tuple[str, Any]]
) -> None:
    if cur is None:
        return
    if i == len(parts):
        out.append((name or "", cur))
        return
    part = parts[i]
    if isinstance(cur, dict) and is_pattern(part):
        regex = compile_pattern(part)
        for key, value in cur.items():
            if isinstance(key, str) and regex.match(key):
                _walk_all(value, parts, i + 1, key, out)
        return
    _walk_all(_step(cur, part), parts, i + 1, name, out)


def _walk(cur: Any, parts: tuple[str, ...], i: int) -> Any:
    while i < len(parts):
        part = parts[i]
        if isinstance(cur, dict) and is_pattern(part):
            regex = compile_pattern(part)
            for key, value in cur.items():
                if isinstance(key, str) and regex.match(key):
                    found = _walk(value, parts, i + 1)
                    if found is not None:
                        return found
            return None
        cur = _step(cur, part)
        if cur is None:
            return None
        i += 1
    return cur


def _step(cur: Any, part: str) -> Any:
    """One literal part of a path: a mapping's key or a list's index (None: there is none)."""
    if isinstance(cur, dict):
        return cur.get(part)
    if isinstance(cur, list) and part.isdigit():
        index = int(part)
        return cur[index] if index < len(cur) else None
    return None


class NameMap(Generic[T]):
    """Names to values: an exact name first, then the patterns in the order given."""

    __slots__ = ("exact", "patterns", "_memo")

    def __init__(self, items: Iterable[tuple[str, T]]) -> None:
        self.exact: dict[str, T] = {}
        patterns: list[tuple[str, re.Pattern[str], T]] = []
        for name, value in items:
            if is_pattern(name):
                patterns.append((name, compile_pattern(name), value))
            else:
                self.exact.setdefault(name, value)
        self.patterns = tuple(patterns)
        self._memo: dict[str, tuple[bool, T | None]] = {}

    def find(self, name: str) -> tuple[bool, T | None]:
        """(found, value) for ``name``."""
        if name in self.exact:
            return True, self.exact[name]
        hit = self._memo.get(name)
        if hit is not None:
            return hit
        hit = (False, None)
        for _, regex, value in self.patterns:
            if regex.match(name):
                hit = (True, value)
                break
        if len(self._memo) < _MEMO_MAX:
            self._memo[name] = hit
        return hit

    def names(self) -> list[str]:
        """Every name and pattern, exact names first."""
        return list(self.exact) + [p for p, _, _ in self.patterns]

    def __bool__(self) -> bool:
        return bool(self.exact or self.patterns)
