"""Names chosen by people, made safe for a log line: no control characters, bounded length."""

from __future__ import annotations

import copy
import logging
import unicodedata

#: Unicode categories escaped: controls (``\n``, ``\r``, ESC), format characters (bidi
#: overrides), surrogates, line and paragraph separators.
ESCAPED = frozenset(("Cc", "Cf", "Cs", "Zl", "Zp"))


def escape(text: str) -> str:
    """``text`` with every escaped character written as ``\\uXXXX``: one line, inert."""
    if text.isprintable():  # the common case, at C speed
        return text
    return "".join(f"\\u{ord(c):04x}" if unicodedata.category(c) in ESCAPED else c for c in text)


def clean(text: object, limit: int = 200) -> str:
    """``text`` with control, format and surrogate characters escaped, cut at ``limit``.

    A name with a newline or an ANSI escape in it could otherwise forge a log line or
    rewrite an operator's terminal."""
    return escape(str(text)[:limit])


class LineFormatter(logging.Formatter):
    """A formatter whose messages stay one line: whatever a name, a topic or an error brought
    into a message is escaped (``escape``) after the arguments are filled in, so a log call
    that forgot ``clean`` cannot forge a line either. Tracebacks are left as Python wrote
    them."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        safe = copy.copy(record)
        safe.message = escape(record.message)
        return super().formatMessage(safe)
