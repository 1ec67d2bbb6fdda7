"""Items keyed by MQTT topic pattern, found by a topic's first two levels (the decode index)."""

from __future__ import annotations

from typing import Generic, TypeVar

from gateway.profiles.topics import TopicPattern

T = TypeVar("T")
_MEMO_MAX = 8192


def _levels(pattern: TopicPattern) -> tuple[int, bool]:
    """(number of '/' in the pattern, whether it ends in '#')."""
    return pattern.pattern.count("/"), pattern.pattern.endswith("#") or pattern.multi


def _fits(levels: tuple[int, bool], depth: int) -> bool:
    slashes, multi = levels
    return depth >= slashes - 1 if multi else depth == slashes


class TopicIndex(Generic[T]):
    """Items keyed by topic pattern, looked up by a topic's first two levels.

    Lookup returns every item whose pattern could match, in the order given; the caller still
    matches the regex. Patterns starting with a wildcard never match ``$`` topics (MQTT 4.7.2).
    """

    def __init__(self, items: list[tuple[TopicPattern, T]]) -> None:
        self._memo: dict[tuple[str, str, int], tuple[T, ...]] = {}
        self._depth = {id(item): _levels(pat) for pat, item in items}
        self._wild = tuple(item for pat, item in items if pat.first is None)
        self._by: dict[str, tuple[dict[str, tuple[T, ...]], tuple[T, ...]]] = {}
        for first in {pat.first for pat, _ in items if pat.first is not None}:
            fits = [
                (pat, item)
                for pat, item in items
                if pat.first == first or (pat.first is None and not first.startswith("$"))
            ]
            seconds = {pat.second for pat, _ in fits if pat.second is not None}
            by_second = {
                second: tuple(item for pat, item in fits if pat.second in (None, second))
                for second in seconds
            }
            others = tuple(item for pat, item in fits if pat.second is None)
            self._by[first] = (by_second, others)

    def lookup(self, topic: str) -> tuple[T, ...]:
        """The candidates for ``topic``, narrowed by its number of levels and memoized per
        (first level, second level, depth): wildcard-first patterns (ESPHome, Shelly) would
        otherwise be tried on every message."""
        first, _, rest = topic.partition("/")
        depth = topic.count("/")
        key = (first, rest.partition("/")[0], depth)
        found = self._memo.get(key)
        if found is None:
            found = tuple(
                item for item in self._lookup(topic) if _fits(self._depth[id(item)], depth)
            )
            if len(self._memo) < _MEMO_MAX:
                self._memo[key] = found
        return found

    def _lookup(self, topic: str) -> tuple[T, ...]:
        first, _, rest = topic.partition("/")
        entry = self._by.get(first)
        if entry is None:
            return () if first.startswith("$") else self._wild
        by_second, others = entry
        if not by_second:
            return others
        return by_second.get(rest.partition("/")[0], others)
