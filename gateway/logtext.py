"""Names chosen by people, made safe for a log line: no control characters, bounded length."""

from __future__ import annotations

import unicodedata


def clean(text: object, limit: int = 200) -> str:
    """``text`` with control, format and surrogate characters escaped, cut at ``limit``.

    A name with a newline or an ANSI escape in it could otherwise forge a log line or
    rewrite an operator's terminal."""
    out = []
    for c in str(text)[:limit]:
        if unicodedata.category(c) in ("Cc", "Cf", "Cs", "Zl", "Zp"):
            out.append(f"\\u{ord(c):04x}")
        else:
            out.append(c)
    return "".join(out)
