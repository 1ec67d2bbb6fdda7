"""Credential fields out of kept payloads: a dead letter keeps what a device sent, for diagnosis,
except card numbers, QR payloads and PINs.

A payload that parses as JSON is walked: the value of every credential-named field, at any
depth and of any JSON type (a string, a number, a list of cards), is replaced and the payload
written back as JSON. A payload that does not parse (cut at the dead letter's size limit, or
not quite JSON) is read token by token, so a key in a string is never taken for one, and each
credential-named key's value (a whole list or object too) is replaced where it stands; a value
the cut left unreadable becomes ``"[redacted]"``. Imports nothing of the gateway's.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

#: field names that hold a credential, lower case without ``_``, ``-`` or spaces
CREDENTIAL_KEYS = frozenset(
    {
        "credential", "credentials", "card", "cards", "cardno", "cardnos", "cardnum",
        "cardnumber", "cardnumbers", "cardid", "cardcode", "pin", "pincode", "pinno",
        "passcode", "qr", "qrcode", "badge", "badgeno", "badgeid", "badgenumber",
    }
)  # fmt: skip
REDACTED = "[redacted]"
_SEPARATORS = str.maketrans("", "", "_- ")
# a payload without any of these cannot name a credential field (a \u escape could spell
# one, a NUL byte means UTF-16 or UTF-32 JSON): the usual dead letter costs one search
_HINT = re.compile(rb"(?i)card|credential|pin|passcode|qr|badge|\\u|\x00")
_SCALAR_END = frozenset(",}] \t\r\n")
_UNPARSED: Any = object()


def is_credential_key(name: object) -> bool:
    """True for a field name that holds a credential (``credential``, ``cardNo``,
    ``card-number``, ``pin_code``, ... in any case)."""
    return isinstance(name, str) and name.lower().translate(_SEPARATORS) in CREDENTIAL_KEYS


def scrub_payload(payload: bytes, masked: Callable[[Any], str]) -> bytes:
    """``payload`` with each credential-named field's value replaced by ``masked(value)``;
    the same bytes when it names none."""
    if not _HINT.search(payload):
        return payload
    try:
        obj = json.loads(payload)
    except (ValueError, RecursionError):
        obj = _UNPARSED
    if obj is not _UNPARSED:
        if not _scrub_tree(obj, masked):
            return payload
        try:
            return json.dumps(obj, ensure_ascii=False).encode("utf-8", "backslashreplace")
        except (ValueError, RecursionError):
            pass  # parsed but not writable back: replace in the text instead
    text = payload.decode("utf-8", "surrogateescape")
    out = _scrub_text(text, masked)
    return payload if out is None else out.encode("utf-8", "surrogateescape")


def _scrub_tree(obj: Any, masked: Callable[[Any], str]) -> bool:
    changed = False
    stack = [obj]
    while stack:  # no recursion: a payload nested a thousand deep is walked all the same
        cur = stack.pop()
        if isinstance(cur, dict):
            for k, v in cur.items():
                if v is not None and is_credential_key(k):
                    cur[k] = masked(v)
                    changed = True
                elif isinstance(v, dict | list):
                    stack.append(v)
        elif isinstance(cur, list):
            stack.extend(x for x in cur if isinstance(x, dict | list))
    return changed


def _scrub_text(text: str, masked: Callable[[Any], str]) -> str | None:
    """Token by token: a string followed by ``:`` is a key; a credential key's value (one
    token, or a whole bracketed list or object) is replaced. None when nothing was."""
    n = len(text)
    parts: list[str] = []
    last = i = 0
    while i < n:
        if text[i] != '"':
            i += 1
            continue
        end = _string_end(text, i)
        j = _skip_space(text, end)
        if j < n and text[j] == ":" and is_credential_key(_key(text[i:end])):
            v0 = _skip_space(text, j + 1)
            v1 = _value_end(text, v0)
            if v1 > v0:
                parts += [text[last:v0], json.dumps(_masked_raw(text[v0:v1], masked))]
                last = v1
            i = max(v1, j + 1)
            continue
        i = end
    if not parts:
        return None
    parts.append(text[last:])
    return "".join(parts)


def _string_end(text: str, i: int) -> int:
    """The index after the string starting at ``i`` (its end when it is cut)."""
    j, n = i + 1, len(text)
    while j < n:
        c = text[j]
        if c == "\\":
            j += 2
        elif c == '"':
            return j + 1
        else:
            j += 1
    return n


def _skip_space(text: str, i: int) -> int:
    n = len(text)
    while i < n and text[i] in " \t\r\n":
        i += 1
    return i


def _value_end(text: str, i: int) -> int:
    n = len(text)
    if i >= n:
        return n
    c = text[i]
    if c == '"':
        return _string_end(text, i)
    if c in "[{":
        depth, j = 0, i
        while j < n:
            c = text[j]
            if c == '"':
                j = _string_end(text, j)
                continue
            if c in "[{":
                depth += 1
            elif c in "]}":
                depth -= 1
                if depth == 0:
                    return j + 1
            j += 1
        return n
    j = i
    while j < n and text[j] not in _SCALAR_END:
        j += 1
    return j


def _key(token: str) -> str:
    try:
        key = json.loads(token)
    except ValueError:
        return token.strip('"')
    return key if isinstance(key, str) else ""


def _masked_raw(raw: str, masked: Callable[[Any], str]) -> str:
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        return REDACTED  # cut short or not JSON: nothing of it is kept
    return REDACTED if value is None else masked(value)
