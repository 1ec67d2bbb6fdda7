"""What the store can hold, checked on decoded messages before a batch is written."""

from __future__ import annotations

import math
from typing import Any

from gateway.profiles.profile import Decoded
from gateway.store.tables import DeadLetter, Device
from gateway.store.tables import Event as EventRow


def _limit(table: Any, column: str) -> int:
    length = table.__table__.c[column].type.length
    assert isinstance(length, int)
    return length


DEVICE_ID_MAX = _limit(Device, "id")
PROFILE_MAX = _limit(Device, "profile")
QUANTITY_MAX = _limit(EventRow, "quantity")
UNIT_MAX = _limit(EventRow, "unit")
VALUE_TEXT_MAX = _limit(EventRow, "value_text")
DL_DEVICE_MAX = _limit(DeadLetter, "device")
MAX_DEPTH = 32  # nesting of an attribute's JSON value
INT_MAX = 2**63  # integers beyond a signed 64-bit one are refused
TOPIC_KEPT = 1024  # characters of a topic (and of a reason) a dead letter keeps
_CONTROL = {c: f"\\x{c:02x}" for c in (*range(32), 127)}


_names_ok: set[str] = set()  # profile, quantity and unit names found storable (a few dozen)
_NAMES_KEPT = 10_000


def refusal(decoded: Decoded) -> str | None:
    """Why the store could not hold what ``decoded`` says, or None. The reason names the
    field and the problem, never the value (it may be a card number). On the hot path: the
    usual message costs a few type checks per reading."""
    dev = decoded.device
    if not (isinstance(dev, str) and len(dev) <= DEVICE_ID_MAX and dev.isprintable()):
        return f"device id {_text(dev, DEVICE_ID_MAX, ident=True) or 'is not printable'}"
    if decoded.profile not in _names_ok and (why := _name(decoded.profile, PROFILE_MAX)):
        return f"profile name {why}"
    for r in decoded.readings:
        q, v = r.quantity, r.value
        if q not in _names_ok and (why := _name(q, QUANTITY_MAX)):
            return f"quantity name {why}"
        t = type(v)
        if q == "badge":
            pass  # a credential: stored as its hash (64 characters), whatever was read
        elif t is float:
            if not math.isfinite(v):  # type: ignore[arg-type]
                return f"'{q}' value is not a finite number"
        elif t is not bool and (why := _scalar(v)):
            return f"'{q}' value {why}"
        if r.unit is not None and r.unit not in _names_ok and (why := _name(r.unit, UNIT_MAX)):
            return f"'{q}' unit {why}"
        if r.ts is not None and (why := _number(r.ts)):
            return f"'{q}' time {why}"
        if r.attrs:
            for key, a in r.attrs.items():
                if not isinstance(key, str) or _text(key, 256):
                    return f"'{q}' has an attribute name the store cannot hold"
                if type(a) is str and len(a) <= 256 and a.isprintable():
                    continue  # the usual attribute: a member id, a job id
                if why := _json(a, 1):
                    return f"'{q}' attribute {_safe_name(key)!r} {why}"
    return None


def _name(s: str, limit: int) -> str | None:
    """Why a profile, quantity or unit name is not storable; remembered when it is."""
    why = _text(s, limit, ident=True)
    if why is None and len(_names_ok) < _NAMES_KEPT:
        _names_ok.add(s)
    return why


def _scalar(v: object) -> str | None:
    if isinstance(v, str):
        return _text(v, VALUE_TEXT_MAX)
    if isinstance(v, bool):
        return None
    if isinstance(v, int | float):
        return _number(v)
    return f"is a {type(v).__name__}, not a number, boolean or text"


def _number(v: object) -> str | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, int):
        return None if -INT_MAX < v < INT_MAX else "is an integer out of range"
    if isinstance(v, float):
        return None if math.isfinite(v) else "is not a finite number"
    return f"is a {type(v).__name__}, not a number"


def _text(s: str, limit: int, ident: bool = False) -> str | None:
    if not isinstance(s, str):
        return f"is a {type(s).__name__}, not text"
    if len(s) > limit:
        return f"is {len(s)} characters, over the store's {limit}"
    if "\x00" in s:
        return "holds a NUL character"
    if not s.isascii():
        try:
            s.encode("utf-8")
        except UnicodeEncodeError:
            return "holds a lone surrogate (not UTF-8)"
    if ident and any(c in _CONTROL for c in map(ord, s)):
        return "holds a control character"
    return None


def _json(v: object, depth: int) -> str | None:
    """Why ``v`` does not encode as strict JSON the store holds, or None."""
    if v is None or isinstance(v, bool):
        return None
    if isinstance(v, str):
        return _text(v, 1 << 20)
    if isinstance(v, int | float):
        return _number(v)
    if depth >= MAX_DEPTH:
        return f"is nested over {MAX_DEPTH} levels deep"
    if isinstance(v, dict):
        for k, item in v.items():
            if not isinstance(k, str) or _text(k, 1 << 16):
                return "has a key the store cannot hold"
            if why := _json(item, depth + 1):
                return why
        return None
    if isinstance(v, list | tuple):
        for item in v:
            if why := _json(item, depth + 1):
                return why
        return None
    return f"is a {type(v).__name__}, not JSON"


def _safe_name(s: str) -> str:
    return clean_text(s, 64)


def clean_text(s: str, limit: int = TOPIC_KEPT) -> str:
    """``s`` made storable and printable: control characters and NULs escaped, lone
    surrogates replaced, cut to ``limit`` characters (marked)."""
    if len(s) > limit:
        s = s[:limit] + "…"
    if not s.isascii():
        s = s.encode("utf-8", "backslashreplace").decode("utf-8")
    return s.translate(_CONTROL)


def clean_device(device: str | None, limit: int = DL_DEVICE_MAX) -> str | None:
    """A device id (or profile name) a dead letter may name, or None when the store could
    not hold it."""
    if device is None or _text(device, limit, ident=True):
        return None
    return device
