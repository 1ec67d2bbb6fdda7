"""Topic patterns: MQTT wildcards plus named captures (``{name}`` one level, ``{name#}`` more)."""

from __future__ import annotations

import re
from dataclasses import dataclass

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


@dataclass(frozen=True, slots=True)
class TopicPattern:
    """A compiled topic pattern such as ``zigbee2mqtt/{device}`` or ``ref/door/+/event``."""

    pattern: str
    regex: re.Pattern[str]
    filter: str  # the MQTT subscription filter: each ``{name}`` becomes ``+``
    first: str | None  # the literal first level, or None when it is a wildcard
    second: str | None  # the literal second level, or None (wildcard, capture, '#' or absent)
    captures: tuple[str, ...]
    multi: bool = False  # a ``{name#}`` capture spans one or more levels

    def match(self, topic: str) -> dict[str, str] | None:
        """The named captures when ``topic`` matches, else None."""
        m = self.regex.match(topic)
        return None if m is None else m.groupdict()


def compile_topic(pattern: str) -> TopicPattern:
    """Compile a topic pattern; raises ValueError naming the problem."""
    if not pattern:
        raise ValueError("topic pattern is empty")
    levels = pattern.split("/")
    parts: list[str] = []
    filters: list[str] = []
    captures: list[str] = []
    multi = False
    for i, level in enumerate(levels):
        last = i == len(levels) - 1
        if level == "#":
            if not last:
                raise ValueError(f"'#' must be the last level in {pattern!r}")
            # 'a/#' matches 'a' itself too (MQTT 3.1.1 section 4.7.1.2)
            if parts:
                parts[-1] = parts[-1] + "(?:/.*)?"
            else:
                parts.append(".*")
            filters.append("#")
            continue
        if level == "+":
            parts.append("[^/]*")
            filters.append("+")
        elif level.startswith("{") and level.endswith("}"):
            part, spans = _capture(level, pattern, captures, multi)
            multi = multi or spans
            parts.append(part)
            filters.append("#" if spans else "+")
        elif any(c in level for c in "+#{}"):
            raise ValueError(
                f"level {level!r} of {pattern!r} mixes text with a wildcard or capture;"
                " a wildcard or {name} must be a whole level"
            )
        else:
            parts.append(re.escape(level))
            filters.append(level)
    body = "/".join(parts)
    if multi:  # the subscription ends at the spanning capture: '#' covers what follows
        filters = filters[: filters.index("#") + 1]
    first_level = levels[0]
    second_level = levels[1] if len(levels) > 1 else "+"
    return TopicPattern(
        pattern=pattern,
        regex=re.compile(f"^{body}\\Z", re.DOTALL),
        filter="/".join(filters),
        first=first_level if _literal(first_level) else None,
        second=second_level if _literal(second_level) else None,
        captures=tuple(captures),
        multi=multi,
    )


def _capture(level: str, pattern: str, captures: list[str], multi: bool) -> tuple[str, bool]:
    """The regex of one ``{name}`` or ``{name#}`` level and whether it spans levels; adds the
    name to ``captures``."""
    name = level[1:-1]
    spans = name.endswith("#")  # zigbee2mqtt friendly names may contain '/'
    if spans:
        if multi:
            raise ValueError(f"only one {{name#}} capture is allowed in {pattern!r}")
        name = name[:-1]
    if not _NAME.match(name):
        raise ValueError(f"capture {level!r} is not a valid name in {pattern!r}")
    if name in captures:
        raise ValueError(f"capture {level!r} appears twice in {pattern!r}")
    captures.append(name)
    if spans:  # one or more whole levels, none of them empty
        return f"(?P<{name}>[^/]+(?:/[^/]+)*)", True
    return f"(?P<{name}>[^/]+)", False


def _literal(level: str) -> bool:
    return level not in ("+", "#") and not level.startswith("{")
