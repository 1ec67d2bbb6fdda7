"""Value conversion on the hot path: type coercion, scale and offset, maps, timestamps."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from gateway.credential import credential_text, is_credential_key
from gateway.errors import DecodeError
from gateway.events import Value

SourceType = Literal["boolean", "integer", "number", "string"]
TsFormat = Literal["auto", "iso8601", "epoch_s", "epoch_ms"]
MapKey = tuple[bool, Any]

#: What ``FieldSpec.convert`` returns for a value the profile chose to skip.
SKIP: Any = object()

_MAX_SHOWN = 60
_MAX_LISTED = 12
_TRUE_WORDS = frozenset({"true"})
_FALSE_WORDS = frozenset({"false"})
#: Epoch numbers above this are milliseconds (1e11 s is the year 5138).
_MS_THRESHOLD = 1e11
#: Device times outside 1970..9999 are nonsense, not a clock that is a little off.
_MAX_EPOCH = 253402300800.0
#: Quantities whose value is a credential: read whatever its JSON type, never shown in a reason.
CREDENTIAL_QUANTITIES = frozenset({"badge"})


def show(value: Any) -> str:
    """A short, safe rendering of a payload value for a dead-letter reason."""
    text = repr(value)
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 3] + "..."


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "list" if isinstance(value, list) else "object"


def map_key(value: Any) -> MapKey | None:
    """A dict key that keeps ``true`` apart from ``1``; None for unhashable values."""
    if isinstance(value, dict | list):
        return None
    return (value.__class__ is bool, value)


def get_path(obj: Mapping[str, Any], key: str, path: tuple[str, ...] | None) -> Any:
    """The value at ``key`` (or the dotted ``path`` when the literal key is absent), else None.

    A path part that is a number indexes a list (``rxInfo.0.rssi``, written ``rxInfo[0].rssi``).
    """
    value = obj.get(key)
    if value is not None or path is None:
        return value
    cur: Any = obj
    for part in path:
        if isinstance(cur, dict):
            cur = cur.get(part)
        elif isinstance(cur, list) and part.isdigit():
            index = int(part)
            cur = cur[index] if index < len(cur) else None
        else:
            return None
    return cur


def _number(raw: Any) -> float | None:
    """``raw`` as a float, accepting numeric strings; None when it is not a number at all.

    NaN and infinities are not numbers; an integer too big for a float becomes inf, which the
    caller reports as out of range.
    """
    if raw.__class__ is bool:
        return None
    if isinstance(raw, int):
        try:
            return float(raw)
        except OverflowError:
            return math.inf
    if isinstance(raw, float):
        return raw if math.isfinite(raw) else None
    if isinstance(raw, str):
        try:
            num = float(raw.strip())
        except ValueError:
            return None
        return num if math.isfinite(num) else None
    return None


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """How one payload key becomes one reading."""

    label: str  # the payload key as written in the profile (used in reasons)
    key: str
    path: tuple[str, ...] | None  # set for dotted keys
    quantity: str
    out_type: type  # bool, int, float or str (from gateway.events.QUANTITIES)
    source: SourceType
    unit: str | None
    scale: float | None = None
    offset: float | None = None
    minimum: float | None = None
    maximum: float | None = None
    mapping: dict[MapKey, Value] | None = None
    allowed: frozenset[str] | None = None  # enum quantities: door, printer_state, print_job
    required: bool = False
    attrs: tuple[tuple[str, str, tuple[str, ...] | None], ...] = field(default=())
    ts: TimestampSpec | None = None  # the field's own time, when the payload carries one
    skip_unmapped: bool = False  # a value missing from ``map`` gives no reading, not an error
    #: the payload names its unit: (key, path, {unit word: (scale, offset) to canonical});
    #: the word None is the unit of a payload that names none (``unit_from.default``)
    unit_from: tuple[str, tuple[str, ...] | None, dict[str | None, tuple[float, float]]] | None = (
        None
    )

    def fail(self, problem: str) -> DecodeError:
        return DecodeError(f"field {self.label!r}: {problem}")

    def _show(self, raw: Any) -> str:
        """``raw`` for a reason; only its JSON type when the field holds a credential."""
        if self.quantity in CREDENTIAL_QUANTITIES or is_credential_key(self.key):
            return f"a value of type {_json_type(raw)} (a credential, not shown)"
        return show(raw)

    def convert(self, raw: Any, linear: tuple[float, float] | None = None) -> Value:
        """Turn a raw payload value into the canonical value; raises DecodeError.

        ``linear`` is a unit conversion the payload asked for (``unit_from``), applied after
        scale and offset and before the bounds. Returns :data:`SKIP` (no reading) for an
        unmapped value when ``skip_unmapped`` is set.
        """
        if self.mapping is not None:
            key = map_key(raw)
            value = self.mapping.get(key) if key is not None else None
            if value is None:
                if self.skip_unmapped:
                    return SKIP  # type: ignore[no-any-return]
                known = ", ".join(show(k[1]) for k in list(self.mapping)[:_MAX_LISTED])
                raise self.fail(f"unknown value {self._show(raw)} (expected one of {known})")
            return value
        source = self.source
        if source == "boolean":
            return self._boolean(raw)
        if source == "string":
            if not isinstance(raw, str):
                if self.quantity in CREDENTIAL_QUANTITIES:
                    return credential_text(raw)  # a card number sent as a number, a list...
                raise self.fail(f"expected a string, got {self._show(raw)}")
            if self.allowed is not None and raw not in self.allowed:
                known = ", ".join(sorted(self.allowed))
                raise self.fail(f"unknown value {self._show(raw)} (expected one of {known})")
            return raw
        num = _number(raw)
        if num is None:
            kind = "an integer" if source == "integer" else "a number"
            raise self.fail(f"expected {kind}, got {self._show(raw)}")
        if not math.isfinite(num):
            raise self.fail(f"{self._show(raw)} is out of range")
        if source == "integer" and not num.is_integer():
            raise self.fail(f"expected an integer, got {self._show(raw)}")
        if self.scale is not None:
            num = num * self.scale
        if self.offset is not None:
            num = num + self.offset
        if linear is not None:
            num = num * linear[0] + linear[1]
        if not math.isfinite(num):
            raise self.fail(f"{self._show(raw)} is out of range")
        return self._bounded(num)

    def _bounded(self, num: float) -> Value:
        if self.minimum is not None and num < self.minimum:
            raise self.fail(f"{self.quantity} {num:g} below bound {self.minimum:g}")
        if self.maximum is not None and num > self.maximum:
            raise self.fail(f"{self.quantity} {num:g} above bound {self.maximum:g}")
        return round(num) if self.out_type is int else num

    def convert_in(self, raw: Any, obj: Mapping[str, Any]) -> Value:
        """Like :meth:`convert`, for a field whose unit the payload names (``unit_from``)."""
        assert self.unit_from is not None
        key, path, table = self.unit_from
        word = get_path(obj, key, path)
        linear = table.get(word) if isinstance(word, str) or word is None else None
        if linear is None:
            known = ", ".join(sorted(w for w in table if w is not None))
            raise self.fail(f"unknown unit {show(word)} in {key!r} (expected one of {known})")
        return self.convert(raw, linear)

    def _boolean(self, raw: Any) -> bool:
        if raw.__class__ is bool:
            return bool(raw)
        if raw.__class__ is int and raw in (0, 1):
            return raw == 1
        if isinstance(raw, str):
            word = raw.strip().lower()
            if word in _TRUE_WORDS:
                return True
            if word in _FALSE_WORDS:
                return False
        raise self.fail(f"expected a boolean, got {self._show(raw)}")


@dataclass(frozen=True, slots=True)
class TimestampSpec:
    """Where a payload carries its device time and how it is written."""

    key: str
    path: tuple[str, ...] | None
    format: TsFormat = "auto"

    def parse(self, raw: Any) -> float:
        """Epoch seconds (UTC) from an ISO 8601 string with offset or an epoch number."""
        fmt = self.format
        if isinstance(raw, str) and fmt in ("auto", "iso8601"):
            return _iso(self.key, raw)
        num = None if isinstance(raw, str) and fmt == "auto" else _number(raw)
        if num is not None and fmt != "iso8601":
            ts = num
            if fmt == "epoch_ms" or (fmt == "auto" and abs(ts) >= _MS_THRESHOLD):
                ts /= 1000.0
            if not 0.0 <= ts < _MAX_EPOCH:
                raise DecodeError(f"field {self.key!r}: time out of range: {show(raw)}")
            return ts
        expected = {
            "auto": "an ISO 8601 time or epoch seconds/milliseconds",
            "iso8601": "an ISO 8601 time",
            "epoch_s": "epoch seconds",
            "epoch_ms": "epoch milliseconds",
        }[fmt]
        raise DecodeError(f"field {self.key!r}: expected {expected}, got {show(raw)}")


def _iso(key: str, text: str) -> float:
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError as err:
        raise DecodeError(f"field {key!r}: not an ISO 8601 time: {show(text)}") from err
    if when.tzinfo is None:
        raise DecodeError(f"field {key!r}: ISO 8601 time without a UTC offset: {show(text)}")
    try:
        return when.timestamp()
    except (OverflowError, OSError, ValueError) as err:
        raise DecodeError(f"field {key!r}: time out of range: {show(text)}") from err
